// End-to-end tests of the dashboard against the real server and a real
// agent, driven by playwright-core on Debian's Chromium.
//
//   npm --prefix web run e2e
//
// Steps: build the UI (vite) and the Go binaries (bin/noba, bin/noba-agent),
// start `bin/noba serve` on a free loopback port with a fresh data directory,
// configure an agent key, start `bin/noba-agent`, run the tests in Chromium,
// and stop everything. Screenshots go to artifacts/e2e/ at the repo root.
//
// Every test fails on a console error, an uncaught page error, a CSP
// violation, or a network answer >= 500. A 4xx answer fails the test unless
// the test expects it (the invalid alert rule answers 400 on purpose), and
// that includes a 404 from /api/: the dashboard checks GET /api/routes and
// never calls a route the server does not implement. All 404s from /api/
// are also listed in the report.
//
// Environment: CHROMIUM (default /usr/bin/chromium), E2E_SKIP_BUILD=1 (reuse
// web/dist and bin/), E2E_ONLY=<substring> (run matching tests),
// E2E_STRICT=0 (a 404 from /api/ only warns), E2E_HEADFUL=1.

import { spawn, spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync, readFileSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve, dirname } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import net from 'node:net'
import http from 'node:http'
import { createHmac } from 'node:crypto'
import { chromium } from 'playwright-core'

const WEB = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const ROOT = resolve(WEB, '..')
const ART = join(ROOT, 'artifacts', 'e2e')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const STRICT = process.env.E2E_STRICT !== '0'
const ADMIN = { user: 'admin', pass: 'E2e-Admin-Pass1!' }
const AGENT_KEY = 'e2e-agent-key-0123456789abcdef'
const AGENT_HOST = 'e2e-agent'

const procs = []
const tmp = mkdtempSync(join(tmpdir(), 'noba-e2e-'))
let baseURL = ''
const missingRoutes = new Set()
let agentBuildError = ''
const results = []

function log(...a) { console.log('[e2e]', ...a) }
function sh(cmd, args, cwd) {
  log('$', cmd, args.join(' '))
  const r = spawnSync(cmd, args, { cwd, stdio: 'inherit', env: process.env })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status})`)
}
function freePort() {
  return new Promise((res, rej) => {
    const s = net.createServer()
    s.listen(0, '127.0.0.1', () => { const p = s.address().port; s.close(() => res(p)) })
    s.on('error', rej)
  })
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

async function waitFor(what, fn, ms = 30000, every = 250) {
  const end = Date.now() + ms
  let last
  while (Date.now() < end) {
    try { const v = await fn(); if (v) return v } catch (e) { last = e }
    await sleep(every)
  }
  throw new Error(`timed out waiting for ${what}${last ? ': ' + last.message : ''}`)
}

async function api(method, path, token, body) {
  const res = await fetch(baseURL + path, {
    method,
    headers: { ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(body ? { 'Content-Type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  let json = null
  try { json = JSON.parse(text) } catch { /* not JSON */ }
  return { status: res.status, json, text }
}

function start(name, cmd, args, env) {
  const logFile = join(tmp, `${name}.log`)
  const out = []
  const p = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  p.stdout.on('data', (d) => out.push(d))
  p.stderr.on('data', (d) => out.push(d))
  p.on('exit', (code, sig) => { writeFileSync(logFile, Buffer.concat(out)); if (!p.stopping) log(`${name} exited (${code ?? sig})`) })
  p.logs = () => Buffer.concat(out).toString()
  procs.push(p)
  return p
}

async function stopAll() {
  for (const p of procs.reverse()) {
    if (p.exitCode != null) continue
    p.stopping = true
    p.kill('SIGTERM')
    await Promise.race([new Promise((r) => p.on('exit', r)), sleep(10000)])
    if (p.exitCode == null) p.kill('SIGKILL')
  }
}

// ---------------------------------------------------------------- setup

async function setup() {
  mkdirSync(ART, { recursive: true })
  if (process.env.E2E_SKIP_BUILD !== '1') {
    sh('npx', ['vite', 'build', '--logLevel', 'warn'], WEB)
    sh('go', ['build', '-o', 'bin/', './cmd/noba'], ROOT)
    // The agent is built on its own: when it does not build, the server
    // tests still run and the agent tests fail with that reason.
    rmSync(join(ROOT, 'bin', 'noba-agent'), { force: true })
    try { sh('go', ['build', '-o', 'bin/', './cmd/noba-agent'], ROOT) } catch (e) { agentBuildError = e.message }
  }
  if (!existsSync(join(ROOT, 'bin', 'noba'))) throw new Error('bin/noba is missing: go build -o bin/ ./cmd/... failed?')
  const port = await freePort()
  baseURL = `http://127.0.0.1:${port}`
  const server = start('server', join(ROOT, 'bin', 'noba'), ['serve'], {
    NOBA_LISTEN: `127.0.0.1:${port}`,
    NOBA_DATA_DIR: join(tmp, 'data'),
    NOBA_ADMIN_USER: ADMIN.user,
    NOBA_ADMIN_PASSWORD: ADMIN.pass,
  })
  await waitFor('the server (GET /api/health)', async () => (await api('GET', '/api/health')).status === 200, 30000)
  log('server up at', baseURL)
  const login = await api('POST', '/api/login', null, { username: ADMIN.user, password: ADMIN.pass })
  if (!login.json?.token) throw new Error(`admin login failed: ${login.status} ${login.text}\n${server.logs()}`)
  const token = login.json.token
  const set = await api('POST', '/api/settings', token, { agentKeys: AGENT_KEY })
  if (set.status !== 200) throw new Error(`setting agentKeys failed: ${set.status} ${set.text}`)
  const agentBin = join(ROOT, 'bin', 'noba-agent')
  if (existsSync(agentBin)) {
    start('agent', agentBin, ['--server', baseURL, '--key', AGENT_KEY, '--hostname', AGENT_HOST, '--interval', '5',
      '--config', join(tmp, 'agent.yaml'), '--data-dir', join(tmp, 'agent')], {})
  } else {
    log('bin/noba-agent is missing: the agent tests will fail')
  }
  return token
}

