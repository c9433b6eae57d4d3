package monitoring

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts router 6 (monitoring).
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/uptime", authz.Read, "Uptime stats for all services"), r.uptime)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/health-score", authz.Read, "Infrastructure health score (0-100)"), r.healthScore)
	rt.Handle(httpx.Op(http.MethodGet, "/status", authz.Public, "Public status page (HTML)"), http.HandlerFunc(r.statusPage))
	rt.Mux.HandleFunc("GET /status/assets/{file}", statusAsset)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/status/public", authz.Public, "Public status data (JSON)"), r.publicStatusJSON)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/status/incidents", authz.Public, "Public incident list with updates"), r.publicIncidentList)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/status/components", authz.Admin, "Create status page component"), r.createComponent)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/status/components/{comp_id}", authz.Admin, "Update a status component"), r.updateComponent)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/status/components/{comp_id}", authz.Admin, "Delete a status component"), r.deleteComponent)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/status/components", authz.Read, "List all status components"), r.listComponents)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/status/incidents/create", authz.Admin, "Create a status incident"), r.createIncident)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/status/incidents/{id}/update", authz.Admin, "Add update to a status incident"), r.updateIncident)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/status/incidents/{id}/resolve", authz.Admin, "Resolve a status incident"), r.resolveIncident)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/endpoints", authz.Read, "List endpoint monitors"), r.listEndpoints)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/endpoints", authz.Admin, "Create an endpoint monitor"), r.createEndpoint)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/endpoints/{monitor_id}", authz.Admin, "Update an endpoint monitor"), r.updateEndpoint)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/endpoints/{monitor_id}", authz.Admin, "Delete an endpoint monitor"), r.deleteEndpoint)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/endpoints/{monitor_id}/check", authz.Operator, "Trigger immediate endpoint check"), r.checkEndpoint)
}
