// Issue 18, "from working to a pleasure to use": one test per point, a WCAG
// AA contrast check (axe-core, injected from the test through evaluate, so
// the app's strict CSP is untouched) on every page in both themes, and
// screenshots of every page on a desktop and a phone in both themes.
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'
import http from 'node:http'

const require = createRequire(import.meta.url)
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const PHONE = { width: 390, height: 844 }
const DESKTOP = { width: 1366, height: 900 }

const PAGES = ['/', '/history', '/agents', '/agents/e2e-agent', '/alerts', '/alerts?tab=history',
  '/monitoring/endpoints', '/monitoring/sla', '/monitoring/incidents', '/monitoring/status', '/monitoring/correlation',
  '/settings/general', '/settings/users', '/settings/sessions', '/settings/api-keys', '/settings/ssh-keys', '/settings/audit',
  '/profile', '/infrastructure', '/automations', '/logs', '/healing', '/security', '/no-such-page']

const slug = (p) => p.replace(/[^a-z0-9]+/gi, '_').replace(/^_|_$/g, '') || 'dashboard'

async function contrast(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) await page.evaluate(AXE)
  return page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'rule', values: ['color-contrast'] }, resultTypes: ['violations'] })
    return r.violations.flatMap((v) => v.nodes.map((n) => `${n.target.join(' ')}: ${n.any.map((a) => a.message).join('; ')}`))
  })
}

// samples puts one of each badge and an unread count into the page (DOM
// only), so their colours are checked on every page whatever the data.
async function samples(page) {
  await page.evaluate(() => {
    const bell = document.querySelector('[data-testid=bell]')
    if (bell && !bell.querySelector('.bell-count')) { const c = document.createElement('span'); c.className = 'bell-count'; c.textContent = '3'; bell.appendChild(c) }
    const h1 = document.querySelector('main h1')
    if (h1 && !document.querySelector('[data-sample]')) {
      const box = document.createElement('div'); box.className = 'row'; box.setAttribute('data-sample', '1')
      for (const k of ['ok', 'warn', 'bad', 'info', 'muted']) { const b = document.createElement('span'); b.className = `badge ${k}`; b.textContent = k; box.appendChild(b) }
      const m = document.createElement('span'); m.className = 'muted small'; m.textContent = 'muted text'; box.appendChild(m)
      h1.after(box)
    }
  })
}

function probeServer() {
  return new Promise((res) => {
    const s = http.createServer((req, rsp) => { rsp.writeHead(200, { 'Content-Type': 'text/plain' }); rsp.end('ok') })
    s.listen(0, '127.0.0.1', () => res(s))
  })
}