// ---------------------------------------------------------------- harness

let browser
async function newPage(t) {
  const page = await browser.newPage({ viewport: t.viewport || { width: 1366, height: 900 }, colorScheme: t.colorScheme || 'dark' })
  const problems = []
  const expected = t.expect4xx || []
  page.on('console', (m) => {
    if (process.env.E2E_DEBUG) log(`  [console.${m.type()}] ${m.text()}`)
    if (m.type() !== 'error') return
    const text = m.text()
    if (/Failed to load resource/.test(text)) return // judged by the response listener below
    problems.push(`console error: ${text}`)
  })
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`))
  page.on('response', (r) => {
    const u = new URL(r.url())
    if (process.env.E2E_DEBUG) log(`  [${r.status()}] ${r.request().method()} ${u.pathname}${u.search}`)
    const st = r.status()
    if (st >= 500) problems.push(`HTTP ${st} from ${r.request().method()} ${u.pathname}`)
    else if (st >= 400) {
      const key = `${r.request().method()} ${u.pathname}`
      if (expected.some((e) => e.status === st && key.startsWith(e.route))) return
      if (st === 404 && u.pathname.startsWith('/api/')) { missingRoutes.add(key); if (STRICT) problems.push(`HTTP 404 from ${key}`); return }
      problems.push(`unexpected HTTP ${st} from ${key}`)
    }
  })
  page.jsSizes = []
  page.on('requestfinished', (r) => {
    if (r.resourceType() !== 'script') return
    page.jsSizes.push(r.url())
  })
  page.on('requestfailed', (r) => {
    const f = r.failure()?.errorText || ''
    if (/ERR_ABORTED/.test(f)) return // navigation away, closed streams
    if ((t.allowFailed || []).some((p) => new URL(r.url()).pathname.startsWith(p))) return
    problems.push(`request failed: ${r.url()} ${f}`)
  })
  return { page, problems }
}

async function signIn(page, user = ADMIN.user, pass = ADMIN.pass) {
  await page.goto(baseURL + '/login')
  await page.fill('input[name=username]', user)
  await page.fill('input[name=password]', pass)
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-testid=who]', { timeout: 15000 })
}

async function waitAgentOnline(token) {
  if (!existsSync(join(ROOT, 'bin', 'noba-agent'))) throw new Error(`bin/noba-agent is missing (${agentBuildError || 'cmd/noba-agent not built'}): this test needs a real agent`)
  return waitFor(`agent ${AGENT_HOST} online with its WebSocket`, async () => {
    const r = await api('GET', '/api/agents', token)
    const a = Array.isArray(r.json) ? r.json.find((x) => x.hostname === AGENT_HOST) : null
    return a && a.online ? a : null
  }, 40000, 500)
}

// RFC 6238 TOTP (SHA-1, 6 digits, 30 s), for the 2FA login test.
function totp(secret, at = Date.now() / 1000) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alpha.indexOf(c).toString(2).padStart(5, '0')
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)))
  const msg = Buffer.alloc(8)
  msg.writeBigUInt64BE(BigInt(Math.floor(at / 30)))
  const h = createHmac('sha1', key).update(msg).digest()
  const o = h[h.length - 1] & 15
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1e6).padStart(6, '0')
}

async function createUser(token, username, password, role) {
  const r = await api('POST', '/api/admin/users', token, { action: 'add', username, password, role })
  if (r.status !== 200) throw new Error(`creating ${username}: ${r.status} ${r.text}`)
}

const tests = []
const test = (name, opts, fn) => tests.push({ name, ...(typeof opts === 'function' ? { fn: opts } : { ...opts, fn }) })

// ---------------------------------------------------------------- tests

test('login: wrong password shows the error, right one opens the dashboard', { expect4xx: [{ status: 401, route: 'POST /api/login' }] }, async ({ page }) => {
  await page.goto(baseURL + '/agents')
  await page.waitForURL(/\/login\?next=(%2F|\/)agents/)
  await page.fill('input[name=username]', ADMIN.user)
  await page.fill('input[name=password]', 'wrong-password')
  await page.click('button[type=submit]')
  const err = await page.waitForSelector('[data-testid=login-error]')
  const text = await err.innerText()
  if (!/Invalid credentials/i.test(text)) throw new Error(`login error shows ${JSON.stringify(text)}, want "Invalid credentials"`)
  await page.fill('input[name=password]', ADMIN.pass)
  await page.click('button[type=submit]')
  await page.waitForURL(/\/agents$/)
  const who = await page.innerText('[data-testid=who]')
  if (who !== ADMIN.user) throw new Error(`signed in as ${who}, want ${ADMIN.user}`)
})

test('overview: a live value updates within 10 s over SSE', async ({ page }) => {
  await signIn(page)
  await page.waitForSelector('[data-testid=cpu-value]', { timeout: 15000 })
  await page.waitForSelector('[data-testid=live][data-mode=sse]', { timeout: 10000 })
  const first = await page.getAttribute('[data-testid=data-age]', 'data-received')
  const t0 = Date.now()
  await page.waitForFunction((f) => document.querySelector('[data-testid=data-age]')?.getAttribute('data-received') !== f, first, { timeout: 10000 })
  const took = Date.now() - t0
  const cpu = await page.innerText('[data-testid=cpu-value]')
  if (!/^\d+(\.\d)?%$/.test(cpu)) throw new Error(`CPU card shows ${JSON.stringify(cpu)}, want a percentage`)
  log(`  live snapshot arrived after ${took} ms; CPU ${cpu}`)
})

test('size: a first visit (login, then dashboard) transfers at most 300 KB of JavaScript', async ({ page }) => {
  page.jsSizes = []
  await signIn(page)
  await page.waitForSelector('[data-testid=cpu-value]', { timeout: 15000 })
  await page.waitForLoadState('networkidle').catch(() => {})
  // What the server sends for each script the browser loaded (gzip, as
  // the browser asks for it), measured outside the browser's caches.
  const sizes = await Promise.all([...new Set(page.jsSizes)].map(async (url) => {
    const bytes = await new Promise((res, rej) => {
      http.get(url, { headers: { 'Accept-Encoding': 'gzip' } }, (r) => {
        let n = 0
        r.on('data', (d) => { n += d.length })
        r.on('end', () => res(n))
      }).on('error', rej)
    })
    return { url, bytes }
  }))
  const kb = sizes.reduce((a, z) => a + z.bytes, 0) / 1024
  for (const z of sizes) log(`    ${(z.bytes / 1024).toFixed(1).padStart(6)} KB ${new URL(z.url).pathname}`)
  log(`  JavaScript transferred (gzip) for login + dashboard: ${kb.toFixed(1)} KB`)
  if (!(kb > 10)) throw new Error(`measured ${kb.toFixed(1)} KB: the measurement missed the bundle`)
  if (kb > 300) throw new Error(`${kb.toFixed(1)} KB of JavaScript, over the 300 KB budget`)
})

test('admin: add a user', async ({ page }) => {
  await signIn(page)
  await page.goto(baseURL + '/settings/users')
  await page.waitForSelector('[data-testid=users-table]')
  await page.fill('input[name=new-username]', 'e2e-viewer')
  await page.fill('input[name=new-password]', 'Viewer-Pass-2!')
  await page.selectOption('select[name=new-role]', 'operator')
  await page.click('[data-testid=add-user] button[type=submit]')
  await page.waitForSelector('[data-user="e2e-viewer"]', { timeout: 10000 })
  const row = await page.innerText('[data-user="e2e-viewer"]')
  if (!/operator/.test(row)) throw new Error(`new user row reads ${JSON.stringify(row)}, want role operator`)
})

test('alerts: an invalid condition shows the server message, a valid one is saved', { expect4xx: [{ status: 400, route: 'POST /api/alert-rules' }] }, async ({ page }) => {
  await signIn(page)
  await page.goto(baseURL + '/alerts?new=1')
  await page.waitForSelector('[data-testid=rule-form]')
  await page.fill('input[name=condition]', 'cpuPercent >')
  await page.click('[data-testid=rule-form] button[type=submit]')
  const err = await page.waitForSelector('[data-testid=rule-error]')
  const msg = await err.innerText()
  if (!/Invalid condition fragment/.test(msg)) throw new Error(`rule error reads ${JSON.stringify(msg)}, want the server's "Invalid condition fragment…"`)
  await page.screenshot({ path: join(ART, 'alerts-invalid-condition.png') })
  await page.fill('input[name=condition]', 'cpuPercent > 1000')
  await page.fill('input[name=message]', 'e2e rule')
  await page.click('[data-testid=rule-form] button[type=submit]')
  await page.waitForSelector('[data-testid=rule-info]')
  await page.waitForFunction(() => /cpuPercent > 1000/.test(document.querySelector('[data-testid=rules-table]')?.textContent || ''), null, { timeout: 10000 })
})

