// The sections of the sidebar, the bottom navigation and the palette.
// `needs` lists the routes a section reads: a section whose routes the
// server implements none of (GET /api/routes) is not shown.
import type { Role } from './store'
import { offers, offersAny } from './serverRoutes'

export interface NavItem { to: string; label: string; ico: string; role?: Role; bottom?: boolean; keywords?: string; needs?: string[] }

/** The infrastructure tabs (pages/Section.vue) and the GET route each reads. */
export const INFRA_TABS: { id: string; label: string; path: string; key?: string; role?: Role; empty: string; columns?: string[] }[] = [
  { id: 'containers', label: 'Containers', path: '/api/containers/stats', empty: 'No containers: Docker or Podman is not installed, or nothing runs.' },
  { id: 'compose', label: 'Compose', path: '/api/compose/projects', empty: 'No Docker Compose projects found.' },
  { id: 'services', label: 'Services', path: '/api/journal/units', role: 'operator', empty: 'No systemd services listed.' },
  { id: 'interfaces', label: 'Interfaces', path: '/api/network/interfaces', empty: 'No network interfaces reported.', columns: ['name', 'ip', 'up', 'speed', 'mtu'] },
  { id: 'ports', label: 'Ports', path: '/api/network/ports', empty: 'No listening ports reported.', columns: ['port', 'address', 'pid', 'process'] },
  { id: 'connections', label: 'Connections', path: '/api/network/connections', role: 'operator', empty: 'No established connections.', columns: ['process', 'pid', 'local', 'remote', 'status'] },
  { id: 'devices', label: 'Devices', path: '/api/network/devices', empty: 'No discovered devices. Run a discovery from an agent.' },
  { id: 'k8s', label: 'Kubernetes', path: '/api/k8s/pods', empty: 'Kubernetes is not configured.' },
  { id: 'proxmox', label: 'Proxmox', path: '/api/proxmox/nodes/node/vms', empty: 'Proxmox is not configured.' },
  { id: 'operations', label: 'Disks & backups', path: '/api/smart', empty: 'No disk data.' },
  { id: 'terminal', label: 'Terminal', path: '/api/terminal', role: 'admin', empty: 'The server terminal is off.' },
  { id: 'topology', label: 'Topology', path: '/api/dependencies', empty: 'No service dependencies defined.' },
  { id: 'tailscale', label: 'Tailscale', path: '/api/tailscale/status', empty: 'Tailscale is not installed or not connected.' },
]

/** The tabs of the Automations page and the GET route each reads. */
export const AUTOMATION_TABS: { id: string; label: string; route: string; role?: Role }[] = [
  { id: 'automations', label: 'Automations', route: 'GET /api/automations' },
  { id: 'history', label: 'History', route: 'GET /api/runs' },
  { id: 'approvals', label: 'Approvals', route: 'GET /api/approvals' },
  { id: 'maintenance', label: 'Maintenance', route: 'GET /api/maintenance-windows' },
  { id: 'audit', label: 'Audit trail', route: 'GET /api/action-audit' },
  { id: 'playbooks', label: 'Playbooks', route: 'GET /api/playbooks' },
  { id: 'webhooks', label: 'Webhooks', route: 'GET /api/webhooks', role: 'admin' },
]

/** The tabs of the Healing page and the route each needs. */
export const HEALING_TABS: { id: string; label: string; route: string }[] = [
  { id: 'ledger', label: 'Ledger', route: 'GET /api/healing/ledger' },
  { id: 'effectiveness', label: 'Effectiveness', route: 'GET /api/healing/effectiveness' },
  { id: 'trust', label: 'Trust', route: 'GET /api/healing/trust' },
  { id: 'suggestions', label: 'Suggestions', route: 'GET /api/healing/suggestions' },
  { id: 'maintenance', label: 'Maintenance', route: 'GET /api/healing/maintenance' },
  { id: 'dry-run', label: 'Dry run', route: 'POST /api/healing/dry-run' },
  { id: 'chaos', label: 'Chaos', route: 'GET /api/healing/chaos/scenarios' },
]

/** The sources of the Logs page and the GET route each reads. */
export const LOG_SOURCES: { id: string; label: string; route: string }[] = [
  { id: 'journal', label: 'Journal', route: 'GET /api/journal' },
  { id: 'syserr', label: 'System errors', route: 'GET /api/log-viewer' },
  { id: 'action', label: 'Action log', route: 'GET /api/action-log' },
  { id: 'backup', label: 'Backup log', route: 'GET /api/log-viewer' },
  { id: 'cloud', label: 'Cloud log', route: 'GET /api/log-viewer' },
]

