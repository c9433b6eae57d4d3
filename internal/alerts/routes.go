package alerts

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts the alerts room's routes (static segments before
// parameterised ones, spec 10 §0.8).
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/alert-rules", authz.Read, "List configured alert rules"), r.listRules)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/alert-rules", authz.Admin, "Create a new alert rule"), r.createRule)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/alert-rules", authz.Admin, "Replace all alert rules (batch)"), r.replaceRules)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/alert-rules/test/{rule_id}", authz.Admin, "Test rule against current stats"), r.testRule)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/alert-rules/{rule_id}", authz.Admin, "Update an existing alert rule"), r.updateRule)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/alert-rules/{rule_id}", authz.Admin, "Delete an alert rule"), r.deleteRule)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/sla/{rule_id}", authz.Read, "SLA uptime for an alert rule"), r.sla)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/alert-history", authz.Read, "Historical alert firings"), r.history)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/notifications", authz.Read, "User notifications with unread count"), r.notifications)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/notifications/read-all", authz.Read, "Mark all notifications as read"), r.readAll)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/notifications/test", authz.Admin, "Send a test notification"), r.testNotification)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/notifications/{notif_id}/read", authz.Read, "Mark notification as read"), r.readOne)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/maintenance-windows/active", authz.Read, "Get active maintenance windows"), r.activeWindows)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/maintenance-windows", authz.Read, "List all maintenance windows"), r.listWindows)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/maintenance-windows", authz.Admin, "Create a maintenance window"), r.createWindow)
	httpx.Register(rt, httpx.Op(http.MethodPut, "/api/maintenance-windows/{id}", authz.Admin, "Update a maintenance window"), r.updateWindow)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/maintenance-windows/{id}", authz.Admin, "Delete a maintenance window"), r.deleteWindow)
}