test('alerts: a firing rule shows in the notification bell, mark-all-read clears it', async ({ page, token }) => {
  const rule = await api('POST', '/api/alert-rules', token, { id: 'e2e-always', condition: 'cpuPercent >= 0', severity: 'warning', message: 'e2e always fires' })
  if (rule.status !== 200) throw new Error(`creating the rule: ${rule.status} ${rule.text}`)
  try {
    const n = await waitFor('an in-app notification from the rule', async () => {
      const r = await api('GET', '/api/notifications', token)
      return r.json?.unread_count > 0 ? r.json.unread_count : 0
    }, 30000, 1000)
    await signIn(page)
    const badge = await page.waitForSelector('[data-testid=unread-count]', { timeout: 10000 })
    const shown = await badge.innerText()
    if (shown !== String(Math.min(n, 99)) && shown !== '99+') throw new Error(`bell shows ${shown}, API says ${n} unread`)
    await page.click('[data-testid=bell]')
    await page.waitForSelector('.notif .item.unread')
    await page.screenshot({ path: join(ART, 'notifications.png') })
    await page.click('.notif button:has-text("Mark all read")')
    await page.waitForSelector('[data-testid=unread-count]', { state: 'detached', timeout: 10000 })
  } finally {
    await api('DELETE', '/api/alert-rules/e2e-always', token)
  }
})

