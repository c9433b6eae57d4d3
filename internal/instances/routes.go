package instances

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts router 10 (integration instances). The static
// test-connection path comes before the {id} routes.
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/integrations/instances/test-connection", authz.Operator, "Test instance connectivity"), r.testConnection)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/integrations/instances", authz.Read, "List integration instances"), r.list)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/integrations/instances/{id}", authz.Read, "Get a single instance"), r.get)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/integrations/instances", authz.Admin, "Create an integration instance"), r.create)
	httpx.Register(rt, httpx.Op(http.MethodPatch, "/api/integrations/instances/{id}", authz.Admin, "Update an instance (partial)"), r.patch)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/integrations/instances/{id}", authz.Admin, "Delete an integration instance"), r.delete)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/integrations/catalog/categories", authz.Read, "List integration categories"), r.categories)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/integrations/catalog/categories/{cat}/platforms", authz.Read, "List platforms for a category"), r.platforms)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/integrations/groups", authz.Read, "List integration groups"), r.groups)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/integrations/groups/{name}/members", authz.Read, "List group members"), r.members)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/integrations/groups/{name}/members", authz.Admin, "Add instance to group"), r.addMember)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/integrations/groups/{name}/members/{id}", authz.Admin, "Remove instance from group"), r.removeMember)
}
