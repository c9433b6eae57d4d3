package security

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts router 12 (security).
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/security/score", authz.Read, "Aggregate security score"), r.score)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/security/findings", authz.Read, "Security findings with filters"), r.findings)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/security/history", authz.Read, "Historical security scores"), r.history)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/security/scan/{hostname}", authz.Operator, "Trigger security scan on agent"), r.scan)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/security/scan-all", authz.Operator, "Scan all online agents"), r.scanAll)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/security/record", authz.Admin, "Record scan results (internal)"), r.record)
}