test('agents: run a command on a real agent and see its result', async ({ page, token }) => {
  await waitAgentOnline(token)
  await signIn(page)
  await page.goto(`${baseURL}/agents/${AGENT_HOST}?tab=commands`)
  await page.click('[data-cmd=exec]')
  await page.fill('input[name=command]', 'echo noba-e2e-command-ok')
  await page.click('[data-testid=run-command]')
  const res = await page.waitForSelector('[data-testid=command-result][data-status=ok]', { timeout: 30000 })
  const out = await res.innerText()
  if (!out.includes('noba-e2e-command-ok')) throw new Error(`command result reads ${JSON.stringify(out)}, want the echo`)
})

test('agents: a terminal echoes', async ({ page, token }) => {
  await waitAgentOnline(token)
  await signIn(page)
  await page.goto(`${baseURL}/agents/${AGENT_HOST}?tab=terminal`)
  await page.waitForSelector('[data-testid=term-status]:text("open")', { timeout: 20000 })
  await page.click('[data-testid=terminal]')
  await page.keyboard.type('echo noba-term-$((6*7))')
  await page.keyboard.press('Enter')
  await page.waitForFunction(() => /noba-term-42/.test(document.querySelector('.xterm-rows')?.textContent || ''), null, { timeout: 15000 })
})

test('agents: send a file to the agent and read it back with a command', async ({ page, token }) => {
  await waitAgentOnline(token)
  await signIn(page)
  const dest = `/tmp/noba-e2e-${Date.now()}.txt`
  await page.goto(`${baseURL}/agents/${AGENT_HOST}?tab=files`)
  await page.setInputFiles('input[name=push-file]', { name: 'hello.txt', mimeType: 'text/plain', buffer: Buffer.from('noba-e2e-file-content\n') })
  await page.fill('input[name=push-path]', dest)
  await page.click('[data-testid=push-file]')
  const msg = await (await page.waitForSelector('[data-testid=file-msg]')).innerText()
  if (!/Queued: transfer/.test(msg)) throw new Error(`file push says ${JSON.stringify(msg)}`)
  await page.goto(`${baseURL}/agents/${AGENT_HOST}?tab=commands`)
  await page.click('[aria-label="Command palette"] button[role=tab]:has-text("Files")')
  await page.click('[data-cmd=file_read]')
  await page.fill('input[name=path]', dest)
  // The push is asynchronous: retry the read until the file is there.
  await waitFor('the pushed file on the agent', async () => {
    await page.click('[data-testid=run-command]')
    const el = await page.waitForSelector('[data-testid=command-result]:not([data-status=waiting])', { timeout: 20000 })
    const ok = /noba-e2e-file-content/.test(await el.innerText())
    if (!ok) await page.evaluate(() => document.querySelectorAll('[data-testid=command-result]').forEach((e) => e.remove()))
    return ok
  }, 30000, 1000)
})

test('agents: a live log stream starts, delivers lines and stops', async ({ page, token }) => {
  await waitAgentOnline(token)
  await signIn(page)
  await page.goto(`${baseURL}/agents/${AGENT_HOST}?tab=logs`)
  await page.click('button:has-text("Start live tail")')
  await page.waitForSelector('[data-testid=stream-state][data-active=true]', { timeout: 10000 })
  // journalctl prints at least a line (entries, or that there are none)
  await page.waitForFunction(() => Number(document.querySelector('[data-testid=stream-state]')?.getAttribute('data-lines')) > 0, null, { timeout: 20000 })
  await page.screenshot({ path: join(ART, 'agent-log-stream.png') })
  await page.click('button:has-text("Stop")')
  await page.waitForSelector('[data-testid=stream-state][data-active=false]', { timeout: 10000 })
})

