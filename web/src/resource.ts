// useResource loads one GET route and tells apart the states a page must
// show differently: loading, loaded (possibly empty), error, no permission,
// and "this server does not offer it" (404/501/503).
import { ref, shallowRef, onUnmounted, watch, type Ref } from 'vue'
import { get, ApiError } from './api'

export type ResState = 'loading' | 'ok' | 'error' | 'forbidden' | 'unavailable'

export function useResource<T = any>(path: Ref<string | null> | string | (() => string | null), opts: { poll?: number } = {}) {
  const data = shallowRef<T | null>(null)
  const state = ref<ResState>('loading')
  const error = ref('')
  let timer: number | undefined
  const p = () => (typeof path === 'function' ? path() : typeof path === 'string' ? path : path.value)

  async function load(quiet = false) {
    const url = p()
    if (!url) return
    if (!quiet && data.value == null) state.value = 'loading'
    try {
      data.value = await get<T>(url)
      state.value = 'ok'
      error.value = ''
    } catch (e) {
      const st = e instanceof ApiError ? e.status : 0
      error.value = e instanceof Error ? e.message : String(e)
      state.value = st === 403 ? 'forbidden' : st === 404 || st === 501 || st === 503 || st === 405 ? 'unavailable' : 'error'
    }
  }
  if (typeof path !== 'string') watch(p, () => { data.value = null; void load() })
  void load()
  if (opts.poll) timer = window.setInterval(() => load(true), opts.poll)
  onUnmounted(() => clearInterval(timer))
  return { data, state, error, reload: load }
}
