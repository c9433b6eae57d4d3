package infra

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	gnet "github.com/shirou/gopsutil/v4/net"
	"github.com/shirou/gopsutil/v4/process"

	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/runcmd"
)

// serviceRe is the reference's service name rule ([a-zA-Z0-9_@:.\-]+).
var serviceRe = regexp.MustCompile(`^[a-zA-Z0-9_@:.\-]{1,256}$`)

// ValidService reports whether name is a safe systemd unit name: the
// reference pattern, no "..", not starting with "-" (an option to systemctl).
func ValidService(name string) bool {
	return serviceRe.MatchString(name) && !strings.Contains(name, "..") && !strings.HasPrefix(name, "-")
}

type infraServiceIn struct {
	Body struct {
		Service string `json:"service"`
		Action  string `json:"action"`
		IsUser  any    `json:"is_user,omitempty"`
	}
}

type infraServiceOut struct {
	Body struct {
		Success bool   `json:"success"`
		Stderr  string `json:"stderr"`
	}
}

func truthy(v any) bool {
	switch x := v.(type) {
	case bool:
		return x
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "1", "yes", "t", "y":
			return true
		}
	case float64:
		return x != 0
	}
	return false
}

func (r *Room) serviceControl(ctx context.Context, in *infraServiceIn) (*infraServiceOut, error) {
	svc, action := strings.TrimSpace(in.Body.Service), strings.TrimSpace(in.Body.Action)
	switch action {
	case "start", "stop", "restart", "poweroff":
	default:
		return nil, httpx.Invalid("Action \"%s\" not allowed", action)
	}
	if !ValidService(svc) {
		return nil, httpx.Invalid("Invalid service name")
	}
	verb := action
	if verb == "poweroff" {
		// Spec 20 §19.8: poweroff is never passed to systemctl as a verb.
		verb = "stop"
	}
	user := truthy(in.Body.IsUser)
	c := runcmd.Cmd{Name: "sudo", Args: []string{"-n", "systemctl", "--no-ask-password", verb, "--", svc}, Timeout: 10 * time.Second}
	if r.d.IsRoot {
		c = runcmd.Cmd{Name: "systemctl", Args: []string{"--no-ask-password", verb, "--", svc}, Timeout: 10 * time.Second}
	}
	if user {
		c = runcmd.Cmd{Name: "systemctl", Args: []string{"--user", verb, "--", svc}, Timeout: 10 * time.Second}
	}
	res, err := r.d.Runner.Run(ctx, c)
	if err != nil {
		r.audit(ctx, "service_control", fmt.Sprintf("%s %s (user=%t) failed: %v", action, svc, user, err))
		if errors.Is(err, runcmd.ErrNotFound) {
			return nil, httpx.Unavailable("systemctl is not available on this host")
		}
		return nil, fmt.Errorf("service control: %w", err)
	}
	ok := res.ExitCode == 0
	r.audit(ctx, "service_control", fmt.Sprintf("%s %s (user=%t) -> %t", action, svc, user, ok))
	stderr := strings.TrimSpace(ansiRe.ReplaceAllString(res.Stderr, ""))
	if !ok {
		if stderr == "" {
			stderr = fmt.Sprintf("systemctl %s %s failed", action, svc)
		}
		return nil, httpx.Invalid("%s", runcmd.Head(stderr, 500))
	}
	out := &infraServiceOut{}
	out.Body.Success, out.Body.Stderr = true, runcmd.Head(stderr, 500)
	return out, nil
}

// Connection is one established socket.
type Connection struct {
	PID     int32  `json:"pid"`
	Process string `json:"process"`
	Local   string `json:"local"`
	Remote  string `json:"remote"`
	Status  string `json:"status"`
}

type infraConnectionsOut struct{ Body []Connection }

func addr(a gnet.Addr) string {
	if a.IP == "" {
		return ""
	}
	return net.JoinHostPort(a.IP, strconv.Itoa(int(a.Port)))
}

// procNames caches process names for one listing.
type procNames map[int32]string