test('monitoring: add a status component, open, update and resolve an incident', async ({ page }) => {
  await signIn(page)
  await page.goto(baseURL + '/monitoring/status')
  await page.fill('input[name=comp-name]', 'E2E API')
  await page.click('[data-testid=add-component] button')
  await page.waitForSelector('[data-component="E2E API"]')
  await page.fill('input[name=inc-title]', 'E2E outage')
  await page.fill('input[name=inc-message]', 'Looking into it')
  await page.click('[data-testid=open-incident] button')
  const inc = '[data-incident="E2E outage"]'
  await page.waitForSelector(inc)
  await page.fill(`${inc} input[aria-label="Update message"]`, 'Found the cause')
  await page.click(`${inc} button:has-text("Post")`)
  await page.waitForSelector(`${inc} :text("Found the cause")`)
  await page.click(`${inc} button:has-text("Resolve")`)
  await page.waitForSelector(`${inc} .badge:text("resolved")`)
  await page.screenshot({ path: join(ART, 'monitoring-status.png'), fullPage: true })
})

test('history: overlay two metrics, zoom by dragging, export CSV', async ({ page, token }) => {
  // The chart needs two one-minute buckets of each metric; on a server that
  // started moments ago they are not there yet, so wait for them first.
  const deadline = Date.now() + 150000
  for (;;) {
    const r = await api('GET', '/api/history/multi?metrics=cpu_percent,mem_percent&range=1&resolution=60', token)
    const n = (m) => (Array.isArray(r.json?.[m]) ? r.json[m].filter((p) => p.value != null).length : 0)
    if (n('cpu_percent') >= 2 && n('mem_percent') >= 2) break
    if (Date.now() > deadline) throw new Error(`history never had two buckets of each metric: ${r.status} ${r.text.slice(0, 200)}`)
    await new Promise((res) => setTimeout(res, 2000))
  }
  await signIn(page)
  await page.goto(baseURL + '/history?metrics=cpu_percent,mem_percent&range=1')
  await page.waitForFunction(() => document.querySelectorAll('.chart path.line').length === 2, null, { timeout: 15000 })
  const svg = await page.locator('.chart svg').boundingBox()
  await page.mouse.move(svg.x + svg.width * 0.3, svg.y + svg.height / 2)
  await page.mouse.down()
  await page.mouse.move(svg.x + svg.width * 0.7, svg.y + svg.height / 2, { steps: 5 })
  await page.mouse.up()
  await page.waitForSelector('button:has-text("Reset zoom")')
  await page.screenshot({ path: join(ART, 'history-zoomed.png') })
  const [dl] = await Promise.all([page.waitForEvent('download'), page.click('button:has-text("cpu_percent") >> nth=-1')])
  const file = join(tmp, 'export.csv')
  await dl.saveAs(file)
  const csv = readFileSync(file, 'utf8')
  if (!csv.startsWith('timestamp_unix,datetime,value\n') || csv.split('\n').length < 2) throw new Error(`CSV starts ${JSON.stringify(csv.slice(0, 80))}`)
  if (!/^noba-cpu_percent-1h\.csv$/.test(dl.suggestedFilename())) throw new Error(`CSV file name ${dl.suggestedFilename()}`)
})

test('settings: secrets read as *** and survive saving other settings', async ({ page, token }) => {
  const set = await api('POST', '/api/settings', token, { piholeToken: 'e2e-secret-value' })
  if (set.status !== 200) throw new Error(`setting the secret: ${set.status} ${set.text}`)
  await signIn(page)
  await page.goto(baseURL + '/settings/general')
  await page.fill('input[aria-label="Filter settings"]', 'pihole')
  const secret = page.locator('input[name=setting-piholeToken]')
  if ((await secret.getAttribute('type')) !== 'password' || (await secret.inputValue()) !== '***') throw new Error(`piholeToken input: type ${await secret.getAttribute('type')} value ${await secret.inputValue()}`)
  if ((await page.content()).includes('e2e-secret-value')) throw new Error('the secret reached the page')
  await page.fill('input[name=setting-piholeUrl]', 'http://pihole.e2e.lan')
  await page.click('button:has-text("Save 1 change")')
  await page.waitForSelector('[data-testid=settings-msg]')
  const after = await api('GET', '/api/settings', token)
  if (after.json?.piholeUrl !== 'http://pihole.e2e.lan' || after.json?.piholeToken !== '***') throw new Error(`after save: piholeUrl ${after.json?.piholeUrl}, piholeToken ${after.json?.piholeToken}`)
})

