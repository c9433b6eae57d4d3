// One unit system for the whole dashboard: IEC binary units (KiB, MiB,
// GiB: powers of 1024), chosen once and used by every page, so a disk reads
// the same on the overview and on the agent page. Also the human names and
// units of the history metrics.

const IEC = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB']

/** bytes formats n bytes in IEC units ("15.0 GiB"); perSec appends "/s". */
export function bytes(n: number | null | undefined, perSec = false): string {
  if (n == null || !Number.isFinite(n)) return '—'
  let i = 0
  let v = Math.abs(n)
  while (v >= 1024 && i < IEC.length - 1) { v /= 1024; i++ }
  return `${n < 0 ? '-' : ''}${v.toFixed(v >= 100 || i === 0 ? 0 : 1)} ${IEC[i]}${perSec ? '/s' : ''}`
}

/**
 * parseSize reads a size the host reports as text ("15G", "258019 MiB",
 * "1.5 TB", "512K") as bytes; plain letters (df -h) count as IEC.
 */
export function parseSize(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) ? v : null
  const m = /^\s*([\d.]+)\s*([KMGTP]?)(i?B?)\s*$/i.exec(String(v ?? ''))
  if (!m) return null
  const n = parseFloat(m[1])
  if (!Number.isFinite(n)) return null
  const exp = ' KMGTP'.indexOf(m[2].toUpperCase() || ' ')
  return n * 1024 ** Math.max(0, exp)
}

/** size formats a number of bytes or a size string in IEC units. */
export function size(v: unknown): string {
  const n = parseSize(v)
  return n == null ? (v == null || v === '' ? '—' : String(v)) : bytes(n)
}

export interface MetricInfo { label: string; unit: string }

const METRICS: Record<string, MetricInfo> = {
  cpu_percent: { label: 'CPU usage', unit: '%' },
  mem_percent: { label: 'Memory usage', unit: '%' },
  cpu_temp: { label: 'CPU temperature', unit: '°C' },
  gpu_temp: { label: 'GPU temperature', unit: '°C' },
  disk_percent: { label: 'Disk usage', unit: '%' },
  ping_ms: { label: 'Ping', unit: 'ms' },
  net_rx_bytes: { label: 'Network receive', unit: 'B/s' },
  net_tx_bytes: { label: 'Network send', unit: 'B/s' },
  disk_io_read_bps: { label: 'Disk read', unit: 'B/s' },
  disk_io_write_bps: { label: 'Disk write', unit: 'B/s' },
  cert_expiry_days: { label: 'Certificate expiry', unit: 'days' },
  domain_expiry_days: { label: 'Domain expiry', unit: 'days' },
  load_1m: { label: 'Load (1 min)', unit: '' },
}

/** metricInfo gives a metric's human name and unit; unknown ids get a readable name. */
export function metricInfo(id: string): MetricInfo {
  if (METRICS[id]) return METRICS[id]
  const agent = /^agent_(.+)_(cpu|mem|disk)$/.exec(id)
  if (agent) return { label: `${agent[1]} ${agent[2] === 'mem' ? 'memory' : agent[2].toUpperCase()}`, unit: '%' }
  const words = id.replace(/_/g, ' ')
  return { label: words.charAt(0).toUpperCase() + words.slice(1), unit: /percent|_pct$/.test(id) ? '%' : /_ms$/.test(id) ? 'ms' : /bytes|bps/.test(id) ? 'B/s' : '' }
}

/** fmtValue formats a value in a metric's unit. */
export function fmtValue(v: number, unit: string): string {
  if (!Number.isFinite(v)) return '—'
  if (unit === 'B/s') return bytes(v, true)
  if (unit === '%') return `${v.toFixed(v >= 10 ? 0 : 1)}%`
  const s = Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2)
  return unit ? `${s} ${unit}` : s
}

export interface DiskView { pct: number | null; used: string; total: string; line: string }

/**
 * disk reads a disk of the stats snapshot or of an agent report the one way
 * every page shows it: the server's percent (df's Use%: used/(used+available),
 * which reserved blocks make larger than used/total) and IEC sizes.
 */
export function disk(d: any): DiskView {
  const p = typeof d?.percent === 'number' ? d.percent : parseFloat(String(d?.percent))
  const pct = Number.isFinite(p) ? Math.round(p) : null
  const used = size(d?.used_bytes ?? d?.used)
  const total = size(d?.total_bytes ?? d?.total ?? d?.size)
  return { pct, used, total, line: `${pct ?? '—'}% · ${used} of ${total}` }
}

/** share formats a small percentage (a process's memory) without rounding it to 0. */
export function share(v: unknown): string {
  const n = typeof v === 'number' ? v : parseFloat(String(v))
  if (!Number.isFinite(n)) return '—'
  if (n === 0) return '0%'
  if (n < 0.01) return '<0.01%'
  return `${n.toFixed(n >= 10 ? 0 : n >= 1 ? 1 : 2)}%`
}