func (p procNames) name(ctx context.Context, pid int32) string {
	if pid <= 0 {
		return ""
	}
	if n, ok := p[pid]; ok {
		return n
	}
	n := ""
	if pr, err := process.NewProcessWithContext(ctx, pid); err == nil {
		n, _ = pr.NameWithContext(ctx)
	}
	p[pid] = n
	return n
}

// sockets lists the host's inet sockets with their owning processes. The
// listing scans every process's descriptors; on a loaded host that can
// stall, so it is bounded: past the limit the answer is an empty list (the
// scan finishes in the background and is dropped).
func (r *Room) sockets(ctx context.Context) ([]gnet.ConnectionStat, error) {
	type res struct {
		cs  []gnet.ConnectionStat
		err error
	}
	ch := make(chan res, 1)
	go func() {
		cs, err := gnet.ConnectionsWithContext(ctx, "inet")
		ch <- res{cs, err}
	}()
	select {
	case v := <-ch:
		return v.cs, v.err
	case <-time.After(10 * time.Second):
		return nil, errors.New("socket listing timed out")
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (r *Room) connections(ctx context.Context, _ *struct{}) (*infraConnectionsOut, error) {
	out := &infraConnectionsOut{Body: []Connection{}}
	cs, err := r.sockets(ctx)
	if err != nil {
		r.d.Log.Warn("connections", "err", err)
	}
	names := procNames{}
	for _, c := range cs {
		if c.Status != "ESTABLISHED" {
			continue
		}
		out.Body = append(out.Body, Connection{PID: c.Pid, Process: runcmd.Head(names.name(ctx, c.Pid), 20),
			Local: addr(c.Laddr), Remote: addr(c.Raddr), Status: c.Status})
		if len(out.Body) >= 200 {
			break
		}
	}
	return out, nil
}

// Port is one listening port.
type Port struct {
	Port    uint32 `json:"port"`
	Address string `json:"address"`
	PID     int32  `json:"pid"`
	Process string `json:"process"`
}

type infraPortsOut struct{ Body []Port }

func (r *Room) ports(ctx context.Context, _ *struct{}) (*infraPortsOut, error) {
	out := &infraPortsOut{Body: []Port{}}
	cs, err := r.sockets(ctx)
	if err != nil {
		r.d.Log.Warn("ports", "err", err)
	}
	seen := map[uint32]bool{}
	names := procNames{}
	for _, c := range cs {
		if c.Status != "LISTEN" || seen[c.Laddr.Port] {
			continue
		}
		seen[c.Laddr.Port] = true
		out.Body = append(out.Body, Port{Port: c.Laddr.Port, Address: c.Laddr.IP, PID: c.Pid, Process: names.name(ctx, c.Pid)})
	}
	sort.Slice(out.Body, func(i, j int) bool { return out.Body[i].Port < out.Body[j].Port })
	return out, nil
}

// Interface is one network interface.
type Interface struct {
	Name  string `json:"name"`
	IP    string `json:"ip"`
	Up    bool   `json:"up"`
	Speed int    `json:"speed"`
	MTU   int    `json:"mtu"`
}

type infraInterfacesOut struct{ Body []Interface }

func (r *Room) interfaces(ctx context.Context, _ *struct{}) (*infraInterfacesOut, error) {
	out := &infraInterfacesOut{Body: []Interface{}}
	ifs, err := gnet.InterfacesWithContext(ctx)
	if err != nil {
		r.d.Log.Warn("interfaces", "err", err)
	}
	for _, i := range ifs {
		if i.Name == "lo" {
			continue
		}
		it := Interface{Name: i.Name, MTU: i.MTU}
		for _, f := range i.Flags {
			if f == "up" {
				it.Up = true
			}
		}
		for _, a := range i.Addrs {
			ip, _, err := net.ParseCIDR(a.Addr)
			if err == nil && ip.To4() != nil {
				it.IP = ip.String()
				break
			}
		}
		if b, err := os.ReadFile(filepath.Join(r.d.Root, "/sys/class/net", i.Name, "speed")); err == nil {
			if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n > 0 {
				it.Speed = n
			}
		}
		out.Body = append(out.Body, it)
	}
	return out, nil
}

// mapIntegrations are the integrations the service map shows: setting,
// node id, label, category (spec 20 §16.1).
var mapIntegrations = []struct{ key, id, label, typ string }{
	{"piholeUrl", "pihole", "Pi-hole", "dns"}, {"plexUrl", "plex", "Plex", "media"},
	{"jellyfinUrl", "jellyfin", "Jellyfin", "media"}, {"truenasUrl", "truenas", "TrueNAS", "storage"},
	{"proxmoxUrl", "proxmox", "Proxmox", "infra"}, {"hassUrl", "hass", "Home Assistant", "automation"},
	{"unifiUrl", "unifi", "UniFi", "network"}, {"kumaUrl", "kuma", "Uptime Kuma", "monitoring"},
	{"radarrUrl", "radarr", "Radarr", "media"}, {"sonarrUrl", "sonarr", "Sonarr", "media"},
	{"qbitUrl", "qbit", "qBittorrent", "media"}, {"tautulliUrl", "tautulli", "Tautulli", "media"},
	{"overseerrUrl", "overseerr", "Overseerr", "media"}, {"nextcloudUrl", "nextcloud", "Nextcloud", "storage"},
	{"traefikUrl", "traefik", "Traefik", "network"}, {"k8sUrl", "k8s", "Kubernetes", "infra"},
	{"giteaUrl", "gitea", "Gitea", "dev"}, {"gitlabUrl", "gitlab", "GitLab", "dev"},
	{"paperlessUrl", "paperless", "Paperless", "docs"}, {"adguardUrl", "adguard", "AdGuard", "dns"},
}

// MapNode is a node of the service map.
type MapNode struct {
	ID      string `json:"id"`
	Label   string `json:"label"`
	Type    string `json:"type"`
	Status  string `json:"status"`
	CPU     any    `json:"cpu,omitempty"`
	Mem     any    `json:"mem,omitempty"`
	Uptime  any    `json:"uptime,omitempty"`
	Version any    `json:"version,omitempty"`
}

// MapEdge is an edge of the service map.
type MapEdge struct {
	From string `json:"from"`
	To   string `json:"to"`
}

type infraServiceMapOut struct {
	Body struct {
		Nodes []MapNode `json:"nodes"`
		Edges []MapEdge `json:"edges"`
	}
}

func (r *Room) serviceMap(ctx context.Context, _ *struct{}) (*infraServiceMapOut, error) {
	var snap map[string]any
	var services []events.Service
	out := &infraServiceMapOut{}
	core := MapNode{ID: "noba", Label: "NOBA", Type: "core", Status: "online"}
	if r.d.Stats != nil {
		if t := r.d.Stats.Snapshot(); t != nil {
			snap, services = t.Payload, t.Services
			if !math.IsNaN(t.CPUPercent) {
				core.CPU = t.CPUPercent
			}
			if !math.IsNaN(t.MemPercent) {
				core.Mem = t.MemPercent
			}
			core.Uptime = snap["uptime"]
		}
	}
	out.Body.Nodes = []MapNode{core}
	out.Body.Edges = []MapEdge{}
	s := r.settings()
	for _, m := range mapIntegrations {
		if str(s, m.key) == "" {
			continue
		}
		n := MapNode{ID: m.id, Label: m.label, Type: m.typ, Status: "configured"}
		if blk, ok := snap[m.id].(map[string]any); ok {
			if blk["status"] == "online" {
				n.Status = "online"
			}
			n.CPU, n.Mem, n.Version = blk["cpu"], blk["mem"], blk["version"]
		}
		out.Body.Nodes = append(out.Body.Nodes, n)
		out.Body.Edges = append(out.Body.Edges, MapEdge{From: "noba", To: m.id})
	}
	for _, sv := range services {
		if sv.Name == "" {
			continue
		}
		out.Body.Nodes = append(out.Body.Nodes, MapNode{ID: "svc_" + sv.Name, Label: sv.Name, Type: "service", Status: sv.Status})
		out.Body.Edges = append(out.Body.Edges, MapEdge{From: "noba", To: "svc_" + sv.Name})
	}
	return out, nil
}
