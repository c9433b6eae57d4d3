// Automations page: create and run an automation with the server's
// validation messages, approve a graph workflow's gate and read its trace,
// create a webhook (secret shown once), and the controls a viewer and an
// operator must not see.
import { join } from 'node:path'

export default function register(h) {
  const op = { user: 'e2e-auto-op', pass: 'E2e-Auto-Op-1!' }
  const viewer = { user: 'e2e-auto-viewer', pass: 'E2e-Auto-View-1!' }
  let users = false
  async function ensureUsers(token) {
    if (users) return
    for (const [u, role] of [[op, 'operator'], [viewer, 'viewer']]) {
      const r = await h.api('POST', '/api/admin/users', token, { action: 'add', username: u.user, password: u.pass, role })
      if (r.status !== 200 && r.status !== 409) throw new Error(`creating ${u.user}: ${r.status} ${r.text}`)
    }
    users = true
  }
  async function login(u) {
    const r = await h.api('POST', '/api/login', null, { username: u.user, password: u.pass })
    if (r.status !== 200) throw new Error(`login ${u.user}: ${r.status}`)
    return r.json.token
  }

  h.test('automations: create a notify automation (validation shown), run it, see the run in history', {
    expect4xx: [{ status: 400, route: 'POST /api/automations' }],
  }, async ({ page }) => {
    await h.signIn(page)
    await page.goto(h.baseURL + '/automations')
    await page.click('button:has-text("+ New")')
    await page.fill('form input[required]', 'E2E notify')
    await page.selectOption('form select >> nth=1', 'notify')
    await page.fill('form textarea', '{}')
    await page.click('form button:has-text("Save")')
    await page.waitForSelector('[role=alert]:has-text("Notify requires \'message\'")')
    await page.fill('form textarea', '{"message": "hello from e2e"}')
    await page.click('form button:has-text("Save")')
    await page.waitForSelector('[role=status]:has-text("Created E2E notify")')
    const card = page.locator('article.card', { hasText: 'E2E notify' })
    await card.locator('button:has-text("Run")').click()
    await page.waitForSelector('[role=status]:has-text("started for E2E notify")')
    await page.click('[role=tab]:has-text("History")')
    await page.waitForSelector('td.mono:has-text("auto:notify:E2E notify")')
    await page.click('tr:has-text("auto:notify:E2E notify") button:has-text("Output")')
    await page.waitForSelector('pre:has-text("Notification sent: hello from e2e")')
  })

  h.test('automations: a graph workflow waits at its approval gate, the admin approves it, the trace shows each node', async ({ page, token }) => {
    await ensureUsers(token)
    const opToken = await login(op)
    const wf = await h.api('POST', '/api/automations', opToken, { name: 'E2E gated workflow', type: 'workflow', config: {
      nodes: [
        { id: 'check', type: 'condition', expression: 'e2e_missing_metric > 1', true_next: 'never', false_next: 'fan' },
        { id: 'never', type: 'notification', message: 'wrong branch' },
        { id: 'fan', type: 'parallel', branches: ['left', 'right'], join: 'gate' },
        { id: 'left', type: 'delay', seconds: 0 },
        { id: 'right', type: 'notification', message: 'right branch' },
        { id: 'gate', type: 'approval_gate', target: 'e2e' },
        { id: 'after', type: 'notification', message: 'approved' },
      ],
      edges: [{ from: 'gate', to: 'after', port: 'approved' }],
    } })
    if (wf.status !== 200) throw new Error(`create workflow: ${wf.status} ${wf.text}`)
    const run = await h.api('POST', `/api/automations/${wf.json.id}/run`, opToken)
    if (run.status !== 200 || !run.json.graph) throw new Error(`run: ${run.status} ${run.text}`)
    await h.waitFor('run waiting for approval', async () => (await h.api('GET', `/api/runs/${run.json.run_id}`, token)).json?.status === 'pending_approval')
    await h.signIn(page)
    await page.goto(h.baseURL + '/automations?tab=approvals')
    const row = page.locator('.card.row', { hasText: `graph_workflow:${wf.json.id}:node:gate` })
    await row.locator('button:has-text("Approve")').click()
    await page.waitForSelector('[role=status]:has-text("Action approved")')
    await h.waitFor('run done', async () => (await h.api('GET', `/api/runs/${run.json.run_id}`, token)).json?.status === 'done')
    await page.goto(h.baseURL + '/automations?type=workflow')
    await page.locator('article.card', { hasText: 'E2E gated workflow' }).locator('button:has-text("Trace")').click()
    const trace = page.locator('[data-testid=trace]')
    for (const [node, outcome] of [['check', 'false'], ['fan', 'joined'], ['gate', 'approved'], ['after', 'sent']]) {
      await trace.locator(`tr:has(td.mono:text-is("${node}")) .badge:text-is("${outcome}")`).first().waitFor()
    }
    await page.screenshot({ path: join(h.ART, 'automations-trace.png'), fullPage: true })
  })

  h.test('automations: the admin creates a webhook and sees its secret once', async ({ page }) => {
    await h.signIn(page)
    await page.goto(h.baseURL + '/automations?tab=webhooks')
    await page.fill('input[name=hook-name]', 'E2E hook')
    await page.click('button:has-text("Create webhook")')
    const box = page.locator('[data-testid=new-hook]')
    await box.waitFor()
    const secret = (await box.locator('code').nth(1).textContent()).trim()
    if (!/^[0-9a-f]{64}$/.test(secret)) throw new Error(`secret ${secret}`)
    await page.waitForSelector('td:text-is("E2E hook")')
    await box.locator('button:has-text("Done")').click()
    await page.reload()
    await page.waitForSelector('td:text-is("E2E hook")')
    if (await page.locator(`text=${secret}`).count()) throw new Error('the secret is shown again after creation')
  })

  h.test('automations: a viewer and an operator see no control they may not use', {
    expect4xx: [{ status: 403, route: 'POST /api/automations' }],
  }, async ({ page, token }) => {
    await ensureUsers(token)
    const a = await h.api('POST', '/api/automations', token, { name: 'E2E visible', type: 'delay', config: { seconds: 1 } })
    if (a.status !== 200) throw new Error(`create: ${a.status}`)
    await h.signIn(page, viewer.user, viewer.pass)
    await page.goto(h.baseURL + '/automations')
    await page.waitForSelector('article.card:has-text("E2E visible")')
    for (const label of ['+ New', 'Run', 'Edit', 'Turn off', 'Delete', 'Export']) {
      if (await page.locator(`button:text-is("${label}")`).count()) throw new Error(`viewer sees "${label}"`)
    }
    if (await page.locator('[role=tab]:has-text("Webhooks")').count()) throw new Error('viewer sees the Webhooks tab')
    await page.goto(h.baseURL + '/automations?tab=approvals')
    await page.waitForSelector('[role=tab][aria-selected=true]:has-text("Approvals")')
    if (await page.locator('button:text-is("Approve")').count()) throw new Error('viewer sees Approve')

    await page.context().clearCookies()
    await page.evaluate(() => localStorage.clear())
    await h.signIn(page, op.user, op.pass)
    await page.goto(h.baseURL + '/automations')
    const card = page.locator('article.card', { hasText: 'E2E visible' })
    await card.locator('button:has-text("Run")').waitFor()
    if (await card.locator('button:text-is("Delete")').count()) throw new Error('operator sees Delete')
    for (const sel of ['button:has-text("Export")', 'label:has-text("Import")', '[role=tab]:has-text("Webhooks")']) {
      if (await page.locator(sel).count()) throw new Error(`operator sees ${sel}`)
    }
    // The server's refusal of a shell command is shown to the operator.
    await page.click('button:has-text("+ New")')
    await page.fill('form input[required]', 'E2E shell')
    await page.fill('form textarea', '{"command": "id"}')
    await page.click('form button:has-text("Save")')
    await page.waitForSelector('[role=alert]:has-text("Custom script commands require admin role")')
  })

  h.test('automations: an operator installs a playbook and starts a new automation from a template', async ({ page, token }) => {
    await ensureUsers(token)
    await h.signIn(page, op.user, op.pass)
    await page.goto(h.baseURL + '/automations?tab=playbooks')
    await page.locator('.row', { hasText: 'Disk Cleanup' }).locator('button:has-text("Install")').click()
    await page.waitForSelector('[role=status]:has-text("Installed as automation")')
    await page.click('[role=tab]:has-text("Automations")')
    await page.waitForSelector('article.card:has-text("Disk Cleanup") .badge:text-is("off")')
    await page.click('button:has-text("+ New")')
    await page.selectOption('select[aria-label=Template]', 'disk-cleanup')
    if ((await page.inputValue('form input[required]')) !== 'Disk Sentinel Check') throw new Error('template did not fill the form')
    await page.click('form button:has-text("Save")')
    await page.waitForSelector('[role=status]:has-text("Created Disk Sentinel Check")')
  })
}
