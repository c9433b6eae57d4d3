// Intelligence (incidents and war room, dependencies, config drift, AI
// assistant, predictions) and the roles that may use each control.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'

export default function register(h) {
  const sha = (s) => createHash('sha256').update(s).digest('hex')

  h.test('intelligence: dependencies — an admin adds edges, impact analysis lists the transitive dependents', async ({ page }) => {
    await h.signIn(page)
    await page.goto(h.baseURL + '/intelligence/dependencies')
    for (const [src, tgt] of [['e2e-app', 'e2e-api'], ['e2e-api', 'e2e-db'], ['e2e-worker', 'e2e-db']]) {
      await page.fill('input[name=dep-source]', src)
      await page.fill('input[name=dep-target]', tgt)
      await page.click('[data-testid=add-dependency] button')
      await page.waitForSelector(`[data-edge="${src}>${tgt}"]`)
    }
    await page.click('[data-node="e2e-db"] button:has-text("Impact")')
    await page.waitForURL(/service=e2e-db/)
    const text = await (await page.waitForSelector('[data-testid=impact] p:has-text("affected")')).innerText()
    if (!/3 service\(s\)/.test(text) || !/e2e-api, e2e-app, e2e-worker/.test(text)) throw new Error(`impact shows ${JSON.stringify(text)}`)
    await page.screenshot({ path: join(h.ART, 'intelligence-dependencies.png'), fullPage: true })
  })

  h.test('intelligence: a baseline with a bad hash shows the server message', { expect4xx: [{ status: 400, route: 'POST /api/baselines' }] }, async ({ page }) => {
    await h.signIn(page)
    await page.goto(h.baseURL + '/intelligence/drift')
    await page.fill('input[name=bl-path]', '/etc/e2e.conf')
    await page.fill('input[name=bl-hash]', 'not-a-hash')
    await page.click('[data-testid=add-baseline] button')
    const err = await (await page.waitForSelector('[data-testid=intel-error]')).innerText()
    if (!/SHA-256 hex digest/.test(err)) throw new Error(`error shows ${JSON.stringify(err)}`)
  })

  h.test('intelligence: drift on the real agent opens an incident; the war room takes messages and an assignee', async ({ page, token }) => {
    await h.waitAgentOnline(token)
    const file = join(mkdtempSync(join(tmpdir(), 'noba-e2e-drift-')), 'app.conf')
    writeFileSync(file, 'listen 80\n')
    await h.signIn(page)
    await page.goto(h.baseURL + '/intelligence/drift')
    // A wrong expected hash: the check finds drift.
    await page.fill('input[name=bl-path]', file)
    await page.fill('input[name=bl-hash]', 'a'.repeat(64))
    await page.fill('input[name=bl-group]', h.AGENT_HOST)
    await page.click('[data-testid=add-baseline] button')
    const row = `[data-baseline="${file}"]`
    await page.waitForSelector(row)
    await page.click('button:has-text("Check now")')
    await page.click(`${row} button:has-text("Results")`)
    await page.waitForSelector(`[data-testid=drift-results] [data-result-host="${h.AGENT_HOST}"] .badge:text("drift")`, { timeout: 40000 })
    // Accept the agent's content as the baseline, check again: match.
    await page.selectOption(`${row} select`, h.AGENT_HOST)
    await page.click(`${row} button:has-text("Set hash")`)
    await page.waitForSelector(`.ok-msg:has-text("${sha('listen 80\n').slice(0, 16)}")`, { timeout: 20000 })
    await page.click('button:has-text("Check now")')
    await page.waitForSelector(`[data-testid=drift-results] [data-result-host="${h.AGENT_HOST}"] .badge:text("match")`, { timeout: 40000 })
    await page.screenshot({ path: join(h.ART, 'intelligence-drift.png'), fullPage: true })

    // The drift opened an incident: its war room.
    await page.goto(h.baseURL + '/intelligence/incidents')
    const inc = await page.waitForSelector(`tr:has-text("Config drift detected: ${file}")`)
    await (await inc.$('button:has-text("War room")')).click()
    await page.waitForSelector('[data-testid=war-room]')
    await page.fill('input[name=war-message]', 'Checked the file on the host')
    await page.click('[data-testid=war-room-post] button')
    await page.waitForSelector('[data-testid=war-room] :text("Checked the file on the host")')
    await page.fill('input[name=assignee]', 'admin')
    await page.click('[data-testid=war-room-assign] button')
    await page.waitForSelector('[data-testid=war-room] [data-msg-type=system]:has-text("Assigned incident to admin")')
    await page.screenshot({ path: join(h.ART, 'intelligence-war-room.png'), fullPage: true })
  })

  h.test('intelligence: with no LLM configured the assistant says so; predictions render', async ({ page }) => {
    await h.signIn(page)
    await page.goto(h.baseURL + '/intelligence/assistant')
    const st = await (await page.waitForSelector('[data-testid=ai-status]')).innerText()
    if (!/not configured/.test(st)) throw new Error(`assistant status ${JSON.stringify(st)}`)
    if (await page.isVisible('[data-testid=ai-chat]')) throw new Error('the chat shows without an LLM')
    await page.goto(h.baseURL + '/intelligence/predictions')
    await page.fill('input[name=pm-metrics]', 'cpu_percent')
    await page.click('[data-testid=predict-form] button')
    await page.waitForURL(/metrics=cpu_percent/)
    await page.waitForSelector('[data-testid=predict-combined]')
    await page.waitForSelector('[data-metric=cpu_percent]')
    await page.screenshot({ path: join(h.ART, 'intelligence-predictions.png'), fullPage: true })
  })

  h.test('intelligence: a viewer and an operator see no control they may not use', async ({ page, token }) => {
    // Something to look at: an edge and a baseline.
    await h.api('POST', '/api/dependencies', token, { source: 'e2e-role-a', target: 'e2e-role-b' })
    await h.api('POST', '/api/baselines', token, { path: '/etc/e2e-role.conf', expected_hash: 'b'.repeat(64) })
    await h.createUser(token, 'e2e-intel-ro', 'Viewer-Intel-7!', 'viewer')
    await h.createUser(token, 'e2e-intel-op', 'Operator-Intel-7!', 'operator')

    await h.signIn(page, 'e2e-intel-ro', 'Viewer-Intel-7!')
    const nav = await page.innerText('nav.nav')
    if (!/Intelligence/.test(nav)) throw new Error('a viewer does not see the Intelligence section')
    await page.goto(h.baseURL + '/intelligence/dependencies')
    await page.waitForSelector('[data-edge="e2e-role-a>e2e-role-b"]')
    for (const sel of ['[data-testid=add-dependency]', 'button:has-text("Delete")', 'button:has-text("Discover")']) {
      if (await page.isVisible(sel)) throw new Error(`a viewer sees ${sel} on dependencies`)
    }
    await page.goto(h.baseURL + '/intelligence/drift')
    await page.waitForSelector('[data-baseline="/etc/e2e-role.conf"]')
    for (const sel of ['[data-testid=add-baseline]', 'button:has-text("Check now")', 'button:has-text("Set hash")', 'button:has-text("Delete")']) {
      if (await page.isVisible(sel)) throw new Error(`a viewer sees ${sel} on drift`)
    }
    await page.goto(h.baseURL + '/intelligence/incidents')
    await page.waitForSelector('main h1')
    await page.waitForLoadState('networkidle').catch(() => {})
    if (await page.isVisible('button:has-text("Resolve")')) throw new Error('a viewer sees Resolve')
    const first = await page.$('button:has-text("War room")')
    if (first) {
      await first.click()
      await page.waitForSelector('[data-testid=war-room]')
      for (const sel of ['[data-testid=war-room-post]', '[data-testid=war-room-assign]']) {
        if (await page.isVisible(sel)) throw new Error(`a viewer sees ${sel}`)
      }
    }
    await page.goto(h.baseURL + '/intelligence/assistant')
    await page.waitForSelector('[data-testid=ai-status]')
    if (await page.isVisible('button:has-text("Test connection")')) throw new Error('a viewer sees the LLM connection test')
    await page.goto(h.baseURL + '/security')
    await page.waitForSelector('main h1')
    if (await page.isVisible('button:has-text("Scan")')) throw new Error('a viewer sees a scan button')

    await page.goto(h.baseURL + '/login')
    await page.evaluate(() => localStorage.clear())
    await h.signIn(page, 'e2e-intel-op', 'Operator-Intel-7!')
    await page.goto(h.baseURL + '/intelligence/drift')
    await page.waitForSelector('[data-baseline="/etc/e2e-role.conf"]')
    if (!(await page.isVisible('button:has-text("Check now")'))) throw new Error('an operator does not see Check now')
    for (const sel of ['[data-testid=add-baseline]', 'button:has-text("Set hash")', 'button:has-text("Delete")']) {
      if (await page.isVisible(sel)) throw new Error(`an operator sees ${sel} on drift (admin only)`)
    }
    await page.goto(h.baseURL + '/intelligence/dependencies')
    await page.waitForSelector('[data-edge="e2e-role-a>e2e-role-b"]')
    for (const sel of ['[data-testid=add-dependency]', 'button:has-text("Delete")']) {
      if (await page.isVisible(sel)) throw new Error(`an operator sees ${sel} on dependencies (admin only)`)
    }
    await page.goto(h.baseURL + '/intelligence/assistant')
    await page.waitForSelector('[data-testid=ai-status]')
    if (await page.isVisible('button:has-text("Test connection")')) throw new Error('an operator sees the LLM connection test (admin only)')
  })

  h.test('intelligence: security scan of the real agent shows its posture and findings', async ({ page, token }) => {
    await h.waitAgentOnline(token)
    await h.signIn(page)
    await page.goto(h.baseURL + '/security')
    await page.click('button:has-text("Scan all online agents")')
    await page.waitForSelector('.ok-msg:has-text("Scans queued")')
    await h.waitFor('the scan result', async () => {
      const r = await h.api('GET', '/api/security/score', token)
      return r.json?.agents?.some((a) => a.hostname === h.AGENT_HOST)
    }, 60000, 1000)
    await page.reload()
    await page.waitForSelector(`section.card h2:text("${h.AGENT_HOST}")`)
    await page.screenshot({ path: join(h.ART, 'intelligence-security.png'), fullPage: true })
  })
}