test('profile: change the password, then sign in with the new one', async ({ page, token }) => {
  await createUser(token, 'e2e-pw', 'First-Pass-5!', 'viewer')
  await signIn(page, 'e2e-pw', 'First-Pass-5!')
  await page.goto(baseURL + '/profile')
  await page.fill('input[autocomplete=current-password]', 'First-Pass-5!')
  await page.fill('input[autocomplete=new-password] >> nth=0', 'Second-Pass-6!')
  await page.fill('input[autocomplete=new-password] >> nth=1', 'Second-Pass-6!')
  await page.click('button:has-text("Change password")')
  await page.waitForSelector('.ok-msg:has-text("Password changed")')
  await page.click('[data-testid=user-menu]')
  await page.click('.dropdown button:has-text("Sign out")')
  await page.waitForURL(/\/login/)
  await signIn(page, 'e2e-pw', 'Second-Pass-6!')
})

for (const theme of ['light', 'dark']) {
  test(`tour: every page renders without console errors or CSP violations (${theme} theme)`, { colorScheme: theme }, async ({ page }) => {
    await signIn(page)
    await page.evaluate((t) => localStorage.setItem('noba.theme', t), theme)
    const pages = ['/', '/history?metrics=cpu_percent,mem_percent&range=1', '/agents', `/agents/${AGENT_HOST}`, '/alerts', '/alerts?tab=history',
      '/monitoring/endpoints', '/monitoring/sla', '/monitoring/incidents', '/monitoring/status', '/settings/general', '/settings/users', '/settings/sessions',
      '/settings/api-keys', '/settings/ssh-keys', '/settings/audit', '/profile', '/infrastructure', '/infrastructure/interfaces', '/infrastructure/ports', '/infrastructure/devices', '/infrastructure/topology', '/automations', '/automations?tab=history', '/automations?tab=approvals', '/automations?tab=maintenance', '/logs', '/logs?src=syserr', '/healing', '/healing?tab=trust', '/healing?tab=chaos', '/security', '/no-such-page']
    for (const p of theme === 'light' ? pages : pages.slice(0, 6)) {
      await page.goto(baseURL + p)
      await page.waitForSelector('main h1', { timeout: 10000 })
      const applied = await page.evaluate(() => document.documentElement.getAttribute('data-theme'))
      if (applied !== theme) throw new Error(`theme ${applied}, want ${theme}`)
      await page.waitForLoadState('networkidle').catch(() => {})
      await sleep(300)
      await page.screenshot({ path: join(ART, `page-${p.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '') || 'dashboard'}-${theme}.png`), fullPage: true })
    }
    if (theme === 'light') {
      await page.keyboard.press('Control+k')
      await page.waitForSelector('.palette input')
      await page.keyboard.type('users')
      await page.screenshot({ path: join(ART, 'palette.png') })
      await page.keyboard.press('Enter')
      await page.waitForURL(/\/settings\/users/)
    }
  })
}

test('routes: what GET /api/routes does not list is neither shown nor called', async ({ page, token }) => {
  const real = await api('GET', '/api/routes', token)
  if (real.status !== 200 || !Array.isArray(real.json)) throw new Error(`GET /api/routes: ${real.status} ${real.text.slice(0, 200)}`)
  // The server's own table: a section none of whose routes exist is not in the sidebar.
  await signIn(page)
  const nav = await page.innerText('nav.nav')
  const hasHealing = real.json.some((r) => r.startsWith('GET /api/healing/'))
  if (hasHealing !== /\bHealing\b/.test(nav)) throw new Error(`server ${hasHealing ? 'has' : 'lacks'} healing routes but the sidebar reads ${JSON.stringify(nav)}`)
  await page.goto(baseURL + '/login')
  await page.evaluate(() => localStorage.clear())
  // A table without the alert rules and endpoint monitors: the pages show
  // "not available" and never send those calls.
  const hidden = (r) => /^(GET|POST|PUT|DELETE) \/api\/(alert-rules|endpoints)\b/.test(r)
  await page.route('**/api/routes', async (r) => {
    const res = await r.fetch()
    await r.fulfill({ response: res, json: (await res.json()).filter((x) => !hidden(x)) })
  })
  const sent = []
  page.on('request', (r) => { const u = new URL(r.url()); if (/^\/api\/(alert-rules|endpoints)\b/.test(u.pathname)) sent.push(`${r.method()} ${u.pathname}`) })
  await signIn(page)
  await page.goto(baseURL + '/alerts')
  await page.waitForSelector('main .state:has-text("not available on this server")', { timeout: 10000 })
  if (await page.isVisible('button:has-text("New rule")')) throw new Error('"New rule" is shown although POST /api/alert-rules is absent')
  await page.goto(baseURL + '/monitoring')
  await page.waitForSelector('main h1')
  const tabs = await page.innerText('main .tabs')
  if (/Endpoints/.test(tabs)) throw new Error(`Monitoring shows the Endpoints tab without GET /api/endpoints: ${tabs}`)
  await page.goto(baseURL + '/monitoring/endpoints')
  await page.waitForSelector('main .state:has-text("not available on this server")', { timeout: 10000 })
  await page.screenshot({ path: join(ART, 'routes-absent.png') })
  await page.waitForLoadState('networkidle').catch(() => {})
  if (sent.length) throw new Error(`the pages called routes absent from /api/routes: ${sent.join(', ')}`)
})