export default function register(h) {
  const { test, api, signIn, waitFor, waitAgentOnline, sleep, ART, AGENT_HOST } = h
  const goto = async (page, p) => { await page.goto(h.baseURL + p); await page.waitForSelector('main h1', { timeout: 10000 }) }

  test('ui 1: the health ring scores with an agent online and each factor says why in a tooltip', async ({ page, token }) => {
    await waitAgentOnline(token)
    const hs = await waitFor('monitoring coverage scored', async () => {
      const r = await api('GET', '/api/health-score', token)
      return r.json?.categories?.monitoring_coverage?.score != null ? r.json : null
    }, 40000, 1000)
    const cov = hs.categories.monitoring_coverage
    if (!/agents online/.test(cov.detail) || !cov.reason || hs.score == null || hs.grade === 'N/A' || !/Scored from/.test(hs.reason)) throw new Error(`health: ${JSON.stringify(hs)}`)
    for (const [k, c] of Object.entries(hs.categories)) if (!c.reason) throw new Error(`category ${k} has no reason`)
    await signIn(page)
    await goto(page, '/')
    const badge = page.locator('[data-testid=health-monitoring_coverage]')
    await badge.waitFor()
    const title = await badge.getAttribute('title')
    if (!/\/10: \d+\/\d+ agents online/.test(title || '')) throw new Error(`coverage tooltip ${title}`)
    if (/not scored/.test(await badge.innerText())) throw new Error('coverage not scored')
    const ring = await page.$eval('section[aria-label="Infrastructure health"] svg', (e) => e.textContent)
    if (/—|N\/A/.test(ring)) throw new Error(`ring shows ${ring}`)
    const reason = await page.innerText('[data-testid=health-reason]')
    if (!/Scored from \d of \d categories/.test(reason)) throw new Error(`reason ${reason}`)
    const tips = await page.$$eval('span.badge[data-testid^=health-]', (bs) => bs.map((b) => [b.textContent, b.getAttribute('title')]))
    for (const [text, t] of tips) {
      if (/not scored/.test(text) ? !/^Not scored: .+\. .+/.test(t || '') : !/^[\d.]+\/10: /.test(t || '')) throw new Error(`tooltip of "${text}": ${t}`)
    }
  })

  test('ui 2: history offers only metrics with data, by human name, with units, distinct unclipped time labels and an empty state', async ({ page, token }) => {
    await waitFor('two CPU samples in history', async () => {
      const r = await api('GET', '/api/history/multi?metrics=cpu_percent&range=1&resolution=60', token)
      return (r.json?.cpu_percent || []).filter((p) => p.value != null).length >= 2
    }, 150000, 2000)
    await signIn(page)
    await goto(page, '/history?metrics=cpu_percent&range=1')
    await page.waitForSelector('.cmd-buttons button[data-metric]')
    await page.waitForFunction(() => document.querySelectorAll('.cmd-buttons button[data-metric]').length > 0)
    await sleep(500)
    const offered = await page.$$eval('.cmd-buttons button[data-metric]', (bs) => bs.map((b) => ({ id: b.dataset.metric, text: b.innerText })))
    for (const o of offered) if (/_/.test(o.text)) throw new Error(`raw metric id shown: ${o.text}`)
    if (!offered.some((o) => o.id === 'cpu_percent' && /CPU usage/.test(o.text) && /%/.test(o.text))) throw new Error(`cpu button: ${JSON.stringify(offered)}`)
    const ids = offered.map((o) => o.id)
    const r = await api('GET', `/api/history/multi?metrics=${ids.join(',')}&range=720&resolution=3600`, token)
    for (const id of ids) if (id !== 'cpu_percent' && !(r.json?.[id] || []).some((p) => p.value != null)) throw new Error(`${id} offered without data`)
    if (ids.includes('domain_expiry_days') && !(r.json?.domain_expiry_days || []).length) throw new Error('domain expiry offered without data')
    await page.waitForSelector('.chart svg')
    const ticks = await page.$$eval('[data-testid=x-tick]', (ts) => ts.map((t) => ({ text: t.textContent, anchor: t.getAttribute('text-anchor'), right: t.getBoundingClientRect().right, svgRight: t.closest('svg').getBoundingClientRect().right })))
    if (new Set(ticks.map((t) => t.text)).size !== ticks.length) throw new Error(`repeated time labels ${JSON.stringify(ticks)}`)
    const last = ticks[ticks.length - 1]
    if (last.right > last.svgRight + 0.5) throw new Error(`last label clipped: ${JSON.stringify(last)}`)
    const yLabels = await page.$$eval('.chart svg text[text-anchor=end]', (ts) => ts.map((t) => t.textContent))
    if (!yLabels.some((t) => /%$/.test(t))) throw new Error(`y axis without units: ${yLabels}`)
    // A fresh server: no samples at all gives a helpful empty state.
    await page.route('**/api/history/multi**', (rt) => rt.fulfill({ status: 200, contentType: 'application/json', body: '{}' }))
    await goto(page, '/history?metrics=cpu_percent')
    const empty = await page.waitForSelector('[data-testid=history-empty]')
    if (!/Collecting the first samples/.test(await empty.innerText())) throw new Error(`empty state: ${await empty.innerText()}`)
    await page.screenshot({ path: join(ART, 'ui-history-empty.png') })
  })

  test('ui 3: settings › general is typed forms by purpose with help, inline validation and set/unset secrets', async ({ page }) => {
    await signIn(page)
    await goto(page, '/settings/general')
    await page.waitForSelector('[data-testid=settings-general] fieldset')
    const legends = await page.$$eval('fieldset legend', (ls) => ls.map((l) => l.textContent))
    for (const want of ['What to watch', 'Agents', 'Notifications', 'Security', 'Integrations']) if (!legends.includes(want)) throw new Error(`no group ${want}: ${legends}`)
    if (await page.locator('textarea:visible').count()) throw new Error('JSON text areas shown outside "Advanced"')
    const labels = await page.$$eval('fieldset .field label', (ls) => ls.map((l) => l.textContent.trim()))
    const camel = labels.filter((l) => /\b[a-z]+[A-Z][a-zA-Z]*\b/.test(l))
    if (camel.length) throw new Error(`camelCase labels: ${camel.slice(0, 5)}`)
    const noHelp = await page.$$eval('fieldset .field', (fs) => fs.filter((f) => !f.querySelector('.help')?.textContent.trim()).map((f) => f.dataset.field))
    if (noHelp.length) throw new Error(`fields without help: ${noHelp}`)
    if ((await page.innerText('[data-testid=secret-state-agentKeys]')) !== 'set') throw new Error('agentKeys not "set"')
    if ((await page.innerText('[data-testid=secret-state-pushoverAppToken]')) !== 'not set') throw new Error('pushover token not "not set"')
    if ((await page.getAttribute('input[name=setting-agentKeys]', 'type')) !== 'password') throw new Error('secret is not a password field')
    await page.fill('input[name=setting-gotifyUrl]', 'gotify.lan')
    await page.waitForSelector('[data-testid=error-gotifyUrl]')
    if (!(await page.isDisabled('button:has-text("Save 1 change")'))) throw new Error('save enabled with an invalid URL')
    await page.fill('input[name=setting-auditRetentionDays]', '0')
    await page.waitForSelector('[data-testid=error-auditRetentionDays]')
    await page.fill('input[name=setting-auditRetentionDays]', '90')
    await page.fill('input[name=setting-gotifyUrl]', 'https://gotify.e2e.lan')
    await page.waitForSelector('[data-testid=error-gotifyUrl]', { state: 'detached' })
    await page.click('button:has-text("Save 2 change")')
    await page.waitForSelector('[data-testid=settings-msg]')
  })

  test('ui 4: when the connection is lost the cards dim and say since when', { allowFailed: ['/api/'] }, async ({ page }) => {
    await signIn(page)
    // The stream is cut, so the page polls; then the polls fail too.
    await page.route('**/api/stream**', (r) => r.abort())
    await goto(page, '/')
    await page.waitForSelector('[data-testid=cards]', { timeout: 20000 })
    await page.waitForFunction(() => !document.querySelector('[data-testid=cards]').classList.contains('stale'), null, { timeout: 20000 })
    await page.route('**/api/stats', (r) => r.abort())
    const banner = await page.waitForSelector('[data-testid=stale-banner]', { timeout: 20000 })
    const text = await banner.innerText()
    if (!/Connection lost|No fresh data/.test(text) || !/from \d{1,2}:\d{2}/.test(text)) throw new Error(`stale banner: ${text}`)
    if ((await page.getAttribute('[data-testid=live]', 'data-mode')) !== 'down') throw new Error('the Live indicator does not say offline')
    const op = await page.$eval('[data-testid=cards] .card-body', (e) => parseFloat(getComputedStyle(e).opacity))
    if (!(op < 0.8)) throw new Error(`stale cards at opacity ${op}`)
    if (await page.locator('[data-card=alerts] .ok-text').count()) throw new Error('health checks stay green while stale')
    await page.screenshot({ path: join(ART, 'ui-stale.png'), fullPage: true })
    await page.unroute('**/api/stats')
    await page.waitForSelector('[data-testid=stale-banner]', { state: 'detached', timeout: 30000 })
  })

  test('ui 5: one unit system: a disk reads the same on the overview and the agent page; uptime and processes make sense', async ({ page, token }) => {
    await waitAgentOnline(token)
    await signIn(page)
    await goto(page, '/')
    await page.waitForSelector('[data-card=storage]')
    const unit = /^\d+% · [\d.]+ (B|KiB|MiB|GiB|TiB|PiB) of [\d.]+ (B|KiB|MiB|GiB|TiB|PiB)$/
    const overview = await page.$$eval('[data-card=storage] .stack', (ds) => ds.map((d) => [d.querySelector('b')?.textContent, d.querySelector('[data-testid=disk-line]')?.textContent]))
    for (const [, l] of overview) if (!unit.test(l)) throw new Error(`overview disk line ${l}`)
    const parts = (l) => { const m = /^(\d+)% · .* of (.+)$/.exec(l); return [Number(m[1]), m[2]] }
    // Every page shows the server's percent (df's Use%, used/(used+avail)),
    // never one of its own (used/total reads lower): the same as the API.
    // (±1: the page and the API read moments apart.)
    const samePct = (where, lines, apiDisks) => {
      if (!apiDisks.length) throw new Error(`${where}: the API lists no disks`)
      for (const [m, l] of lines) {
        const d = apiDisks.find((x) => x.mount === m)
        if (!d) throw new Error(`${where}: mount ${m} is not in the API`)
        if (Math.abs(parts(l)[0] - Math.round(d.percent)) > 1) throw new Error(`${where}: mount ${m} shows "${l}", the API says ${d.percent}%`)
      }
    }
    samePct('overview', overview, (await api('GET', '/api/stats', token)).json?.disks || [])
    await goto(page, `/agents/${AGENT_HOST}`)
    await page.waitForSelector('[data-testid=agent-uptime]')
    const agentDisks = await page.$$eval('[data-testid=disk-line]', (ds) => ds.map((d) => [d.parentElement.querySelector('b')?.textContent, d.textContent]))
    for (const [, l] of agentDisks) if (!unit.test(l)) throw new Error(`agent disk line ${l}`)
    samePct('agent page', agentDisks, (await api('GET', `/api/agents/${AGENT_HOST}`, token)).json?.disks || [])
    const same = overview.filter(([m]) => agentDisks.some(([a]) => a === m))
    // Same percent (±1, the pages sample moments apart) and the same total.
    for (const [m, l] of same) {
      const a = agentDisks.find(([x]) => x === m)[1]
      const [p1, t1] = parts(l), [p2, t2] = parts(a)
      if (Math.abs(p1 - p2) > 1 || t1 !== t2) throw new Error(`mount ${m}: overview "${l}", agent page "${a}"`)
    }
    const main = await page.innerText('main')
    if (/\b\d+(\.\d+)? (KB|MB|GB|TB)\b/.test(main)) throw new Error('SI units on the agent page')
    const up = await page.innerText('[data-testid=agent-uptime]')
    if (/^0m 0s$/.test(up)) throw new Error('uptime 0m 0s')
    const ag = (await api('GET', `/api/agents/${AGENT_HOST}`, token)).json
    // The agent reports the host's uptime (seconds since boot, hours here),
    // and the page shows it.
    if (!(ag?.uptime_s > 60)) throw new Error(`the agent reports uptime_s ${ag?.uptime_s}`)
    if (!/^(\d+d )?(\d+h )?\d+m( \d+s)?$/.test(up)) throw new Error(`agent reports ${ag.uptime_s}s but the page shows "${up}"`)
    // Processes: headers, and the memory shares the agent sends (not all 0).
    await page.waitForSelector('[data-testid=top-processes]')
    const heads = await page.$$eval('[data-testid=top-processes] th', (t) => t.map((x) => x.textContent))
    for (const hd of ['PID', 'Process', 'CPU', 'Memory']) if (!heads.includes(hd)) throw new Error(`process headers ${heads}`)
    const procs = ag.top_processes || []
    if (!procs.some((p) => p.mem > 0)) throw new Error(`the agent sends memory 0 for every process: ${JSON.stringify(procs)}`)
    const memCells = await page.$$eval('[data-testid=top-processes] tbody tr td:nth-child(4)', (t) => t.map((x) => x.textContent))
    if (!memCells.some((c) => c !== '0%')) throw new Error(`memory column ${memCells}`)
  })

  test('ui 6: command results render as tables or text; the deploy one-liner carries the key and copies', async ({ page, token }) => {
    await waitAgentOnline(token)
    await signIn(page)
    await goto(page, `/agents/${AGENT_HOST}?tab=commands`)
    const tab = page.locator('.tabs button:has-text("Commands")')
    if (await tab.count()) await tab.click()
    await page.click('[data-cmd=system_info]')
    await page.click('[data-testid=run-command]')
    const res = await page.waitForSelector('[data-testid=command-result][data-status=ok]', { timeout: 40000 })
    const view = await res.waitForSelector('[data-testid=cmd-result-view]')
    const text = await view.innerText()
    if (/^\s*[{[]/.test(text) || /"\w+":/.test(text)) throw new Error(`raw JSON result: ${text.slice(0, 200)}`)
    if (!(await view.$('dl.kv, table, pre'))) throw new Error('result is neither table nor text')
    await page.screenshot({ path: join(ART, 'ui-command-result.png'), fullPage: true })
    await goto(page, '/agents')
    await page.click('button:has-text("Deploy")')
    const liner = page.locator('[data-testid=one-liner]')
    if (!(await page.isDisabled('[data-testid=copy-one-liner]'))) throw new Error('copy enabled without a key')
    await page.fill('input[name=agent-key]', 'my-agent-key-123')
    const cmd = await liner.innerText()
    if (cmd.includes('<agent key>') || !cmd.includes("X-Agent-Key: my-agent-key-123") || !cmd.includes(h.baseURL)) throw new Error(`one-liner ${cmd}`)
    await page.click('[data-testid=copy-one-liner]')
    await page.waitForSelector('.dialog [role=status]:text-matches("Copied|Selected")')
  })

  test('ui 9: density and honest empty states: no N/A as data, no 0% up, seeded sparklines, theme toggles first click, unknown agent',
    { expect4xx: [{ status: 404, route: 'GET /api/agents/no-such-host' }] }, async ({ page, token }) => {
      await waitFor('network history', async () => {
        const r = await api('GET', '/api/history/multi?metrics=net_rx_bytes&range=1&resolution=60', token)
        return (r.json?.net_rx_bytes || []).filter((p) => p.value != null).length >= 2
      }, 150000, 2000)
      await signIn(page)
      await page.evaluate(() => localStorage.setItem('noba.theme', 'system'))
      await goto(page, '/')
      await page.waitForSelector('[data-card=hardware]')
      const cards = await page.innerText('[data-testid=cards]')
      if (/Unknown GPU|\bN\/A\b/.test(cards)) throw new Error('N/A or Unknown GPU shown as data')
      const items = (await api('GET', '/api/uptime', token)).json?.items || []
      if (!items.length) {
        await page.waitForSelector('[data-testid=uptime-empty]')
        if (/0% up/.test(await page.innerText('[data-card=uptime]'))) throw new Error('"0% up" with nothing monitored')
      }
      // After a reload the network sparklines draw at once, from history.
      await page.reload()
      await page.waitForSelector('[data-card=network] svg.spark polyline', { timeout: 4000 })
      // The first theme click changes the theme (the page follows the system: dark here).
      const before = await page.evaluate(() => document.documentElement.getAttribute('data-theme'))
      await page.click('[data-testid=user-menu]')
      await page.click('[data-testid=theme-toggle]')
      const after = await page.evaluate(() => document.documentElement.getAttribute('data-theme'))
      if (before === after) throw new Error(`theme stayed ${after} after the first click`)
      await goto(page, '/agents/no-such-host')
      const none = await page.waitForSelector('[data-testid=no-such-agent]')
      if (!/No such agent/.test(await none.innerText()) || /not available on this server/.test(await page.innerText('main'))) throw new Error('unknown agent message')
    })

  // Density (issue 18 §9): no card is mostly empty space and the grid has
  // no holes, measured on a laptop screen (1366x768) and a phone.
  for (const [vp, size, fold] of [['laptop', { width: 1366, height: 768 }, 7], ['phone', PHONE, 2]]) {
    test(`ui 9: density: dashboard cards are packed without empty space (${vp})`, { viewport: size }, async ({ page, token }) => {
      await waitAgentOnline(token)
      await signIn(page)
      await goto(page, '/')
      await page.waitForSelector('[data-testid=cards].packed [data-card=storage] [data-testid=disk-line]', { timeout: 20000 })
      await sleep(500)
      const m = await page.evaluate(() => {
        const cards = [...document.querySelectorAll('[data-testid=cards] > .card')].map((c) => {
          const r = c.getBoundingClientRect()
          // the lowest content inside the card (its padding excluded)
          const kids = [...c.querySelectorAll('.card-head, .card-body > *')].filter((k) => k.getClientRects().length)
          const content = Math.max(...kids.map((k) => k.getBoundingClientRect().bottom))
          return { id: c.dataset.card, span: c.style.gridRowEnd, top: r.top, bottom: r.bottom, left: r.left, right: r.right, empty: r.bottom - content - parseFloat(getComputedStyle(c).paddingBottom) }
        })
        // the fold: the viewport less the phone's bottom navigation
        const nav = document.querySelector('.bottomnav')
        const navH = nav && getComputedStyle(nav).display !== 'none' ? nav.getBoundingClientRect().height : 0
        return { cards, vh: window.innerHeight - navH }
      })
      // no card is taller than its content (a row-mate's height) ...
      for (const c of m.cards) if (c.empty > 6) throw new Error(`card ${c.id} has ${Math.round(c.empty)}px of empty space under its content`)
      // ... and under each card the next one in its column follows at once.
      for (const c of m.cards) {
        const below = m.cards.filter((o) => o !== c && o.left < c.right - 1 && o.right > c.left + 1 && o.top >= c.bottom - 1)
        if (!below.length) continue
        const gap = Math.min(...below.map((o) => o.top)) - c.bottom
        if (gap > 24) throw new Error(`a ${Math.round(gap)}px hole under card ${c.id}: ${JSON.stringify(m.cards.map((x) => [x.id, Math.round(x.top), Math.round(x.bottom), x.span]))}`)
      }
      const visible = m.cards.filter((c) => c.bottom <= m.vh && c.top >= 0).length
      h.log(`density (${vp} ${size.width}x${size.height}): ${visible} of ${m.cards.length} cards fully above the fold`)
      if (visible < fold) throw new Error(`${visible} cards above the fold on a ${vp}, want at least ${fold}`)
      await page.screenshot({ path: join(ART, `ui-density-${vp}.png`) })
    })
  }

  test('ui 7: monitors: skipped is not success, the form clears, uptime bar and response sparkline per monitor, tab counts', async ({ page, token }) => {
    const srv = await probeServer()
    try {
      await signIn(page)
      await goto(page, '/monitoring/endpoints')
      await page.fill('input[name=ep-name]', 'ui-probe')
      await page.fill('input[name=ep-url]', `http://127.0.0.1:${srv.address().port}/`)
      await page.click('button:has-text("Add monitor")')
      await page.waitForSelector('[data-testid=mon-ok]')
      if ((await page.inputValue('input[name=ep-name]')) !== '' || (await page.inputValue('input[name=ep-url]')) !== 'https://') throw new Error('the add form was not cleared')
      const row = page.locator('tr[data-monitor=ui-probe]')
      // Three checks, each seen recorded by the server before the next click
      // (the banner of the previous one would match at once).
      const checks = async () => ((await api('GET', '/api/endpoints?history=30', token)).json || []).find((m) => m.name === 'ui-probe')?.history?.length || 0
      for (let i = 0; i < 3; i++) {
        const n = await checks()
        await row.locator('button:has-text("Check now")').click()
        await waitFor(`check ${i + 1} of ui-probe recorded`, async () => (await checks()) > n, 15000, 200)
      }
      await page.waitForSelector('[data-testid=mon-ok]:has-text("ui-probe: up")')
      await row.locator('[data-testid=uptime-bar] span.up').first().waitFor()
      // A flat line (every check took the same time) has a zero-height box,
      // which Playwright calls hidden: wait for the element, then check it
      // carries one point per check.
      const line = row.locator('.spark-cell svg.spark polyline')
      await line.waitFor({ state: 'attached' })
      const pts = ((await line.getAttribute('points')) || '').trim().split(/\s+/).filter(Boolean)
      if (pts.length < 2) throw new Error(`response sparkline has ${pts.length} points`)
      const list = (await api('GET', '/api/endpoints', token)).json
      const count = await page.innerText('[data-tab=endpoints] .tab-count')
      if (Number(count) !== list.length) throw new Error(`endpoints tab count ${count}, want ${list.length}`)
      // A check that does not run (the server's own address) is not green.
      const self = await api('POST', '/api/endpoints', token, { name: 'ui-self', url: h.baseURL + '/api/health', check_interval: 300, timeout: 5 })
      if (self.status !== 200) throw new Error(`create self monitor: ${self.status} ${self.text}`)
      await page.reload()
      await page.waitForSelector('tr[data-monitor=ui-self]')
      await page.locator('tr[data-monitor=ui-self] button:has-text("Check now")').click()
      await page.waitForSelector('[data-testid=mon-ok], [data-testid=mon-warn], .alert-msg')
      const st = (await api('GET', '/api/endpoints', token)).json.find((m) => m.name === 'ui-self')?.last_status
      if (st === 'skipped' && !(await page.locator('[data-testid=mon-warn]').count())) throw new Error('a skipped check was reported as success')
      if (st !== 'up' && await page.locator('[data-testid=mon-ok]').count()) throw new Error(`a ${st} check in a success banner`)
      await page.screenshot({ path: join(ART, 'ui-monitors.png'), fullPage: true })
    } finally { srv.close() }
  })

  test('ui 8: the status page draws one 90-day bar per component, days before the server existed as no data', async ({ page, token }) => {
    for (const name of ['UI web', 'UI dns']) {
      const r = await api('POST', '/api/status/components', token, { name, group_name: 'UI' })
      if (r.status !== 200) throw new Error(`component ${name}: ${r.status} ${r.text}`)
    }
    const ps = (await api('GET', '/api/status/public', '')).json
    await page.goto(h.baseURL + '/status')
    const bars = await page.$$eval('.bars', (bs) => bs.map((b) => [...b.children].map((c) => c.className)))
    if (bars.length !== ps.components.length) throw new Error(`${bars.length} bars for ${ps.components.length} components`)
    for (const b of bars) {
      if (b.length !== 90) throw new Error(`a bar of ${b.length} days`)
      if (b[0] !== 'u-none') throw new Error(`90 days ago drawn as ${b[0]}, want no data`)
    }
    const title = await page.getAttribute('.bars span:first-child', 'title')
    if (!/no data/.test(title)) throw new Error(`first day title ${title}`)
    await page.screenshot({ path: join(ART, 'ui-status-page.png'), fullPage: true })
  })

  test('ui 10: alert rules are cards on a phone with their buttons on screen', { viewport: PHONE }, async ({ page, token }) => {
    const r = await api('POST', '/api/alert-rules', token, { id: 'ui_phone_rule', condition: 'cpu_percent > 99', severity: 'warning', message: 'CPU very high on the phone test' })
    if (r.status !== 200 && r.status !== 201) throw new Error(`rule: ${r.status} ${r.text}`)
    await signIn(page)
    await goto(page, '/alerts')
    const row = page.locator('[data-testid=rules-table] tr', { hasText: 'ui_phone_rule' })
    await row.waitFor()
    for (const b of ['Test', 'Edit', 'Delete']) {
      const box = await row.locator(`button:has-text("${b}")`).boundingBox()
      if (!box || box.x < 0 || box.x + box.width > PHONE.width) throw new Error(`${b} off screen: ${JSON.stringify(box)}`)
    }
    const sideways = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1)
    if (sideways) throw new Error('the page scrolls sideways')
    await page.screenshot({ path: join(ART, 'ui-alert-rules-phone.png'), fullPage: true })
    await api('DELETE', '/api/alert-rules/ui_phone_rule', token)
  })

  for (const theme of ['dark', 'light']) {
    test(`ui 10: WCAG AA contrast (axe-core) on every page, and screenshots on desktop and phone (${theme} theme)`, { colorScheme: theme, allowFailed: ['/api/stream'] }, async ({ page }) => {
      await signIn(page)
      await page.evaluate((t) => localStorage.setItem('noba.theme', t), theme)
      const failures = []
      for (const p of PAGES) {
        for (const [vp, size] of [['desktop', DESKTOP], ['phone', PHONE]]) {
          await page.setViewportSize(size)
          await goto(page, p)
          const applied = await page.evaluate(() => document.documentElement.getAttribute('data-theme'))
          if (applied !== theme) throw new Error(`theme ${applied}, want ${theme}`)
          // (never "networkidle": the live stream keeps a request open)
          await page.waitForFunction(() => !document.querySelector('main [role=status].state'), null, { timeout: 3000 }).catch(() => {})
          await sleep(300)
          await page.screenshot({ path: join(ART, `ui-${slug(p)}-${theme}-${vp}.png`), fullPage: true })
          if (vp === 'desktop') {
            await samples(page)
            for (const f of await contrast(page)) failures.push(`${p}: ${f}`)
          }
        }
      }
      // The public status page, server-rendered.
      await page.setViewportSize(DESKTOP)
      await page.goto(h.baseURL + '/status')
      for (const f of await contrast(page)) failures.push(`/status: ${f}`)
      await page.screenshot({ path: join(ART, `ui-status-${theme}-desktop.png`), fullPage: true })
      await page.setViewportSize(PHONE)
      await page.screenshot({ path: join(ART, `ui-status-${theme}-phone.png`), fullPage: true })
      if (failures.length) throw new Error(`${failures.length} contrast failure(s):\n      ${failures.slice(0, 30).join('\n      ')}`)
      h.log(`contrast (${theme}): ${PAGES.length + 1} pages, 0 AA failures`)
    })
  }
}