/** The tabs of the Monitoring page and the route each needs (none: always shown). */
export const MONITORING_TABS: { id: string; label: string; route?: string }[] = [
  { id: 'endpoints', label: 'Endpoints', route: 'GET /api/endpoints' },
  { id: 'sla', label: 'SLA', route: 'GET /api/sla/summary' },
  { id: 'incidents', label: 'Incidents', route: 'GET /api/incidents' },
  { id: 'status', label: 'Status page', route: 'GET /api/status/components' },
  { id: 'correlation', label: 'Correlation' },
]

/** The tabs of the Intelligence page and the GET route each reads. */
export const INTELLIGENCE_TABS: { id: string; label: string; route: string }[] = [
  { id: 'incidents', label: 'Incidents', route: 'GET /api/incidents' },
  { id: 'dependencies', label: 'Dependencies', route: 'GET /api/dependencies' },
  { id: 'drift', label: 'Config drift', route: 'GET /api/baselines' },
  { id: 'assistant', label: 'AI assistant', route: 'GET /api/ai/status' },
  { id: 'predictions', label: 'Predictions', route: 'GET /api/predict/capacity' },
]

/** The first tab the server offers (or the first tab when none is). */
export function firstOffered<T extends { route?: string }>(tabs: T[]): T | undefined {
  return tabs.find((t) => !t.route || offers(t.route)) || tabs[0]
}

export const NAV: NavItem[] = [
  { to: '/', label: 'Dashboard', ico: 'dashboard', bottom: true, keywords: 'overview home stats' },
  { to: '/history', label: 'History', ico: 'history', keywords: 'charts metrics trend csv' },
  { to: '/agents', label: 'Agents', ico: 'agents', bottom: true, keywords: 'hosts commands terminal' },
  { to: '/alerts', label: 'Alerts', ico: 'alerts', bottom: true, keywords: 'rules notifications' },
  { to: '/monitoring', label: 'Monitoring', ico: 'monitoring', keywords: 'sla endpoints incidents status uptime' },
  { to: '/infrastructure', label: 'Infrastructure', ico: 'infrastructure', keywords: 'services containers network kubernetes proxmox', needs: INFRA_TABS.map((t) => 'GET ' + t.path) },
  { to: '/automations', label: 'Automations', ico: 'automations', keywords: 'workflows approvals maintenance playbooks webhooks', needs: AUTOMATION_TABS.map((t) => t.route) },
  { to: '/logs', label: 'Logs', ico: 'logs', role: 'operator', keywords: 'journal tail', needs: LOG_SOURCES.map((t) => t.route) },
  { to: '/healing', label: 'Healing', ico: 'healing', keywords: 'ledger trust suggestions chaos', needs: HEALING_TABS.map((t) => t.route) },
  { to: '/intelligence', label: 'Intelligence', ico: 'monitoring', keywords: 'incidents war room dependencies impact drift baselines ai assistant chat prediction capacity', needs: INTELLIGENCE_TABS.map((t) => t.route) },
  { to: '/security', label: 'Security', ico: 'security', keywords: 'posture findings scan', needs: ['GET /api/security/score', 'GET /api/security/findings', 'GET /api/security/history'] },
  { to: '/dashboards', label: 'Dashboards', ico: 'dashboard', keywords: 'custom saved boards', needs: ['GET /api/dashboards'] },
  { to: '/settings', label: 'Settings', ico: 'settings', bottom: true, keywords: 'admin users sessions keys audit' },
]

export const SETTINGS_TABS: { id: string; label: string; role: Role; route?: string }[] = [
  { id: 'general', label: 'General', role: 'viewer' },
  { id: 'integrations', label: 'Integrations', role: 'viewer', route: 'GET /api/integrations/instances' },
  { id: 'users', label: 'Users', role: 'admin' },
  { id: 'sessions', label: 'Sessions', role: 'admin' },
  { id: 'api-keys', label: 'API keys', role: 'admin' },
  { id: 'ssh-keys', label: 'SSH keys', role: 'admin' },
  { id: 'audit', label: 'Audit log', role: 'admin' },
  // pages/SettingsAdmin.vue (shown when the server offers the route)
  { id: 'backup', label: 'Backup', role: 'viewer', route: 'GET /api/backup/history' },
  { id: 'plugins', label: 'Plugins', role: 'viewer', route: 'GET /api/plugins/managed' },
  { id: 'notifications', label: 'Notifications', role: 'admin', route: 'POST /api/notifications/test' },
  { id: 'agent-keys', label: 'Agent keys', role: 'admin', route: 'POST /api/settings' },
]

/** The Settings tabs pages/SettingsAdmin.vue renders. */
export const ADMIN_SETTINGS_TABS = ['backup', 'plugins', 'notifications', 'agent-keys']

/** navVisible: the user's role may open the section and the server offers at least one of its routes. */
export function navVisible(n: NavItem, can: (r: Role) => boolean): boolean {
  return (!n.role || can(n.role)) && (!n.needs || offersAny(n.needs))
}
