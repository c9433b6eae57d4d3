// Healing page: an admin sets a rule's trust (the server's validation
// message shown) and promotes it, an operator starts and ends a heal
// maintenance window, an admin dry-runs a chaos scenario and sees its
// plan, and the controls a viewer and an operator must not see.
import { join } from 'node:path'

export default function register(h) {
  const op = { user: 'e2e-heal-op', pass: 'E2e-Heal-Op-1!' }
  const viewer = { user: 'e2e-heal-viewer', pass: 'E2e-Heal-View-1!' }
  let users = false
  async function ensureUsers(token) {
    if (users) return
    for (const [u, role] of [[op, 'operator'], [viewer, 'viewer']]) {
      const r = await h.api('POST', '/api/admin/users', token, { action: 'add', username: u.user, password: u.pass, role })
      if (r.status !== 200 && r.status !== 409) throw new Error(`creating ${u.user}: ${r.status} ${r.text}`)
    }
    users = true
  }

  h.test('healing: an admin sets trust (validation shown), promotes it, and dry-runs a chaos scenario', {
    expect4xx: [{ status: 400, route: 'PUT /api/healing/trust/e2e_svc_web' }],
  }, async ({ page, token }) => {
    await h.signIn(page)
    await page.goto(h.baseURL + '/healing?tab=trust')
    const form = page.locator('[data-testid=trust-form]')
    await form.locator('input').fill('e2e_svc_web')
    await form.locator('select >> nth=0').selectOption('execute')
    await form.locator('select >> nth=1').selectOption('approve')
    await form.locator('button:has-text("Set trust")').click()
    await page.waitForSelector('[role=alert]:has-text("level execute is above the ceiling approve")')
    await form.locator('select >> nth=0').selectOption('notify')
    await form.locator('button:has-text("Set trust")').click()
    await page.waitForSelector('[role=status]:has-text("e2e_svc_web: notify (ceiling approve)")')
    await page.locator('tr:has-text("e2e_svc_web") button:has-text("Promote")').click()
    await page.waitForSelector('[role=status]:has-text("e2e_svc_web: now approve")')
    await page.waitForSelector('tr:has-text("e2e_svc_web") .badge:text-is("approve")')
    const t = await h.api('GET', '/api/healing/trust', token)
    const row = (t.json || []).find((x) => x.rule_id === 'e2e_svc_web')
    if (!row || row.current_level !== 'approve' || row.promotion_count !== 1) throw new Error(`trust row: ${JSON.stringify(row)}`)

    await page.click('[role=tab]:has-text("Chaos")')
    await page.locator('.row:has-text("container_crash_recovery") button:has-text("Dry run")').click()
    await page.waitForSelector('[data-testid=chaos-result]:has-text("dry_run_complete")')
    await page.waitForSelector('[data-testid=chaos-result] b.mono:text-is("restart_container")')
    await page.screenshot({ path: join(h.ART, 'healing-chaos.png'), fullPage: true })
  })

  h.test('healing: an operator starts a queue maintenance window (validation shown) and ends it early', {
    expect4xx: [{ status: 400, route: 'POST /api/healing/maintenance' }],
  }, async ({ page, token }) => {
    await ensureUsers(token)
    await h.signIn(page, op.user, op.pass)
    await page.goto(h.baseURL + '/healing?tab=maintenance')
    const form = page.locator('form')
    await form.locator('input >> nth=0').fill('e2e-web')
    await form.locator('input >> nth=1').fill('soon')
    await form.locator('button:has-text("Start")').click()
    await page.waitForSelector('[role=alert]:has-text("duration must look like 30m")')
    await form.locator('input >> nth=1').fill('45m')
    await form.locator('select').selectOption('queue')
    await form.locator('input >> nth=2').fill('e2e upgrade')
    await form.locator('button:has-text("Start")').click()
    await page.waitForSelector('[role=status]:has-text("Heal maintenance started")')
    const row = page.locator('.row:has-text("e2e upgrade")')
    await row.locator('.badge:text-is("queue")').waitFor()
    const ws = await h.api('GET', '/api/healing/maintenance', token)
    const w = (ws.json || []).find((x) => x.reason === 'e2e upgrade')
    if (!w || w.duration_s !== 2700 || w.created_by !== op.user) throw new Error(`window: ${JSON.stringify(w)}`)
    await row.locator('button:has-text("End now")').click()
    await page.waitForSelector('.row:has-text("e2e upgrade")', { state: 'detached' })
    // The operator sees no admin control.
    await page.click('[role=tab]:has-text("Trust")')
    await page.waitForSelector('h1:has-text("Healing")')
    if (await page.locator('[data-testid=trust-form]').count()) throw new Error('operator sees the trust form')
    if (await page.locator('button:text-is("Promote")').count()) throw new Error('operator sees Promote')
    await page.click('[role=tab]:has-text("Chaos")')
    await page.waitForSelector('.row:has-text("container_crash_recovery")')
    if (await page.locator('.row button:text-is("Dry run")').count()) throw new Error('operator sees chaos Dry run')
  })

  h.test('healing: a viewer sees no control they may not use', async ({ page, token }) => {
    await ensureUsers(token)
    await h.api('PUT', '/api/healing/trust/e2e_viewer_rule', token, { level: 'notify', ceiling: 'execute' })
    await h.signIn(page, viewer.user, viewer.pass)
    await page.goto(h.baseURL + '/healing?tab=trust')
    await page.waitForSelector('td.mono:has-text("e2e_viewer_rule")')
    for (const label of ['Promote', 'Demote', 'Set trust']) {
      if (await page.locator(`button:text-is("${label}")`).count()) throw new Error(`viewer sees "${label}"`)
    }
    await page.click('[role=tab]:has-text("Maintenance")')
    await page.waitForSelector('text=No active heal maintenance')
    if (await page.locator('button:text-is("Start")').count()) throw new Error('viewer sees Start')
    await page.click('[role=tab]:has-text("Dry run")')
    await page.waitForSelector('text=Dry runs need the operator role.')
    await page.click('[role=tab]:has-text("Suggestions")')
    await page.waitForSelector('h1:has-text("Healing")')
    if (await page.locator('button:text-is("Dismiss")').count()) throw new Error('viewer sees Dismiss')
  })
}
