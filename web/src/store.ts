// Shared state: the session (who is signed in, with which role), the live
// stats feed (SSE with a polling fallback), the server's route table and
// the theme.
import { reactive } from 'vue'
import { get, post, getToken, setToken, ApiError } from './api'
import { routeTable, setRoutes, setRoutesPending, offers, offersAny } from './serverRoutes'

export { offers, offersAny }

export type Role = 'viewer' | 'operator' | 'admin'
const RANK: Record<string, number> = { viewer: 1, operator: 2, admin: 3 }

export const session = reactive({
  username: '',
  role: '' as Role | '',
  permissions: [] as string[],
  ready: false,
})

/** can reports whether the signed-in user has at least the given role. */
export function can(role: Role): boolean {
  return (RANK[session.role] || 0) >= RANK[role]
}

export async function loadMe(): Promise<boolean> {
  if (!getToken()) { session.ready = true; return false }
  try {
    const me = await get('/api/me')
    await loadRoutes() // before the shell renders, so nothing absent is shown or called
    if (!getToken()) { session.ready = true; return false } // the session ended meanwhile
    session.username = me.username
    session.role = me.role
    session.permissions = me.permissions || []
    session.ready = true
    return true
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) setToken(null)
    session.ready = true
    return false
  }
}

// ---- the server's routes ----

let routesLoad: Promise<void> | null = null

/**
 * loadRoutes fetches GET /api/routes once per session and caches the table
 * (serverRoutes.ts); calls made meanwhile wait for it. When it fails the
 * table stays empty and every route counts as offered.
 */
export function loadRoutes(): Promise<void> {
  if (routeTable.value || routesLoad) return routesLoad || Promise.resolve()
  const p = (async () => {
    try { setRoutes(await get('/api/routes')) } catch { setRoutes(null) }
  })().finally(() => { if (routesLoad === p) { routesLoad = null; setRoutesPending(null) } })
  routesLoad = p
  setRoutesPending(p)
  return p
}

export async function signOut() {
  try { await post('/api/logout') } catch { /* token may already be gone */ }
  clearSession()
}

export function clearSession() {
  setToken(null)
  session.username = ''
  session.role = ''
  session.permissions = []
  setRoutes(null)
  stopLive()
}

// ---- live stats ----

export type LiveMode = 'sse' | 'poll' | 'down' | 'off'
const KEEP = 60 // samples kept for sparklines (5 minutes at 5 s)

export const live = reactive({
  stats: null as Record<string, any> | null,
  mode: 'off' as LiveMode,
  receivedAt: 0, // ms epoch of the last snapshot
  series: { cpu: [] as number[], mem: [] as number[], rx: [] as number[], tx: [] as number[] },
})

let es: EventSource | null = null
let pollTimer: number | undefined
let retryTimer: number | undefined
let started = false

function push(arr: number[], v: unknown) {
  const n = typeof v === 'number' ? v : parseFloat(String(v))
  if (!Number.isFinite(n)) return
  arr.push(n)
  if (arr.length > KEEP) arr.splice(0, arr.length - KEEP)
}

function apply(s: Record<string, any>) {
  live.stats = s
  live.receivedAt = Date.now()
  push(live.series.cpu, s.cpuPercent ?? s.cpu_percent)
  push(live.series.mem, s.memPercent ?? s.mem_percent ?? s.memory?.percent)
  push(live.series.rx, s.netRxRaw ?? s.net_rx_bytes)
  push(live.series.tx, s.netTxRaw ?? s.net_tx_bytes)
}

async function pollOnce() {
  try {
    apply(await get('/api/stats'))
    if (live.mode !== 'sse') live.mode = 'poll'
  } catch {
    if (live.mode !== 'sse') live.mode = 'down'
  }
}

function startPolling() {
  if (pollTimer) return
  void pollOnce()
  pollTimer = window.setInterval(pollOnce, 5000)
}
function stopPolling() {
  if (pollTimer) { clearInterval(pollTimer); pollTimer = undefined }
}

function openStream() {
  const t = getToken()
  if (!t || es) return
  es = new EventSource(`/api/stream?token=${encodeURIComponent(t)}`)
  es.onopen = () => { live.mode = 'sse'; stopPolling() }
  es.onmessage = (ev) => {
    try { apply(JSON.parse(ev.data)); live.mode = 'sse'; stopPolling() } catch { /* keep-alive or partial */ }
  }
  es.onerror = () => {
    // Fall back to polling and try the stream again later.
    es?.close()
    es = null
    if (live.mode === 'sse' || live.mode === 'off') live.mode = 'poll'
    startPolling()
    clearTimeout(retryTimer)
    retryTimer = window.setTimeout(openStream, 20000)
  }
}

export function startLive() {
  if (started) return
  started = true
  openStream()
  // If the stream has not delivered within 6 s, poll meanwhile.
  window.setTimeout(() => { if (live.mode !== 'sse') startPolling() }, 6000)
}

export function stopLive() {
  started = false
  es?.close()
  es = null
  stopPolling()
  clearTimeout(retryTimer)
  live.mode = 'off'
  live.stats = null
}

// ---- theme ----

export type Theme = 'light' | 'dark' | 'system'
export const ui = reactive({
  theme: (localStorage.getItem('noba.theme') as Theme) || 'system',
  sidebarCollapsed: localStorage.getItem('noba.sidebar') === 'collapsed',
  paletteOpen: false,
})

export function applyTheme(t: Theme) {
  ui.theme = t
  localStorage.setItem('noba.theme', t)
  const eff = t === 'system' ? (matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark') : t
  document.documentElement.setAttribute('data-theme', eff)
}
