// Opens NOBA's public status page in headless Chromium and checks that it
// renders under the server's Content-Security-Policy: the expected texts are
// visible, the stylesheet applies, nothing overflows a phone screen, and
// there is no console error, page error, failed request or CSP violation.
//
// Usage: node e2e/status.mjs <base-url> [--expect TEXT]... [--out DIR]
// Prints one JSON line {ok, problems, checks, screenshots} and exits 1 on failure.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
let base = '';
const expects = [];
let out = resolve(here, '..', 'artifacts');
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--expect') expects.push(args[++i]);
  else if (args[i] === '--out') out = resolve(args[++i]);
  else base = args[i];
}
if (!base) {
  console.error('usage: node status.mjs <base-url> [--expect TEXT]... [--out DIR]');
  process.exit(2);
}
mkdirSync(out, { recursive: true });

const problems = [];
const checks = [];
const screenshots = [];
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});

async function visit(name, viewport) {
  const ctx = await browser.newContext({ viewport, deviceScaleFactor: 1 });
  const page = await ctx.newPage();
  // Runs outside the page's CSP (injected by the browser, not by the page).
  await page.addInitScript(() => {
    window.__csp = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__csp.push(`${e.violatedDirective} blocked ${e.blockedURI || 'inline'}`);
    });
  });
  page.on('console', (m) => {
    if (m.type() === 'error' || /Content Security Policy/i.test(m.text())) problems.push(`${name}: console ${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on('requestfailed', (r) => problems.push(`${name}: request failed: ${r.url()} ${r.failure()?.errorText}`));
  page.on('response', (r) => {
    if (r.status() >= 400) problems.push(`${name}: HTTP ${r.status()} for ${r.url()}`);
  });

  const resp = await page.goto(new URL('/status', base).toString(), { waitUntil: 'load', timeout: 20000 });
  if (!resp || resp.status() !== 200) problems.push(`${name}: /status answered ${resp?.status()}`);
  const csp = resp?.headers()['content-security-policy'] || '';
  if (!csp.includes("default-src 'self'")) problems.push(`${name}: no CSP header on /status (${csp})`);
  checks.push(`${name}: CSP ${csp.split(';')[0]}`);

  for (const text of expects) {
    const visible = await page.getByText(text, { exact: false }).first().isVisible().catch(() => false);
    if (!visible) problems.push(`${name}: "${text}" not visible`);
    else checks.push(`${name}: "${text}" visible`);
  }
  // The external stylesheet applied (an inline one would have been blocked).
  const style = await page.evaluate(() => {
    const b = document.querySelector('.banner');
    const cs = b && getComputedStyle(b);
    return { bg: cs?.backgroundColor, radius: cs?.borderRadius, sheets: document.styleSheets.length };
  });
  if (!style.bg || style.bg === 'rgba(0, 0, 0, 0)' || style.radius === '0px') problems.push(`${name}: stylesheet not applied (${JSON.stringify(style)})`);
  else checks.push(`${name}: banner background ${style.bg}`);
  const bars = await page.locator('.bars span').count();
  if (bars < 90) problems.push(`${name}: ${bars} uptime bar cells, want at least 90`);
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  if (overflow > 0) problems.push(`${name}: page overflows the viewport by ${overflow}px`);
  const violations = await page.evaluate(() => window.__csp);
  for (const v of violations) problems.push(`${name}: CSP violation: ${v}`);

  const file = join(out, `status-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  screenshots.push(file);
  await ctx.close();
}

try {
  await visit('desktop', { width: 1280, height: 900 });
  await visit('phone', { width: 390, height: 844 });
} catch (e) {
  problems.push(`error: ${e.message}`);
} finally {
  await browser.close();
}
const ok = problems.length === 0;
console.log(JSON.stringify({ ok, problems, checks, screenshots }));
process.exit(ok ? 0 : 1);
