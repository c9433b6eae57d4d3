package containers

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs"
)

// Routes mounts router 5 (containers).
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/container-control", authz.Operator, "Start/stop/restart a container"), r.control)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/containers/{name}/logs", authz.Operator, "Get container logs (tail N lines)"), r.logs)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/containers/{name}/inspect", authz.Operator, "Detailed container inspection"), r.inspect)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/containers/stats", authz.Read, "Per-container resource usage"), r.stats)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/containers/{name}/pull", authz.Admin, "Pull latest image for container"), r.pull)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/compose/projects", authz.Read, "List Docker Compose projects"), r.projects)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/compose/{project}/{action}", authz.Operator, "Compose up/down/pull/restart"), r.compose)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/truenas/vm", authz.Operator, "Start/stop/restart TrueNAS VM"), r.truenasVM)
}

// Jobs: the containers room has no background work.
func (r *Room) Jobs() []jobs.Job { return nil }
