package ops

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs"
)

// Routes mounts router 15 (operations); /api/system/info, /api/system/health
// and /api/processes/* are served by the stats room.
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/recovery/tailscale-reconnect", authz.Operator, "Reconnect Tailscale VPN"), r.tailscale)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/recovery/dns-flush", authz.Operator, "Restart DNS service"), r.dnsFlush)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/recovery/service-restart", authz.Operator, "Restart a named service"), r.serviceRestart)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/sites/sync-status", authz.Read, "Multi-site sync status"), r.syncStatus)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/smart", authz.Read, "SMART disk health data"), r.smart)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/journal", authz.Operator, "Query systemd journal"), r.journal)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/journal/units", authz.Operator, "List systemd units for filter"), r.journalUnits)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/system/cpu-governor", authz.Admin, "Set CPU frequency governor"), r.cpuGovernor)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/export/ansible", authz.Operator, "Generate Ansible playbook"), r.exportAnsible)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/export/docker-compose", authz.Operator, "Generate docker-compose.yml"), r.exportCompose)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/export/shell", authz.Operator, "Generate bash setup script"), r.exportShell)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/verifications", authz.Read, "Backup verification history"), r.verifications)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/backup/verify", authz.Operator, "Trigger backup verification"), r.verify)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/321-status", authz.Read, "3-2-1 backup compliance status"), r.list321)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/backup/321-status", authz.Operator, "Update 3-2-1 compliance tracking"), r.put321)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/system/update/check", authz.Operator, "Check for available updates"), r.updateCheck)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/system/update/apply", authz.Admin, "Pull, install, and restart"), r.updateApply)
}

// Jobs: the operations room has no background work.
func (r *Room) Jobs() []jobs.Job { return nil }
