// Reports the gzipped size of the JavaScript a first visit loads — the
// entry (from index.html) and the dashboard route with everything they
// import statically — and fails above the budget (300 KB).
import { readFileSync } from 'node:fs'
import { gzipSync } from 'node:zlib'
import { join, dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { readdirSync } from 'node:fs'

const DIST = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'dist')
const BUDGET = 300 * 1024
const html = readFileSync(join(DIST, 'index.html'), 'utf8')
const entries = [...html.matchAll(/<script[^>]+src="\/([^"]+\.js)"/g)].map((m) => m[1])
const assets = readdirSync(join(DIST, 'assets'))
const routes = ['Dashboard', 'Login'].map((n) => assets.find((f) => f.startsWith(n + '-') && f.endsWith('.js'))).filter(Boolean).map((f) => 'assets/' + f)

function closure(start, seen = new Set()) {
  if (seen.has(start)) return seen
  seen.add(start)
  const src = readFileSync(join(DIST, start), 'utf8')
  // static imports only: `from"./x.js"` and `import"./x.js"`
  for (const m of src.matchAll(/(?:from|import)\s*"(\.\/[^"]+\.js)"/g)) closure(join(dirname(start), m[1]).replace(/\\/g, '/'), seen)
  return seen
}
const gz = (f) => gzipSync(readFileSync(join(DIST, f)), { level: 9 }).length
const report = (label, files) => {
  const list = [...files].map((f) => [f, gz(f)])
  const total = list.reduce((a, [, n]) => a + n, 0)
  console.log(`${label}: ${(total / 1024).toFixed(1)} KB gzipped`)
  for (const [f, n] of list) console.log(`  ${(n / 1024).toFixed(1).padStart(7)} KB  ${f}`)
  return total
}
const first = new Set()
for (const e of entries) closure(e, first)
for (const r of routes) closure(r, first)
const total = report('initial JavaScript (entry + login and dashboard routes)', first)
if (total > BUDGET) {
  console.error(`over the ${BUDGET / 1024} KB budget`)
  process.exit(1)
}
