// The sections of the sidebar, the bottom navigation and the palette.
import type { Role } from './store'

export interface NavItem { to: string; label: string; ico: string; role?: Role; bottom?: boolean; keywords?: string }

export const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', ico: 'dashboard', bottom: true, keywords: 'overview home stats' },
  { to: '/history', label: 'History', ico: 'history', keywords: 'charts metrics trend csv' },
  { to: '/agents', label: 'Agents', ico: 'agents', bottom: true, keywords: 'hosts commands terminal' },
  { to: '/alerts', label: 'Alerts', ico: 'alerts', bottom: true, keywords: 'rules notifications' },
  { to: '/monitoring', label: 'Monitoring', ico: 'monitoring', keywords: 'sla endpoints incidents status uptime' },
  { to: '/infrastructure', label: 'Infrastructure', ico: 'infrastructure', keywords: 'services containers network kubernetes proxmox' },
  { to: '/automations', label: 'Automations', ico: 'automations', keywords: 'workflows approvals maintenance playbooks webhooks' },
  { to: '/logs', label: 'Logs', ico: 'logs', role: 'operator', keywords: 'journal tail' },
  { to: '/healing', label: 'Healing', ico: 'healing', keywords: 'ledger trust suggestions chaos' },
  { to: '/security', label: 'Security', ico: 'security', keywords: 'posture findings scan' },
  { to: '/settings', label: 'Settings', ico: 'settings', bottom: true, keywords: 'admin users sessions keys audit' },
]

export const SETTINGS_TABS: { id: string; label: string; role: Role }[] = [
  { id: 'general', label: 'General', role: 'viewer' },
  { id: 'users', label: 'Users', role: 'admin' },
  { id: 'sessions', label: 'Sessions', role: 'admin' },
  { id: 'api-keys', label: 'API keys', role: 'admin' },
  { id: 'ssh-keys', label: 'SSH keys', role: 'admin' },
  { id: 'audit', label: 'Audit log', role: 'admin' },
]
