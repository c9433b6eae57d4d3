package admin

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts the admin room's routes.
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/settings", authz.Read, "Read all persisted settings"), r.getSettings)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/settings", authz.Admin, "Write settings to config.yaml"), r.postSettings)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/config/changelog", authz.Admin, "Settings change history"), r.changelog)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/audit", authz.Admin, "Retrieve audit log entries"), r.audit)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/config/backup", authz.Admin, "Download config.yaml backup"), r.backup)
	// The restore body is raw YAML (not JSON), up to 512 KiB: a plain handler.
	rt.HandleFunc(httpx.Op(http.MethodPost, "/api/config/restore", authz.Admin, "Upload and restore config.yaml"), r.restore)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/config-history", authz.Admin, "List config.yaml backup versions"), r.configHistory)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/config-history/{filename}", authz.Admin, "Download a config backup version"), r.configVersion)
}
