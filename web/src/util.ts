// Formatting helpers shared by the pages.

import { bytes } from './units'

/** fmtBytes formats bytes in the one unit system (IEC, see units.ts). */
export function fmtBytes(n: number | null | undefined, perSec = false): string {
  return bytes(n, perSec)
}

export function fmtTime(t: number | string | null | undefined): string {
  if (t == null || t === '') return '—'
  const d = typeof t === 'number' ? new Date(t < 1e12 ? t * 1000 : t) : new Date(t)
  if (isNaN(d.getTime())) return String(t)
  return d.toLocaleString()
}

export function ago(t: number | null | undefined): string {
  if (!t) return 'never'
  const ms = t < 1e12 ? t * 1000 : t
  const s = Math.max(0, Math.round((Date.now() - ms) / 1000))
  if (s < 60) return `${s}s ago`
  if (s < 3600) return `${Math.floor(s / 60)}m ago`
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`
  return `${Math.floor(s / 86400)}d ago`
}

export function fmtDuration(sec: number | null | undefined): string {
  if (sec == null || !Number.isFinite(sec)) return '—'
  const d = Math.floor(sec / 86400), h = Math.floor((sec % 86400) / 3600), m = Math.floor((sec % 3600) / 60)
  return d ? `${d}d ${h}h ${m}m` : h ? `${h}h ${m}m` : `${m}m ${Math.floor(sec % 60)}s`
}

export function pctClass(p: number): string {
  return p >= 90 ? 'bad' : p >= 75 ? 'warn' : ''
}

export function num(v: unknown): number | null {
  const n = typeof v === 'number' ? v : parseFloat(String(v))
  return Number.isFinite(n) ? n : null
}

/** asList accepts a bare array or the first array property of an object. */
export function asList(v: any, key?: string): any[] {
  if (Array.isArray(v)) return v
  if (v && key && Array.isArray(v[key])) return v[key]
  if (v && typeof v === 'object') for (const k of Object.keys(v)) if (Array.isArray(v[k])) return v[k]
  return []
}

export function cell(v: unknown): string {
  if (v == null) return '—'
  if (typeof v === 'boolean') return v ? 'yes' : 'no'
  if (typeof v === 'object') return JSON.stringify(v)
  return String(v)
}
