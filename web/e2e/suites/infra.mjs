// Infrastructure section (routers 5, 7, 15): each role sees only the
// controls it may use; forms show the server's validation messages.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export default function register(h) {
  const { test, api, signIn, createUser, waitFor, waitAgentOnline, log } = h

  test('infra: a viewer sees containers, devices and disks but no control', async ({ page, token }) => {
    await createUser(token, 'e2e-infra-viewer', 'Infra-View-7!', 'viewer')
    await signIn(page, 'e2e-infra-viewer', 'Infra-View-7!')
    await page.goto(h.baseURL + '/infrastructure/containers')
    await page.waitForSelector('[data-testid=containers-panel]')
    const tabs = await page.innerText('.tabs')
    for (const t of ['Containers', 'Compose', 'Devices', 'Disks & backups']) if (!tabs.includes(t)) throw new Error(`viewer tabs ${JSON.stringify(tabs)} lack ${t}`)
    for (const t of ['Services', 'Connections']) if (tabs.includes(t)) throw new Error(`viewer sees the operator tab ${t}`)
    const ctl = await page.$$('[data-testid=containers-panel] button:has-text("Restart"), [data-testid=containers-panel] button:has-text("Stop"), form[aria-label="Start container"]')
    if (ctl.length) throw new Error('viewer sees container controls')
    await page.goto(h.baseURL + '/infrastructure/devices')
    await page.waitForSelector('[data-testid=devices-panel]')
    if (await page.$('form[aria-label="Network discovery"]')) throw new Error('viewer sees the discovery form')
    await page.waitForSelector('text=No discovered devices')
    await page.goto(h.baseURL + '/infrastructure/operations')
    await page.waitForSelector('[data-testid=ops-panel]')
    await page.waitForSelector('text=3-2-1 backups')
    for (const sel of ['form[aria-label="Track backup"]', 'form[aria-label="Verify backup"]', '[data-testid=exports]']) {
      if (await page.$(sel)) throw new Error(`viewer sees ${sel}`)
    }
  })

  test('infra: an operator tracks a 3-2-1 backup and sees the server message for a bad one; no admin controls',
    { expect4xx: [{ status: 400, route: 'PUT /api/backup/321-status' }] }, async ({ page, token }) => {
      await createUser(token, 'e2e-infra-op', 'Infra-Oper-8!', 'operator')
      await signIn(page, 'e2e-infra-op', 'Infra-Oper-8!')
      await page.goto(h.baseURL + '/infrastructure/operations')
      await page.waitForSelector('form[aria-label="Track backup"]')
      await page.fill('input[name=backup_name]', 'x'.repeat(201))
      await page.click('form[aria-label="Track backup"] button[type=submit]')
      const err = await (await page.waitForSelector('[data-testid=ops-error]')).innerText()
      if (!/backup_name is too long/.test(err)) throw new Error(`error reads ${JSON.stringify(err)}`)
      await page.fill('input[name=backup_name]', 'e2e-photos')
      await page.fill('input[name=copies]', '3')
      await page.fill('input[name=media_types]', 'disk, cloud')
      await page.click('form[aria-label="Track backup"] button[type=submit]')
      await page.waitForSelector('[data-testid=s321-table] >> text=e2e-photos')
      const row = await page.innerText('[data-testid=s321-table] tr:has-text("e2e-photos")')
      if (!/met/.test(row) || !/disk, cloud/.test(row)) throw new Error(`3-2-1 row reads ${JSON.stringify(row)}`)
      // Admin-only controls stay hidden from operators.
      await page.goto(h.baseURL + '/infrastructure/containers')
      await page.waitForSelector('[data-testid=containers-panel]')
      if (await page.$('[data-testid=containers-panel] button:has-text("Pull")')) throw new Error('operator sees Pull')
      if ((await page.innerText('.tabs')).includes('Terminal')) throw new Error('operator sees the server terminal tab')
      const stored = await api('GET', '/api/backup/321-status', token)
      if (!stored.json.some((b) => b.backup_name === 'e2e-photos' && b.copies === 3)) throw new Error(`stored: ${stored.text}`)
    })

  test('infra: service control shows the server message for a hostile name',
    { expect4xx: [{ status: 400, route: 'POST /api/service-control' }] }, async ({ page, token }) => {
      await createUser(token, 'e2e-infra-op2', 'Infra-Oper-9!', 'operator')
      await signIn(page, 'e2e-infra-op2', 'Infra-Oper-9!')
      await page.goto(h.baseURL + '/infrastructure/services')
      await page.waitForSelector('form[aria-label="Service control"]')
      await page.fill('input[name=service]', 'nginx;reboot')
      await page.click('form[aria-label="Service control"] button[type=submit]')
      const err = await (await page.waitForSelector('[data-testid=services-error]')).innerText()
      if (!/Invalid service name/.test(err)) throw new Error(`error reads ${JSON.stringify(err)}`)
    })

  test('infra: an admin exports the e2e agent as a docker-compose file and an Ansible playbook', async ({ page, token }) => {
    await waitAgentOnline(token)
    await signIn(page)
    await page.goto(h.baseURL + '/infrastructure/operations')
    await page.waitForSelector('[data-testid=exports]')
    await waitFor('the agent in the export list', async () => (await page.$$(`select[name=export_host] option:has-text("${h.AGENT_HOST}")`)).length > 0, 20000)
    await page.selectOption('select[name=export_host]', h.AGENT_HOST)
    const [dl] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click('[data-testid=exports] button:has-text("docker-compose.yml")')])
    const file = await dl.path()
    const text = (await import('node:fs')).readFileSync(file, 'utf8')
    if (!text.includes(`# Host: ${h.AGENT_HOST}`)) throw new Error(`compose export reads ${JSON.stringify(text.slice(0, 300))}`)
    const cfg = spawnSync('docker-compose', ['-f', file, 'config', '-q'], { encoding: 'utf8' })
    if (cfg.error) log('  docker-compose not installed: config check skipped')
    else if (cfg.status !== 0) throw new Error(`docker-compose config: ${cfg.stderr}\n${text}`)
    const [pb] = await Promise.all([page.waitForEvent('download', { timeout: 30000 }), page.click('[data-testid=exports] button:has-text("Ansible playbook")')])
    const play = (await import('node:fs')).readFileSync(await pb.path(), 'utf8')
    if (!play.includes(`hosts: ${h.AGENT_HOST}`)) throw new Error(`playbook reads ${JSON.stringify(play.slice(0, 300))}`)
  })

  test('infra: Kubernetes and Proxmox say they are not configured',
    { expect4xx: [{ status: 400, route: 'GET /api/k8s/namespaces' }, { status: 400, route: 'GET /api/proxmox/nodes/pve/vms' }] }, async ({ page }) => {
      await signIn(page)
      await page.goto(h.baseURL + '/infrastructure/k8s')
      await page.waitForSelector('[data-testid=k8s-panel] >> text=Kubernetes not configured')
      await page.goto(h.baseURL + '/infrastructure/proxmox')
      await page.fill('input[name=node]', 'pve')
      await page.click('form[aria-label="Proxmox node"] button[type=submit]')
      await page.waitForSelector('[data-testid=proxmox-panel] >> text=Proxmox not configured')
    })

  test('infra: an admin opens the server terminal once it is enabled', async ({ page, token }) => {
    await signIn(page)
    await page.goto(h.baseURL + '/infrastructure/terminal')
    await page.waitForSelector('[data-testid=server-terminal] >> text=The server terminal is off')
    const set = await api('POST', '/api/settings', token, { terminalEnabled: true })
    if (set.status !== 200) throw new Error(`settings: ${set.status} ${set.text}`)
    await page.reload()
    await page.waitForSelector('[data-testid=server-term-status] >> text=open', { timeout: 15000 })
    await page.click('.term')
    await page.keyboard.type('echo e2e-$((40+2))\n')
    await waitFor('the shell output', async () => (await page.innerText('.term')).includes('e2e-42'), 15000)
    await api('POST', '/api/settings', token, { terminalEnabled: false })
  })

  // With a container engine (DOCKER_HOST, e.g. from scripts/podman-up.sh): a
  // compose project brought up and down from the Compose tab.
  if (process.env.DOCKER_HOST) {
    test('infra: an operator brings a compose project up and down', async ({ page, token }) => {
      const dir = mkdtempSync(join(tmpdir(), 'noba-e2e-compose-'))
      const file = join(dir, 'docker-compose.yml')
      const cmd = `["/bin/sh", "-c", "trap 'exit 0' TERM; while :; do sleep 1; done"]`
      writeFileSync(file, `version: "3"\nservices:\n  web:\n    image: local/busybox:test\n    command: ${cmd}\n  worker:\n    image: local/busybox:test\n    command: ${cmd}\n`)
      const set = await api('POST', '/api/settings', token, { composeProjects: [{ name: 'e2eproj', path: file }] })
      if (set.status !== 200) throw new Error(`settings: ${set.status} ${set.text}`)
      await createUser(token, 'e2e-infra-op3', 'Infra-Oper-3!', 'operator')
      await signIn(page, 'e2e-infra-op3', 'Infra-Oper-3!')
      await page.goto(h.baseURL + '/infrastructure/compose')
      const row = '[data-project="e2eproj"]'
      await page.waitForSelector(row)
      await page.click(`${row} button:has-text("up")`)
      await page.waitForSelector('[data-testid=compose-result] >> text=up e2eproj: done', { timeout: 120000 })
      await waitFor('running(2)', async () => /running\(2\)/.test(await page.innerText(row)), 30000)
      page.once('dialog', (d) => d.accept())
      await page.click(`${row} button:has-text("down")`)
      await page.waitForSelector('[data-testid=compose-result] >> text=down e2eproj: done', { timeout: 120000 })
      await waitFor('down', async () => /\bdown\b/.test(await page.innerText(`${row} td:nth-child(2)`)), 30000)
    })
  }
}
