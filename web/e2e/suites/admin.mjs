// Settings › Backup / Plugins / Notifications / Agent keys, custom
// dashboards and the SSO buttons of the login page (routers 2, 3, 14).
import { spawnSync } from 'node:child_process'
import { mkdtempSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const RESTIC_PW = 'e2e-restic-pw'

function restic(repo, ...args) {
  const r = spawnSync('restic', ['-q', '--cache-dir', join(repo, '..', 'cache'), ...args], {
    env: { ...process.env, RESTIC_REPOSITORY: repo, RESTIC_PASSWORD: RESTIC_PW }, encoding: 'utf8',
  })
  if (r.status !== 0) throw new Error(`restic ${args.join(' ')}: ${r.error || r.stderr}`)
  return r.stdout
}

export default function register(h) {
  const { test, api, signIn, createUser, waitFor } = h
  const login = async (user, pass) => (await api('POST', '/api/login', null, { username: user, password: pass })).json.token

  test('admin: plugins — install from the catalog, a refused config shows the server message, configure, enable, see data, disable',
    { expect4xx: [{ status: 400, route: 'POST /api/plugins/file-size/config' }] }, async ({ page }) => {
      const watched = join(mkdtempSync(join(tmpdir(), 'noba-e2e-plugin-')), 'watched.log')
      writeFileSync(watched, 'x'.repeat(4096))
      await signIn(page)
      await page.goto(h.baseURL + '/settings/plugins')
      await page.waitForSelector('[data-testid=catalog] [data-install="file-size.sh"]')
      await page.click('[data-testid=catalog] [data-install="file-size.sh"]')
      await page.waitForSelector('[data-plugin="file-size"]')
      const row = await page.innerText('[data-plugin="file-size"]')
      if (!/disabled/.test(row)) throw new Error(`a new plugin should start disabled: ${row}`)
      await page.click('[data-plugin="file-size"] button:has-text("Configure")')
      await page.waitForSelector('[data-testid=plugin-config]')
      await page.fill('input[name=cfg-warn_mb]', '-5')
      await page.click('[data-testid=plugin-config] button[type=submit]')
      await page.waitForSelector('[data-testid=settings-error]')
      const e = await page.innerText('[data-testid=settings-error]')
      if (!/File path is required; Warn above \(MB\) must be >= 0/.test(e)) throw new Error(`config error reads ${JSON.stringify(e)}`)
      await page.fill('input[name=cfg-path]', watched)
      await page.fill('input[name=cfg-warn_mb]', '1')
      await page.click('[data-testid=plugin-config] button[type=submit]')
      await page.waitForSelector('[data-testid=settings-msg]:has-text("configuration saved")')
      await page.click('[data-toggle="file-size"]')
      await page.waitForSelector('[data-plugin="file-size"]:has-text("enabled")')
      // The collection loop runs it at once; the page polls every 10 s.
      await waitFor('plugin data in the table', async () => {
        await page.reload()
        await page.waitForSelector('[data-plugin="file-size"]')
        return /bytes: 4096/.test(await page.innerText('[data-plugin="file-size"]'))
      }, 30000, 1500)
      await page.click('[data-toggle="file-size"]')
      await page.waitForSelector('[data-plugin="file-size"] button:has-text("Enable")')
      await page.screenshot({ path: join(h.ART, 'admin-plugins.png') })
    })

  test('admin: backup — browse a real restic snapshot, see file versions, compare, restore one file', async ({ page, token }) => {
    const work = mkdtempSync(join(tmpdir(), 'noba-e2e-restic-'))
    const repo = join(work, 'repo')
    const src = join(work, 'src')
    mkdirSync(join(src, 'etc'), { recursive: true })
    writeFileSync(join(src, 'notes.txt'), 'first\n')
    writeFileSync(join(src, 'etc', 'app.conf'), 'a=1\n')
    restic(repo, 'init')
    restic(repo, 'backup', src)
    writeFileSync(join(src, 'notes.txt'), 'second version\n')
    writeFileSync(join(src, 'new.txt'), 'new\n')
    restic(repo, 'backup', src)
    const set = await api('POST', '/api/settings', token, { resticRepo: repo, resticPassword: RESTIC_PW, backupSources: [src] })
    if (set.status !== 200) throw new Error(`settings: ${set.status} ${set.text}`)
    try {
      await signIn(page)
      await page.goto(h.baseURL + '/settings/backup')
      await page.waitForSelector('[data-testid=restic-status]:has-text("2 recent snapshot(s)")')
      // Walk down to the source folder.
      for (const part of src.split('/').filter(Boolean)) {
        await page.click(`[data-testid=browse-table] [data-entry="${part}"] a`)
        await page.waitForSelector(`nav[aria-label=Path] a:has-text("${part}")`)
      }
      await page.waitForSelector('[data-entry="notes.txt"]')
      await page.click('[data-entry="notes.txt"] a')
      await page.waitForSelector('[data-testid=versions] tbody tr:nth-child(2)')
      // Compare oldest → newest in this folder.
      const names = await page.$$eval('select[name=snapshot] option', (os) => os.map((o) => o.value))
      await page.selectOption('select[name=diff-a]', names[1])
      await page.selectOption('select[name=diff-b]', names[0])
      await page.click('form[aria-label="Compare snapshots"] button[type=submit]')
      await page.waitForSelector('[data-testid=diff]')
      const d = await page.innerText('[data-testid=diff]')
      if (!/Added: new\.txt/.test(d) || !/Changed: notes\.txt/.test(d)) throw new Error(`diff reads ${JSON.stringify(d)}`)
      // Restore the first version where it came from.
      await page.click(`[data-restore="${names[1]}"]`)
      await page.waitForSelector('[data-testid=settings-msg]:has-text("Restored to")')
      const got = readFileSync(join(src, 'notes.txt'), 'utf8')
      if (got !== 'first\n') throw new Error(`restored file holds ${JSON.stringify(got)}`)
      await page.screenshot({ path: join(h.ART, 'admin-backup.png') })
    } finally {
      await api('POST', '/api/settings', token, { resticRepo: '', resticPassword: '' })
    }
  })

  test('admin: viewer and operator see backup and plugins read-only, no admin tabs', async ({ page, token }) => {
    await createUser(token, 'e2e-adm-viewer', 'Viewer-Adm-3!', 'viewer')
    await createUser(token, 'e2e-adm-op', 'Operator-Adm-3!', 'operator')
    for (const [user, pass] of [['e2e-adm-viewer', 'Viewer-Adm-3!'], ['e2e-adm-op', 'Operator-Adm-3!']]) {
      await page.evaluate(() => localStorage.clear()).catch(() => {})
      await signIn(page, user, pass)
      await page.goto(h.baseURL + '/settings/backup')
      await page.waitForSelector('[data-testid=snapshots]')
      const tabs = await page.$$eval('[role=tab]', (ts) => ts.map((t) => t.textContent.trim()))
      for (const no of ['Notifications', 'Agent keys', 'Users', 'Audit log']) if (tabs.includes(no)) throw new Error(`${user} sees the ${no} tab: ${tabs}`)
      if (!tabs.includes('Backup') || !tabs.includes('Plugins')) throw new Error(`${user} lacks Backup/Plugins tabs: ${tabs}`)
      if (await page.$('[data-testid=new-schedule]')) throw new Error(`${user} sees the schedule form`)
      if (await page.$('button:has-text("E-mail backup report")')) throw new Error(`${user} sees the report button`)
      await page.goto(h.baseURL + '/settings/plugins')
      await page.waitForSelector('h3:has-text("Installed plugins")')
      await page.waitForLoadState('networkidle').catch(() => {})
      for (const sel of ['[data-testid=catalog]', 'button:has-text("Reload")', '[data-toggle]', 'button:has-text("Configure")']) {
        if (await page.$(sel)) throw new Error(`${user} sees ${sel}`)
      }
    }
  })

  test('admin: dashboards — a refused name shows the server message; operators create and share; viewers only read',
    { expect4xx: [{ status: 400, route: 'POST /api/dashboards' }] }, async ({ page, token }) => {
      await createUser(token, 'e2e-dash-op', 'Operator-Dash-4!', 'operator')
      await createUser(token, 'e2e-dash-viewer', 'Viewer-Dash-4!', 'viewer')
      await signIn(page, 'e2e-dash-op', 'Operator-Dash-4!')
      await page.goto(h.baseURL + '/dashboards')
      await page.waitForSelector('[data-testid=dash-form]')
      await page.click('[data-testid=dash-form] button[type=submit]')
      await page.waitForSelector('[data-testid=dash-error]')
      const e = await page.innerText('[data-testid=dash-error]')
      if (!/Dashboard name is required/.test(e)) throw new Error(`error reads ${JSON.stringify(e)}`)
      await page.fill('input[name=dash-name]', 'E2E board')
      await page.check('input[name=dash-shared]')
      await page.click('[data-testid=dash-form] button[type=submit]')
      await page.waitForSelector('[data-dash="E2E board"]')
      await page.click('[data-dash="E2E board"] a')
      await page.waitForSelector('[data-testid=dash-view]')
      await page.screenshot({ path: join(h.ART, 'admin-dashboards.png') })

      await page.evaluate(() => localStorage.clear())
      await signIn(page, 'e2e-dash-viewer', 'Viewer-Dash-4!')
      await page.goto(h.baseURL + '/dashboards')
      await page.waitForSelector('[data-dash="E2E board"]')
      if (await page.$('[data-testid=dash-form]')) throw new Error('a viewer sees the dashboard form')
      if (await page.$('[data-dash="E2E board"] button')) throw new Error('a viewer sees edit/delete buttons')
      const nav = await page.innerText('nav')
      if (!/Dashboards/.test(nav)) throw new Error('the Dashboards section is not in the navigation')
    })

  test('admin: the login page shows the configured SSO button; the profile lists linked sign-ins', async ({ page, token }) => {
    const set = await api('POST', '/api/settings', token, { oidcProviderUrl: 'http://127.0.0.1:9/idp', oidcClientId: 'noba', oidcProviderName: 'Homelab SSO' })
    if (set.status !== 200) throw new Error(`settings: ${set.status} ${set.text}`)
    try {
      await page.evaluate(() => localStorage.clear()).catch(() => {})
      await page.goto(h.baseURL + '/login')
      await page.waitForSelector('a:has-text("Homelab SSO")')
      const href = await page.getAttribute('a:has-text("Homelab SSO")', 'href')
      if (href !== '/api/auth/oidc/login') throw new Error(`SSO button points at ${href}`)
      await signIn(page)
      await page.goto(h.baseURL + '/profile')
      await page.waitForSelector('[data-testid=linked-providers]:has-text("No linked sign-in")')
      await page.waitForSelector('[data-testid=linked-providers] button:has-text("Link Homelab SSO")')
    } finally {
      await api('POST', '/api/settings', token, { oidcProviderUrl: '', oidcClientId: '' })
    }
  })

  test('admin: agent keys and test notification (admin only)', async ({ page }) => {
    await signIn(page)
    await page.goto(h.baseURL + '/settings/agent-keys')
    await page.waitForSelector('[data-testid=agent-keys-state]:has-text("Agent keys are set")')
    await page.goto(h.baseURL + '/settings/notifications')
    await page.click('[data-testid=test-notify]')
    await page.waitForSelector('[data-testid=settings-msg]:has-text("No notification channels configured")')
  })
}