test('overview: without the stream the Live indicator turns amber and polling keeps values fresh', { allowFailed: ['/api/stream'] }, async ({ page }) => {
  await page.route('**/api/stream**', (r) => r.abort('failed'))
  await signIn(page)
  await page.waitForSelector('[data-testid=live][data-mode=poll]', { timeout: 12000 })
  const first = await page.getAttribute('[data-testid=data-age]', 'data-received')
  await page.waitForFunction((f) => document.querySelector('[data-testid=data-age]')?.getAttribute('data-received') !== f, first, { timeout: 10000 })
  await page.screenshot({ path: join(ART, 'live-polling.png') })
})

test('login: an account with 2FA gets the TOTP step', { expect4xx: [{ status: 401, route: 'POST /api/login' }] }, async ({ page, token }) => {
  await createUser(token, 'e2e-2fa', 'Twofa-Pass-3!', 'viewer')
  const l = await api('POST', '/api/login', null, { username: 'e2e-2fa', password: 'Twofa-Pass-3!' })
  const setup = await api('POST', '/api/auth/totp/setup', l.json.token)
  if (!setup.json?.secret) throw new Error(`totp setup: ${setup.status} ${setup.text}`)
  const en = await api('POST', '/api/auth/totp/enable', l.json.token, { secret: setup.json.secret, code: totp(setup.json.secret) })
  if (en.status !== 200) throw new Error(`totp enable: ${en.status} ${en.text}`)
  await page.goto(baseURL + '/login')
  await page.fill('input[name=username]', 'e2e-2fa')
  await page.fill('input[name=password]', 'Twofa-Pass-3!')
  await page.click('button[type=submit]')
  await page.waitForSelector('input[name=totp]')
  await page.fill('input[name=totp]', '000000')
  await page.click('button[type=submit]')
  const err = await page.waitForSelector('[data-testid=login-error]')
  if (!/2FA|code/i.test(await err.innerText())) throw new Error(`wrong code shows ${JSON.stringify(await err.innerText())}`)
  await page.screenshot({ path: join(ART, 'login-totp-step.png') })
  await page.fill('input[name=totp]', totp(setup.json.secret, Date.now() / 1000 + 30)) // next step: the enable call used this one
  await page.click('button[type=submit]')
  await page.waitForSelector('[data-testid=who]', { timeout: 15000 })
})

test('roles: a viewer sees no controls it may not use', async ({ page, token }) => {
  await createUser(token, 'e2e-ro', 'Viewer-Pass-4!', 'viewer')
  await signIn(page, 'e2e-ro', 'Viewer-Pass-4!')
  const navText = await page.innerText('nav.nav')
  if (/\bLogs\b/.test(navText)) throw new Error('a viewer sees the Logs section (operator only)')
  await page.goto(baseURL + '/agents')
  await page.waitForSelector('main h1')
  await page.waitForLoadState('networkidle').catch(() => {})
  for (const sel of ['[data-testid=run-command]', 'text=Run a command', 'button:has-text("Deploy")', 'button:has-text("Remove")', 'a:has-text("Terminal")']) {
    if (await page.isVisible(sel)) throw new Error(`a viewer sees ${sel} on /agents`)
  }
  await page.goto(baseURL + '/alerts')
  await page.waitForSelector('main h1')
  if (await page.isVisible('button:has-text("New rule")')) throw new Error('a viewer sees "New rule"')
  await page.goto(baseURL + '/settings/users')
  await page.waitForSelector('main h1')
  if (await page.isVisible('[data-testid=add-user]')) throw new Error('a viewer sees the add-user form')
  const tabs = await page.innerText('.tabs')
  if (/Users|Audit/.test(tabs)) throw new Error(`a viewer sees admin tabs: ${tabs}`)
  await page.screenshot({ path: join(ART, 'viewer-settings.png') })
})

test('phone layout: bottom navigation and sliding sidebar', { viewport: { width: 390, height: 844 } }, async ({ page }) => {
  await signIn(page)
  const bottom = await page.isVisible('.bottomnav')
  if (!bottom) throw new Error('bottom navigation is not visible on a phone')
  await page.screenshot({ path: join(ART, 'phone-dashboard.png'), fullPage: true })
  await page.click('button[aria-label="Toggle sidebar"]')
  await page.waitForSelector('.shell.open')
  await sleep(400) // the slide-in transition
  const box = await page.locator('.sidebar').boundingBox()
  if (!box || box.x < -1 || box.width < 200) throw new Error(`sidebar did not slide in: ${JSON.stringify(box)}`)
  await page.screenshot({ path: join(ART, 'phone-sidebar.png') })
})

