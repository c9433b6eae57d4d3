// Package proxmox reads a Proxmox VE cluster for the stats payload:
// GET /api2/json/nodes, then /api2/json/nodes/<node>/qemu and /lxc, with
// an API token (`Authorization: PVEAPIToken=<user>!<tokenname>=<value>`).
// proxmoxVerifySsl=false accepts the self-signed certificate PVE ships.
package proxmox

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Proxmox VE integration (payload key "proxmox").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "proxmox".
func (p *Provider) Key() string { return "proxmox" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether proxmoxUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("proxmoxUrl") != "" }

// maxGuests bounds the guests listed per node and type.
const maxGuests = 30

type resource struct {
	Node   string  `json:"node"`
	VMID   any     `json:"vmid"`
	Name   string  `json:"name"`
	Status string  `json:"status"`
	CPU    float64 `json:"cpu"`
	Mem    float64 `json:"mem"`
	MaxMem float64 `json:"maxmem"`
}

func pct(used, max float64) float64 {
	if max <= 0 {
		return 0
	}
	return provider.Round1(used / max * 100)
}

// Fetch returns {"nodes":[{"name","status","cpu","mem_percent"}],
// "vms":[{"vmid","name","type":"qemu|lxc","node","status","cpu","mem_percent"}],
// "status":"online"}. Missing user, token name or value is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("proxmoxUrl"))
	if err != nil {
		return nil, err
	}
	user, name, value := st.String("proxmoxUser"), st.String("proxmoxTokenName"), st.String("proxmoxTokenValue")
	if name == "" || value == "" || (user == "" && !strings.Contains(name, "!")) {
		return nil, fmt.Errorf("%w: proxmox token incomplete", provider.ErrUnauthorized)
	}
	tokenID := name
	if !strings.Contains(name, "!") {
		if !strings.Contains(user, "@") {
			user += "@pam"
		}
		tokenID = user + "!" + name
	}
	h := http.Header{"Authorization": {"PVEAPIToken=" + tokenID + "=" + value}}
	insecure := !st.Bool("proxmoxVerifySsl", true)
	get := func(path string, out any) error {
		return p.c.JSON(ctx, provider.Request{URL: base + path, Header: h, Insecure: insecure}, out)
	}
	var nodes struct{ Data []resource }
	if err := get("/api2/json/nodes", &nodes); err != nil {
		return nil, err
	}
	nodeList, vmList := []any{}, []any{}
	for _, n := range nodes.Data {
		nodeList = append(nodeList, map[string]any{"name": n.Node, "status": n.Status,
			"cpu": provider.Round1(n.CPU * 100), "mem_percent": pct(n.Mem, n.MaxMem)})
		if n.Status != "" && n.Status != "online" {
			continue // an offline node has no guest listing
		}
		for _, typ := range []string{"qemu", "lxc"} {
			var guests struct{ Data []resource }
			if err := get("/api2/json/nodes/"+url.PathEscape(n.Node)+"/"+typ, &guests); err != nil {
				if provider.Class(err) == "timeout" {
					return nil, err
				}
				continue
			}
			for i, g := range guests.Data {
				if i == maxGuests {
					break
				}
				gname := g.Name
				if gname == "" {
					gname = fmt.Sprintf("%s-%v", typ, g.VMID)
				}
				vmList = append(vmList, map[string]any{"vmid": g.VMID, "name": gname, "type": typ, "node": n.Node,
					"status": g.Status, "cpu": provider.Round1(g.CPU * 100), "mem_percent": pct(g.Mem, g.MaxMem)})
			}
		}
	}
	return map[string]any{"nodes": nodeList, "vms": vmList, "status": "online"}, nil
}
