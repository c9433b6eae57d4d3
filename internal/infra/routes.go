package infra

import (
	"net/http"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/jobs"
)

// Routes mounts router 7 (infrastructure).
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/service-control", authz.Operator, "Start/stop/restart systemd service"), r.serviceControl)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/network/connections", authz.Operator, "List active network connections"), r.connections)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/network/ports", authz.Read, "List listening ports with process"), r.ports)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/network/interfaces", authz.Read, "Network interface details"), r.interfaces)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/services/map", authz.Read, "Service dependency map"), r.serviceMap)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/k8s/namespaces", authz.Read, "List Kubernetes namespaces"), r.k8sNamespaces)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/k8s/pods", authz.Read, "List pods with details"), r.k8sPods)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/k8s/pods/{ns}/{name}/logs", authz.Operator, "Get pod logs"), r.k8sPodLogs)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/k8s/deployments", authz.Read, "List deployments with replicas"), r.k8sDeployments)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/k8s/deployments/{ns}/{name}/scale", authz.Operator, "Scale a deployment"), r.k8sScale)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/proxmox/nodes/{node}/vms", authz.Read, "List VMs/containers on PVE node"), r.pmxVMs)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/proxmox/nodes/{node}/vms/{vmid}/snapshots", authz.Read, "List VM snapshots"), r.pmxSnapshots)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/proxmox/nodes/{node}/vms/{vmid}/snapshot", authz.Admin, "Create a VM snapshot"), r.pmxSnapshot)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/proxmox/nodes/{node}/vms/{vmid}/console", authz.Operator, "Get noVNC console URL"), r.pmxConsole)
	rt.Handle(httpx.Op(http.MethodGet, "/api/terminal", authz.Admin, "WebSocket terminal (server shell)"), http.HandlerFunc(r.terminal))
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/network/devices", authz.Read, "List discovered network devices"), r.listDevices)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/network/discover/{hostname}", authz.Operator, "Trigger network discovery on agent"), r.discover)
	httpx.Register(rt, httpx.Op(http.MethodDelete, "/api/network/devices/{device_id}", authz.Operator, "Remove a discovered device"), r.deleteDevice)
}

// Jobs: the infrastructure room has no background work.
func (r *Room) Jobs() []jobs.Job { return nil }
