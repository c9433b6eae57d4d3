// The agent command catalogue (spec 20 §7): risk decides who may run what
// (low/medium: operator and admin; high: admin only; viewers none).
import { can } from './store'

export type Risk = 'low' | 'medium' | 'high'
export interface Param { name: string; label?: string; kind?: 'text' | 'number' | 'bool' | 'select' | 'textarea'; options?: string[]; required?: boolean; def?: string | number | boolean }
export interface Cmd { type: string; label: string; risk: Risk; cat: string; params?: Param[] }

export const CATEGORIES = ['System', 'Services', 'Network', 'Files', 'Packages', 'Users', 'Containers', 'Logs', 'Agent']

const P = {
  service: { name: 'service', required: true } as Param,
  path: (def = '/') => ({ name: 'path', required: true, def }) as Param,
}

export const COMMANDS: Cmd[] = [
  { type: 'ping', label: 'Ping', risk: 'low', cat: 'System' },
  { type: 'system_info', label: 'System info', risk: 'low', cat: 'System' },
  { type: 'disk_usage', label: 'Disk usage', risk: 'low', cat: 'System', params: [P.path('/')] },
  { type: 'security_scan', label: 'Security scan', risk: 'low', cat: 'System' },
  { type: 'exec', label: 'Run command', risk: 'high', cat: 'System', params: [{ name: 'command', required: true }, { name: 'timeout', kind: 'number', def: 30 }] },
  { type: 'check_service', label: 'Check service', risk: 'low', cat: 'Services', params: [P.service] },
  { type: 'list_services', label: 'List services', risk: 'low', cat: 'Services' },
  { type: 'restart_service', label: 'Restart service', risk: 'medium', cat: 'Services', params: [P.service] },
  { type: 'service_control', label: 'Service control', risk: 'medium', cat: 'Services', params: [P.service, { name: 'action', kind: 'select', options: ['start', 'stop', 'restart', 'enable', 'disable', 'status'], def: 'status' }] },
  { type: 'network_test', label: 'Ping / trace', risk: 'low', cat: 'Network', params: [{ name: 'target', required: true }, { name: 'mode', kind: 'select', options: ['ping', 'trace'], def: 'ping' }] },
  { type: 'network_config', label: 'Network config', risk: 'low', cat: 'Network' },
  { type: 'network_stats', label: 'Network stats', risk: 'low', cat: 'Network' },
  { type: 'dns_lookup', label: 'DNS lookup', risk: 'low', cat: 'Network', params: [{ name: 'host', required: true }, { name: 'type', kind: 'select', options: ['A', 'AAAA', 'MX', 'TXT', 'NS', 'CNAME'], def: 'A' }] },
  { type: 'endpoint_check', label: 'HTTP check', risk: 'low', cat: 'Network', params: [{ name: 'url', required: true, def: 'https://' }, { name: 'method', kind: 'select', options: ['GET', 'HEAD'], def: 'GET' }] },
  { type: 'discover_services', label: 'Discover services', risk: 'low', cat: 'Network' },
  { type: 'network_discover', label: 'Discover devices', risk: 'low', cat: 'Network' },
  { type: 'file_list', label: 'List files', risk: 'low', cat: 'Files', params: [P.path('/tmp'), { name: 'pattern', def: '*' }] },
  { type: 'file_read', label: 'Read file', risk: 'low', cat: 'Files', params: [P.path(''), { name: 'lines', kind: 'number', def: 200 }] },
  { type: 'file_stat', label: 'Stat file', risk: 'low', cat: 'Files', params: [P.path('')] },
  { type: 'file_checksum', label: 'Checksum', risk: 'low', cat: 'Files', params: [P.path(''), { name: 'algorithm', kind: 'select', options: ['sha256', 'md5'], def: 'sha256' }] },
  { type: 'verify_backup', label: 'Verify backup', risk: 'medium', cat: 'Files', params: [P.path(''), { name: 'verification_type', kind: 'select', options: ['checksum', 'restore_test', 'db_integrity'], def: 'checksum' }] },
  { type: 'file_transfer', label: 'Fetch file to server', risk: 'medium', cat: 'Files', params: [P.path('')] },
  { type: 'file_write', label: 'Write file', risk: 'high', cat: 'Files', params: [P.path(''), { name: 'content', kind: 'textarea', required: true }] },
  { type: 'file_delete', label: 'Delete file', risk: 'high', cat: 'Files', params: [P.path('')] },
  { type: 'package_updates', label: 'Pending updates', risk: 'low', cat: 'Packages' },
  { type: 'package_install', label: 'Install package', risk: 'high', cat: 'Packages', params: [{ name: 'package', required: true }] },
  { type: 'package_remove', label: 'Remove package', risk: 'high', cat: 'Packages', params: [{ name: 'package', required: true }] },
  { type: 'list_users', label: 'List users', risk: 'low', cat: 'Users' },
  { type: 'user_manage', label: 'Manage user', risk: 'high', cat: 'Users', params: [{ name: 'username', required: true }, { name: 'action', kind: 'select', options: ['create', 'delete', 'modify', 'lock', 'unlock'], def: 'create' }] },
  { type: 'container_list', label: 'List containers', risk: 'low', cat: 'Containers', params: [{ name: 'all', kind: 'bool', def: true }] },
  { type: 'container_logs', label: 'Container logs', risk: 'low', cat: 'Containers', params: [{ name: 'container', required: true }, { name: 'lines', kind: 'number', def: 100 }] },
  { type: 'container_control', label: 'Container control', risk: 'medium', cat: 'Containers', params: [{ name: 'container', required: true }, { name: 'action', kind: 'select', options: ['start', 'stop', 'restart'], def: 'restart' }] },
  { type: 'get_logs', label: 'Journal', risk: 'low', cat: 'Logs', params: [{ name: 'unit' }, { name: 'lines', kind: 'number', def: 100 }, { name: 'priority', kind: 'select', options: ['', 'emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'], def: '' }] },
  { type: 'set_interval', label: 'Report interval', risk: 'medium', cat: 'Agent', params: [{ name: 'interval', kind: 'number', def: 30, required: true }] },
  { type: 'update_agent', label: 'Update agent', risk: 'high', cat: 'Agent' },
  { type: 'uninstall_agent', label: 'Uninstall agent', risk: 'high', cat: 'Agent', params: [{ name: 'confirm', kind: 'bool', def: false, required: true }] },
]

export function mayRun(risk: Risk): boolean {
  return risk === 'high' ? can('admin') : can('operator')
}

export function defaults(c: Cmd): Record<string, any> {
  const o: Record<string, any> = {}
  for (const p of c.params || []) if (p.def !== undefined) o[p.name] = p.def
  return o
}

/** clean drops empty optional values and converts numbers. */
export function clean(c: Cmd, v: Record<string, any>): Record<string, any> {
  const o: Record<string, any> = {}
  for (const p of c.params || []) {
    let x = v[p.name]
    if (x === '' || x == null) continue
    if (p.kind === 'number') x = Number(x)
    o[p.name] = x
  }
  return o
}
