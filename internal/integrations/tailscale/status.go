package tailscale

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Peer is one peer of the /api/tailscale/status answer (spec 30 §2.2).
type Peer struct {
	Hostname string   `json:"hostname"`
	IP       string   `json:"ip"`
	OS       string   `json:"os"`
	Online   bool     `json:"online"`
	Active   bool     `json:"active"`
	Direct   bool     `json:"direct"`
	CurAddr  string   `json:"curAddr"`
	RxBytes  int64    `json:"rxBytes"`
	TxBytes  int64    `json:"txBytes"`
	LastSeen *string  `json:"lastSeen"`
	ExitNode bool     `json:"exitNode"`
	Subnets  []string `json:"subnets"`
	Tags     []string `json:"tags"`
}

// Self is this node.
type Self struct {
	Hostname string `json:"hostname"`
	IP       string `json:"ip"`
	OS       string `json:"os"`
	Relay    string `json:"relay"`
}

// Status is the /api/tailscale/status answer.
type Status struct {
	Self        Self   `json:"self"`
	Peers       []Peer `json:"peers"`
	OnlineCount int    `json:"onlineCount"`
	TotalCount  int    `json:"totalCount"`
	Tailnet     string `json:"tailnet"`
}

// ErrUnavailable means tailscale is not installed or its daemon did not answer.
var ErrUnavailable = errors.New("Tailscale not available") //nolint:staticcheck // the user-facing message of the route

type statusNode struct {
	HostName     string    `json:"HostName"`
	DNSName      string    `json:"DNSName"`
	OS           string    `json:"OS"`
	TailscaleIPs []string  `json:"TailscaleIPs"`
	AllowedIPs   []string  `json:"AllowedIPs"`
	Tags         []string  `json:"Tags"`
	Relay        string    `json:"Relay"`
	CurAddr      string    `json:"CurAddr"`
	RxBytes      int64     `json:"RxBytes"`
	TxBytes      int64     `json:"TxBytes"`
	Online       bool      `json:"Online"`
	Active       bool      `json:"Active"`
	ExitNode     bool      `json:"ExitNode"`
	LastSeen     time.Time `json:"LastSeen"`
}

// ParseStatus maps `tailscale status --json` to the route's answer.
func ParseStatus(data []byte) (Status, error) {
	var st struct {
		Self           *statusNode            `json:"Self"`
		Peer           map[string]*statusNode `json:"Peer"`
		MagicDNSSuffix string                 `json:"MagicDNSSuffix"`
	}
	if err := json.Unmarshal(data, &st); err != nil || st.Self == nil {
		return Status{}, ErrUnavailable
	}
	out := Status{Self: Self{Hostname: st.Self.HostName, IP: firstIP(st.Self.TailscaleIPs), OS: st.Self.OS,
		Relay: st.Self.Relay}, Peers: []Peer{}, Tailnet: st.MagicDNSSuffix}
	for _, n := range st.Peer {
		if n == nil {
			continue
		}
		name := n.HostName
		if name == "" || name == "localhost" {
			name, _, _ = strings.Cut(n.DNSName, ".")
			if name == "" {
				name = "unknown"
			}
		}
		p := Peer{Hostname: name, IP: firstIP(n.TailscaleIPs), OS: n.OS, Online: n.Online, Active: n.Active,
			Direct: n.CurAddr != "", CurAddr: n.CurAddr, RxBytes: n.RxBytes, TxBytes: n.TxBytes, ExitNode: n.ExitNode,
			Subnets: []string{}, Tags: n.Tags}
		if p.Tags == nil {
			p.Tags = []string{}
		}
		if !n.LastSeen.IsZero() && n.LastSeen.Year() > 1 {
			s := n.LastSeen.UTC().Format(time.RFC3339)
			p.LastSeen = &s
		}
		for _, a := range n.AllowedIPs {
			if pf, err := netip.ParsePrefix(a); err == nil && pf.IsSingleIP() {
				continue
			}
			p.Subnets = append(p.Subnets, a)
		}
		if n.Online {
			out.OnlineCount++
		}
		out.Peers = append(out.Peers, p)
	}
	sort.Slice(out.Peers, func(i, j int) bool { return out.Peers[i].Hostname < out.Peers[j].Hostname })
	out.TotalCount = len(out.Peers)
	return out, nil
}

// StatusReader runs `tailscale status --json` (10 s) and keeps the answer 30 s.
type StatusReader struct {
	Bin string
	TTL time.Duration

	mu  sync.Mutex
	at  time.Time
	st  Status
	err error
}

// Read returns the status, ErrUnavailable when tailscale cannot answer.
func (r *StatusReader) Read(ctx context.Context) (Status, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	ttl := r.TTL
	if ttl == 0 {
		ttl = 30 * time.Second
	}
	if !r.at.IsZero() && time.Since(r.at) < ttl {
		return r.st, r.err
	}
	bin := r.Bin
	if bin == "" {
		bin = "tailscale"
	}
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := provider.Command(cctx, 8<<20, bin, "status", "--json")
	if err != nil {
		r.st, r.err = Status{}, ErrUnavailable
	} else {
		r.st, r.err = ParseStatus(out)
	}
	r.at = time.Now()
	return r.st, r.err
}
