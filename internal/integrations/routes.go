package integrations

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

// Routes mounts router 9 (integrations).
func (r *Room) Routes(rt *httpx.Router) {
	rt.Handle(httpx.Op(http.MethodGet, "/api/cameras/snapshot/{cam}", authz.Read, "Proxy camera snapshot from Frigate"), http.HandlerFunc(r.snapshot))
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/cameras", authz.Read, "List configured camera feeds"), r.cameras)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/tailscale/status", authz.Read, "Tailscale network status"), r.tailscaleStatus)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/disks/intelligence", authz.Read, "Scrutiny disk intelligence"), r.diskIntelligence)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/services/dependencies/blast-radius", authz.Read, "Service blast radius analysis"), r.blastRadius)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/hass/services/{domain}/{service}", authz.Operator, "Call Home Assistant service"), r.hassCall)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/hass/entities", authz.Read, "List HA entities with state"), r.hassEntities)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/hass/services", authz.Read, "List available HA services"), r.hassServices)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/hass/toggle/{entity_id}", authz.Operator, "Toggle a HA entity"), r.hassToggle)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/hass/scene/{entity_id}", authz.Operator, "Activate a HA scene"), r.hassScene)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/pihole/toggle", authz.Operator, "Enable/disable Pi-hole blocking"), r.piholeToggle)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/game-servers", authz.Read, "Probe configured game servers"), r.gameServers)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/wol", authz.Operator, "Send Wake-on-LAN magic packet"), r.wol)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/cloud-remotes", authz.Read, "List rclone remotes"), r.cloudRemotes)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/cloud-remotes/create", authz.Admin, "Create an rclone remote"), r.cloudRemoteCreate)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/cloud-remotes/{name}", authz.Admin, "Delete an rclone remote"), r.cloudRemoteDelete)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/cloud-test", authz.Operator, "Test rclone remote connectivity"), r.cloudTest)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/influxdb/query", authz.Admin, "Execute an InfluxDB Flux query"), r.influxQuery)
}
