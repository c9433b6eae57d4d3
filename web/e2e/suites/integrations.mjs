// Settings › Integrations: integration instances (router 10) through the UI.
import { createServer } from 'node:http'
import { createSocket } from 'node:dgram'
import { join } from 'node:path'

// A loopback HTTP service standing in for an integration's web API.
function upstream() {
  return new Promise((resolve) => {
    const srv = createServer((req, res) => { res.writeHead(200, { 'Content-Type': 'application/json' }); res.end('{"ok":true}') })
    srv.listen(0, '127.0.0.1', () => resolve(srv))
  })
}
function closedURL() {
  return new Promise((resolve) => {
    const srv = createServer()
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(`http://127.0.0.1:${port}`)) })
  })
}

const SECRET = 'e2e-TrueNAS-key-Very-Secret'

export default function register(h) {
  h.test('integrations: admin sets up two instances of one platform, tests each, groups them; secrets stay masked',
    { expect4xx: [{ status: 400, route: 'POST /api/integrations/instances' }] }, async ({ page, token }) => {
      const up = await upstream()
      const upURL = `http://127.0.0.1:${up.address().port}`
      const down = await closedURL()
      try {
        page.on('dialog', (d) => d.accept())
        await h.signIn(page)
        await page.goto(h.baseURL + '/settings/integrations')
        await page.waitForSelector('[data-testid=integrations]')
        await page.waitForSelector('text=No integrations yet')

        // guided setup: category -> platform -> the platform's form
        await page.selectOption('select[name=category]', 'nas')
        await h.waitFor('platforms of nas', async () => (await page.$$('select[name=platform] option')).length > 1)
        await page.selectOption('select[name=platform]', 'truenas')
        await page.fill('input[name=instance-id]', 'nas-main')
        await page.fill('input[name=url]', 'ftp://nas')
        await page.fill('input[name=auth-api_key]', SECRET)
        await page.click('[data-testid=save-instance]')
        const e = await page.waitForSelector('[data-testid=integrations-error]')
        if (!/url must be an http/.test(await e.innerText())) throw new Error(`validation message: ${await e.innerText()}`)

        await page.fill('input[name=url]', upURL)
        await page.click('[data-testid=test-form]')
        await page.waitForSelector('[data-testid=test-result]:has-text("Reachable (HTTP 200)")')
        await page.click('[data-testid=save-instance]')
        await page.waitForSelector('[data-instance=nas-main]')

        // a second TrueNAS beside it, with its own URL and credentials
        await page.selectOption('select[name=category]', 'nas')
        await h.waitFor('platforms of nas', async () => (await page.$$('select[name=platform] option')).length > 1)
        await page.selectOption('select[name=platform]', 'truenas')
        await page.fill('input[name=instance-id]', 'nas-backup')
        await page.fill('input[name=url]', down)
        await page.fill('input[name=auth-api_key]', 'second-key-222')
        await page.click('[data-testid=save-instance]')
        await page.waitForSelector('[data-instance=nas-backup]')

        // each instance tested with its own config; health follows
        await page.click('[data-instance=nas-main] [data-testid=test-row]')
        await page.waitForSelector('[data-instance=nas-main] [data-testid=health]:has-text("online")')
        await page.click('[data-instance=nas-backup] [data-testid=test-row]')
        await page.waitForSelector('[data-instance=nas-backup] [data-testid=row-test]:has-text("Connection refused")')
        await page.waitForSelector('[data-instance=nas-backup] [data-testid=health]:has-text("offline")')

        // editing shows the secret masked; saving it unchanged keeps it
        await page.click('[data-instance=nas-main] [data-testid=edit-row]')
        const shown = await page.inputValue('input[name=auth-api_key]')
        if (shown !== '***') throw new Error(`the edit form shows the API key as ${JSON.stringify(shown)}, want ***`)
        await page.fill('input[name=site]', 'home')
        await page.click('[data-testid=save-instance]')
        await page.waitForSelector('[data-testid=integrations-msg]:has-text("Saved nas-main")')
        await page.waitForSelector('[data-instance=nas-main] td:has-text("home")')
        if ((await page.content()).includes(SECRET)) throw new Error('the page shows the API key')
        const api = await h.api('GET', '/api/integrations/instances/nas-main', token)
        if (api.json?.auth_config?.api_key !== '***' || api.text.includes(SECRET)) throw new Error(`API answer: ${api.text}`)

        // groups
        await page.fill('[data-testid=add-member] input[name=group]', 'storage')
        await page.selectOption('[data-testid=add-member] select[name=member]', 'nas-main')
        await page.click('[data-testid=add-member] button[type=submit]')
        await page.waitForSelector('[data-testid=members] td:has-text("nas-main")')
        await page.waitForSelector('[data-testid=groups] button:has-text("storage")')

        await page.click('[data-instance=nas-backup] [data-testid=delete-row]')
        await h.waitFor('nas-backup removed', async () => !(await page.$('[data-instance=nas-backup]')))
        await page.screenshot({ path: join(h.ART, 'integrations-admin.png'), fullPage: true })
      } finally {
        up.close()
      }
    })

  h.test('integrations: a viewer and an operator see no control they may not use', async ({ page, token }) => {
    const up = await upstream()
    try {
      const r = await h.api('POST', '/api/integrations/instances', token, { id: 'ha-1', category: 'smart_home', platform: 'homeassistant',
        url: `http://127.0.0.1:${up.address().port}`, auth_config: { token: 'ha-e2e-token-secret' } })
      if (r.status !== 200 && r.status !== 409) throw new Error(`seed: ${r.status} ${r.text}`)
      await h.createUser(token, 'int-viewer', 'Viewer-pass-123', 'viewer')
      await h.createUser(token, 'int-operator', 'Operator-pass-123', 'operator')

      await h.signIn(page, 'int-viewer', 'Viewer-pass-123')
      await page.goto(h.baseURL + '/settings/integrations')
      await page.waitForSelector('[data-instance=ha-1]')
      await page.waitForSelector('[data-testid=cloud-remotes]')
      for (const sel of ['[data-testid=test-row]', '[data-testid=edit-row]', '[data-testid=delete-row]', '[data-testid=instance-form]', '[data-testid=add-member]',
        '[data-testid=wol]', '[data-testid=test-remote]', '[data-testid=create-remote]', '[data-testid=delete-remote]'])
        if (await page.$(sel)) throw new Error(`the viewer sees ${sel}`)
      if ((await page.content()).includes('ha-e2e-token-secret')) throw new Error('the viewer sees the token')

      await page.evaluate(() => localStorage.clear())
      await h.signIn(page, 'int-operator', 'Operator-pass-123')
      await page.goto(h.baseURL + '/settings/integrations')
      await page.waitForSelector('[data-instance=ha-1]')
      for (const sel of ['[data-testid=edit-row]', '[data-testid=delete-row]', '[data-testid=instance-form]', '[data-testid=add-member]',
        '[data-testid=create-remote]', '[data-testid=delete-remote]'])
        if (await page.$(sel)) throw new Error(`the operator sees ${sel}`)
      await page.click('[data-instance=ha-1] [data-testid=test-row]')
      await page.waitForSelector('[data-instance=ha-1] [data-testid=row-test]:has-text("Reachable")')
      await page.waitForSelector('[data-instance=ha-1] [data-testid=health]:has-text("online")')

      // Wake-on-LAN: the magic packet reaches a UDP listener on loopback (the configured broadcast address)
      const sock = createSocket('udp4')
      await new Promise((r) => sock.bind(0, '127.0.0.1', r))
      const got = new Promise((r) => sock.once('message', (m) => r(m)))
      const set = await h.api('POST', '/api/settings', token, { wolBroadcast: `127.0.0.1:${sock.address().port}` })
      if (set.status !== 200) throw new Error(`wolBroadcast: ${set.status} ${set.text}`)
      await page.fill('[data-testid=wol] input[name=mac]', '02:00:5e:10:20:30')
      await page.click('[data-testid=wol] button[type=submit]')
      await page.waitForSelector('[data-testid=tools-msg]:has-text("Magic packet sent")')
      const pkt = await Promise.race([got, h.sleep(5000).then(() => null)])
      sock.close()
      const want = Buffer.concat([Buffer.alloc(6, 0xff), ...Array(16).fill(Buffer.from([2, 0, 0x5e, 0x10, 0x20, 0x30]))])
      if (!pkt || !want.equals(pkt)) throw new Error(`magic packet: ${pkt ? pkt.toString('hex') : 'none received'}`)
    } finally {
      up.close()
    }
  })
}
