// The API client: one fetch wrapper that sends the session token, turns
// error bodies ({"error": m, "detail": m}) into ApiError, and sends the user
// back to the login page when the session has ended. A call to a route the
// server does not implement (per GET /api/routes, see serverRoutes.ts) is not
// sent: it fails as a 404 ApiError, the "not available on this server" state.
import { offered, routesPending } from './serverRoutes'

export class ApiError extends Error {
  status: number
  constructor(status: number, message: string) {
    super(message)
    this.status = status
  }
}

const TOKEN_KEY = 'noba.token'
let token: string | null = localStorage.getItem(TOKEN_KEY)
let onUnauthorized: () => void = () => {}

export function getToken(): string | null { return token }
export function setToken(t: string | null) {
  token = t
  if (t) localStorage.setItem(TOKEN_KEY, t)
  else localStorage.removeItem(TOKEN_KEY)
}
export function setUnauthorizedHandler(f: () => void) { onUnauthorized = f }

export interface RequestOptions {
  raw?: boolean // return the Response itself
  headers?: Record<string, string>
  signal?: AbortSignal
}

/** The message of a call that was not sent because the server lacks the route. */
export const NOT_OFFERED = 'Not available on this server'

export async function request<T = any>(method: string, path: string, body?: unknown, opts: RequestOptions = {}): Promise<T> {
  const wait = path !== '/api/routes' ? routesPending() : null
  if (wait) await wait
  if (!offered(method, path)) throw new ApiError(404, NOT_OFFERED)
  const headers: Record<string, string> = { Accept: 'application/json', ...(opts.headers || {}) }
  if (token) headers.Authorization = `Bearer ${token}`
  let payload: BodyInit | undefined
  if (body instanceof Blob || body instanceof ArrayBuffer || typeof body === 'string') {
    payload = body as BodyInit
  } else if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
    payload = JSON.stringify(body)
  }
  let res: Response
  try {
    res = await fetch(path, { method, headers, body: payload, signal: opts.signal })
  } catch (e: any) {
    if (e?.name === 'AbortError') throw e
    throw new ApiError(0, 'The server does not answer')
  }
  if (!res.ok) {
    let msg = res.statusText || `HTTP ${res.status}`
    try {
      const j = await res.json()
      msg = j.error || j.detail || msg
    } catch { /* not JSON */ }
    if (res.status === 401 && token && !path.startsWith('/api/login')) {
      setToken(null)
      onUnauthorized()
    }
    throw new ApiError(res.status, msg)
  }
  if (opts.raw) return res as unknown as T
  const ct = res.headers.get('Content-Type') || ''
  if (ct.includes('json')) return res.json()
  return (await res.text()) as unknown as T
}

export const get = <T = any>(p: string, o?: RequestOptions) => request<T>('GET', p, undefined, o)
export const post = <T = any>(p: string, b?: unknown, o?: RequestOptions) => request<T>('POST', p, b ?? {}, o)
export const put = <T = any>(p: string, b?: unknown) => request<T>('PUT', p, b ?? {})
export const patch = <T = any>(p: string, b?: unknown) => request<T>('PATCH', p, b ?? {})
export const del = <T = any>(p: string) => request<T>('DELETE', p)

/** Encodes one path segment. */
export const seg = (s: string) => encodeURIComponent(s)

/** Downloads an authenticated response as a file. */
export async function download(path: string, fallbackName: string) {
  const res = await request<Response>('GET', path, undefined, { raw: true, headers: { Accept: '*/*' } })
  const cd = res.headers.get('Content-Disposition') || ''
  const m = /filename="?([^";]+)"?/.exec(cd)
  const blob = await res.blob()
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = m ? m[1] : fallbackName
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) return e.message
  if (e instanceof Error) return e.message
  return String(e)
}