test('login: the lockout message counts down (last: it locks this IP out)', { last: true, expect4xx: [{ status: 401, route: 'POST /api/login' }, { status: 429, route: 'POST /api/login' }] }, async ({ page }) => {
  await page.goto(baseURL + '/login')
  await page.fill('input[name=username]', 'nobody')
  for (let i = 0; i < 8; i++) {
    await page.fill('input[name=password]', `wrong-${i}`)
    await page.click('button[type=submit]')
    await page.waitForSelector('[data-testid=login-error], [data-testid=lockout]')
    if (await page.isVisible('[data-testid=lockout]')) break
  }
  const a = await page.innerText('[data-testid=lockout]')
  const n1 = parseInt(/(\d+) s/.exec(a)?.[1] || 'NaN', 10)
  if (!(n1 > 0 && n1 <= 300)) throw new Error(`lockout reads ${JSON.stringify(a)}, want seconds left`)
  await sleep(2200)
  const n2 = parseInt(/(\d+) s/.exec(await page.innerText('[data-testid=lockout]'))?.[1] || 'NaN', 10)
  if (!(n2 < n1)) throw new Error(`lockout did not count down: ${n1} then ${n2}`)
  if (!(await page.isDisabled('button[type=submit]'))) throw new Error('sign-in button is enabled during the lockout')
  await page.screenshot({ path: join(ART, 'login-lockout.png') })
})

// ---------------------------------------------------------------- suites

// Each page group keeps its tests in e2e/suites/<name>.mjs, whose default
// export receives the harness: register(h) calls h.test(name, opts, fn) as
// the tests above do. Tests marked { last: true } run after every suite.
async function loadSuites() {
  const dir = join(WEB, 'e2e', 'suites')
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort() : []
  const h = {
    test, api, signIn, createUser, waitFor, waitAgentOnline, sleep, totp, log, ART, ROOT, ADMIN, AGENT_HOST, AGENT_KEY,
    get baseURL() { return baseURL },
  }
  for (const f of files) {
    const mod = await import(pathToFileURL(join(dir, f)).href)
    await mod.default(h)
  }
  tests.sort((a, b) => (a.last ? 1 : 0) - (b.last ? 1 : 0))
}

// ---------------------------------------------------------------- main

async function main() {
  let failed = 0
  try {
    const token = await setup()
    browser = await chromium.launchPersistentContext(mkdtempSync(join(tmp, 'chrome-')), {
      executablePath: CHROMIUM,
      headless: process.env.E2E_HEADFUL !== '1',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    })
    // A persistent context has one browser; newPage opens tabs in it, each
    // test signs in itself (storage is shared, so clear it first).
    const ctxNewPage = browser.newPage.bind(browser)
    browser.newPage = async (o) => { const p = await ctxNewPage(); await p.setViewportSize(o.viewport); await p.emulateMedia({ colorScheme: o.colorScheme }); return p }
    await loadSuites()
    const only = process.env.E2E_ONLY
    for (const t of tests) {
      if (only && !t.name.includes(only)) continue
      const { page, problems } = await newPage(t)
      await page.goto(baseURL + '/login')
      await page.evaluate(() => localStorage.clear())
      const started = Date.now()
      let err = null
      try { await t.fn({ page, token }) } catch (e) { err = e }
      await sleep(200)
      const shot = join(ART, `${t.name.split(':')[0].replace(/\W+/g, '-')}-${tests.indexOf(t)}.png`)
      await page.screenshot({ path: shot, fullPage: true }).catch(() => {})
      if (!err && problems.length) err = new Error(problems.join('\n      '))
      const ms = Date.now() - started
      if (err) { failed++; log(`FAIL ${t.name} (${ms} ms)\n      ${err.message}`) } else log(`ok   ${t.name} (${ms} ms)`)
      results.push({ name: t.name, ok: !err, ms, error: err?.message, screenshot: shot })
      await page.close()
    }
  } catch (e) {
    failed++
    log('SETUP FAILED:', e.message)
  } finally {
    await browser?.close().catch(() => {})
    await stopAll()
    for (const p of procs) if (p.exitCode && p.exitCode !== 0 && !p.stopping) log(`${p.spawnargs[0]} log tail:\n${p.logs().slice(-3000)}`)
    if (missingRoutes.size) log(`${STRICT ? 'FAIL: ' : 'warning: '}routes the pages called that answered 404:\n  ${[...missingRoutes].sort().join('\n  ')}`)
    writeFileSync(join(ART, 'report.json'), JSON.stringify({ baseURL, results, missingRoutes: [...missingRoutes].sort() }, null, 2))
    if (process.env.E2E_KEEP_TMP !== '1') rmSync(tmp, { recursive: true, force: true })
  }
  log(failed ? `${failed} failed` : `all ${results.length} passed`)
  // The plain closing line CI tools read.
  console.log(`e2e: ${results.filter((r) => r.ok).length} passed, ${failed} failed`)
  process.exit(failed ? 1 : 0)
}

main()
