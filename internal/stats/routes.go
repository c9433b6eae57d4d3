package stats

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts the room's routes (auth as routes.tsv).
func (r *Room) Routes(rt *httpx.Router) {
	rt.Handle(httpx.Op(http.MethodGet, "/api/stats", authz.Read, "Live system metrics snapshot"), http.HandlerFunc(r.handleStats))
	rt.Handle(httpx.Op(http.MethodGet, "/api/stream", authz.SSE, "Server-Sent Events metrics stream"), http.HandlerFunc(r.handleStream))
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/history/multi", authz.Read, "Multiple metrics for overlay charting"), r.historyMulti)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/history/{metric}", authz.Read, "Time-series history for a metric"), r.history)
	rt.Handle(httpx.Op(http.MethodGet, "/api/history/{metric}/export", authz.Read, "Export metric history as CSV"), http.HandlerFunc(r.handleExport))
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/history/{metric}/trend", authz.Read, "Trend projection for a metric"), r.trend)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/metrics/available", authz.Read, "List available metric names"), r.available)
	rt.Handle(httpx.Op(http.MethodGet, "/api/metrics/prometheus", authz.Read, "Prometheus exposition format"), http.HandlerFunc(r.handlePrometheus))
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/metrics/correlate", authz.Read, "Aligned multi-metric correlation"), r.correlate)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/plugins", authz.Read, "List loaded plugins"), r.plugins)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/dashboard", authz.Read, "Get user dashboard layout"), r.getDashboard)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/dashboard", authz.Read, "Save user dashboard layout"), r.saveDashboard)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/system/info", authz.Read, "Extended system information"), r.systemInfo)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/system/health", authz.Read, "System health score with checks"), r.systemHealth)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/processes/history", authz.Read, "Top process history (rolling)"), r.processHistory)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/processes/current", authz.Read, "Current process list"), r.processCurrent)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/disks/prediction", authz.Read, "Disk capacity prediction"), r.diskPrediction)
}
