// Package tailscale computes the tailscale block of the stats payload
// (spec 10 §4.2) from `tailscale status --json`, cached 30 s:
// {"self":{"hostname","ip","os","relay"},"peers":[{"hostname","ip","os",
// "online","relay","exit_node","last_seen"}],"onlineCount","totalCount",
// "tailnet","state"}. ip is the first Tailscale IPv4 address (else the
// first one). The block is null when tailscale is not installed or its
// daemon cannot be reached.
package tailscale

import (
	"context"
	"encoding/json"
	"net/netip"
	"sort"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider computes tailscale.
type Provider struct {
	// Bin is the tailscale binary ("tailscale", looked up on the PATH).
	Bin string
	// Timeout bounds one run; TTL is how long a result is reused.
	Timeout, TTL time.Duration

	mu    sync.Mutex
	at    time.Time
	block any
}

// New builds the provider (the HTTP client is not used).
func New(*provider.Client) *Provider {
	return &Provider{Bin: "tailscale", Timeout: 3 * time.Second, TTL: 30 * time.Second}
}

// Key is "tailscale".
func (p *Provider) Key() string { return "tailscale" }

// List is false: the block is an object or null.
func (p *Provider) List() bool { return false }

// Configured is always true: the block depends on the host, not on settings.
func (p *Provider) Configured(provider.Settings) bool { return true }

// Fetch runs tailscale (or reuses the result of the last 30 s).
func (p *Provider) Fetch(ctx context.Context, _ provider.Settings) (any, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.at.IsZero() && time.Since(p.at) < p.TTL {
		return p.block, nil
	}
	cctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	out, err := provider.Command(cctx, 8<<20, p.Bin, "status", "--json")
	var block map[string]any
	switch {
	case err != nil && cctx.Err() != nil:
		return nil, cctx.Err()
	case err == nil:
		block = Parse(out)
	}
	p.at = time.Now()
	if block == nil { // an untyped nil: a nil map in an interface is not "nothing to show"
		p.block = nil
	} else {
		p.block = block
	}
	return p.block, nil
}

type node struct {
	HostName     string    `json:"HostName"`
	DNSName      string    `json:"DNSName"`
	OS           string    `json:"OS"`
	TailscaleIPs []string  `json:"TailscaleIPs"`
	Relay        string    `json:"Relay"`
	Online       bool      `json:"Online"`
	ExitNode     bool      `json:"ExitNode"`
	LastSeen     time.Time `json:"LastSeen"`
}

func firstIP(ips []string) string {
	for _, s := range ips {
		if a, err := netip.ParseAddr(s); err == nil && a.Is4() {
			return s
		}
	}
	if len(ips) > 0 {
		return ips[0]
	}
	return ""
}

// Parse turns `tailscale status --json` output into the block (nil when
// it is not a status document or has no Self node).
func Parse(data []byte) map[string]any {
	var st struct {
		BackendState   string           `json:"BackendState"`
		Self           *node            `json:"Self"`
		Peer           map[string]*node `json:"Peer"`
		MagicDNSSuffix string           `json:"MagicDNSSuffix"`
		CurrentTailnet *struct {
			Name string `json:"Name"`
		} `json:"CurrentTailnet"`
	}
	if json.Unmarshal(data, &st) != nil || st.Self == nil {
		return nil
	}
	peers := make([]*node, 0, len(st.Peer))
	for _, n := range st.Peer {
		if n != nil {
			peers = append(peers, n)
		}
	}
	sort.Slice(peers, func(i, j int) bool { return peers[i].HostName < peers[j].HostName })
	list := make([]any, 0, len(peers))
	online := 0
	for _, n := range peers {
		if n.Online {
			online++
		}
		var seen any
		if !n.LastSeen.IsZero() && n.LastSeen.Year() > 1 {
			seen = n.LastSeen.UTC().Format(time.RFC3339)
		}
		list = append(list, map[string]any{"hostname": n.HostName, "ip": firstIP(n.TailscaleIPs), "os": n.OS,
			"online": n.Online, "relay": n.Relay, "exit_node": n.ExitNode, "last_seen": seen})
	}
	tailnet := st.MagicDNSSuffix
	if st.CurrentTailnet != nil && st.CurrentTailnet.Name != "" {
		tailnet = st.CurrentTailnet.Name
	}
	return map[string]any{"self": map[string]any{"hostname": st.Self.HostName, "ip": firstIP(st.Self.TailscaleIPs),
		"os": st.Self.OS, "relay": st.Self.Relay}, "peers": list, "onlineCount": online, "totalCount": len(list),
		"tailnet": tailnet, "state": st.BackendState}
}
