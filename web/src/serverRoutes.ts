// The routes this server implements, as GET /api/routes lists them
// ("METHOD /path/{param}"). The API client checks every call against the
// table and does not send one that matches no route; the navigation and
// pages hide what the server does not offer. Until the table is loaded (or
// when loading it failed) everything counts as offered, as before.
import { shallowRef } from 'vue'

type Pattern = { segs: string[]; rest: boolean } // rest: "{name...}" or a trailing "/" matches any tail
type Table = Map<string, Pattern[]>

/** The compiled table; null while not loaded. Reactive: computeds that call offers() follow it. */
export const routeTable = shallowRef<Table | null>(null)

/** Compiles the list GET /api/routes returns; null or a malformed list clears the table. */
export function setRoutes(list: unknown) {
  if (!Array.isArray(list)) { routeTable.value = null; return }
  const t: Table = new Map()
  for (const r of list) {
    if (typeof r !== 'string') continue
    const sp = r.indexOf(' ')
    if (sp <= 0) continue
    const method = r.slice(0, sp).toUpperCase()
    let path = r.slice(sp + 1).trim()
    let rest = false
    if (path.endsWith('/{$}')) path = path.slice(0, -3) // Go's "exactly this path"
    else if (path.endsWith('/') && path.length > 1) { rest = true; path = path.slice(0, -1) }
    const segs = path.split('/')
    const last = segs[segs.length - 1]
    if (/^\{[^}]*\.\.\.\}$/.test(last)) { rest = true; segs.pop() }
    if (!t.has(method)) t.set(method, [])
    t.get(method)!.push({ segs, rest })
  }
  routeTable.value = t
}

function matches(p: Pattern, segs: string[]): boolean {
  if (p.rest ? segs.length < p.segs.length : segs.length !== p.segs.length) return false
  for (let i = 0; i < p.segs.length; i++) {
    const want = p.segs[i]
    if (want.startsWith('{') && want.endsWith('}')) { if (segs[i] === '') return false; continue }
    if (want !== segs[i]) return false
  }
  return true
}

/**
 * offered reports whether the server implements method+path (query and
 * fragment ignored; a "{param}" segment matches any one non-empty segment).
 * Paths outside /api/ and any call before the table is loaded count as offered.
 */
export function offered(method: string, path: string): boolean {
  const t = routeTable.value
  if (!t || !path.startsWith('/api/')) return true
  const clean = path.split(/[?#]/, 1)[0]
  const segs = clean.split('/')
  const m = method.toUpperCase()
  const lists = [t.get(m), m === 'HEAD' ? t.get('GET') : undefined]
  return lists.some((l) => !!l && l.some((p) => matches(p, segs)))
}

/** offers("GET /api/x/1") is offered() for a "METHOD /path" string (method defaults to GET). */
export function offers(route: string): boolean {
  const sp = route.indexOf(' ')
  return sp < 0 ? offered('GET', route) : offered(route.slice(0, sp), route.slice(sp + 1))
}

/** offersAny is true when at least one of the routes is offered. */
export const offersAny = (routes: string[]) => routes.some(offers)

// While the table is being loaded, the API client waits for it so that no
// call races ahead of the check.
let pending: Promise<void> | null = null
export function routesPending(): Promise<void> | null { return pending }
export function setRoutesPending(p: Promise<void> | null) { pending = p }
