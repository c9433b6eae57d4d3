// Package vpn computes the vpn block of the stats payload (spec 10 §4.2)
// from `wg show all dump`: {"peers":[{"interface","endpoint",
// "last_handshake" (unix seconds, 0 = never),"rx_bytes","tx_bytes"}],
// "peer_count":n}. The block is null when wg is not installed, when it
// shows no interface, or when it cannot run (it needs CAP_NET_ADMIN;
// spec: "null if none/not installed").
package vpn

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider computes vpn.
type Provider struct {
	// Bin is the wg binary ("wg", looked up on the PATH).
	Bin string
	// Timeout bounds one run.
	Timeout time.Duration
}

// New builds the provider (the HTTP client is not used).
func New(*provider.Client) *Provider { return &Provider{Bin: "wg", Timeout: 3 * time.Second} }

// Key is "vpn".
func (p *Provider) Key() string { return "vpn" }

// List is false: the block is an object or null.
func (p *Provider) List() bool { return false }

// Configured is always true: the block depends on the host, not on settings.
func (p *Provider) Configured(provider.Settings) bool { return true }

// Fetch runs wg and parses its dump.
func (p *Provider) Fetch(ctx context.Context, _ provider.Settings) (any, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	out, err := provider.Command(ctx, 1<<20, p.Bin, "show", "all", "dump")
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, nil // not installed or not permitted: null
	}
	return Parse(string(out)), nil
}

// Parse turns `wg show all dump` output into the block (nil without any
// interface). Interface lines have 5 tab-separated fields (interface,
// private key, public key, listen port, fwmark), peer lines 9
// (interface, public key, preshared key, endpoint, allowed IPs, latest
// handshake, rx, tx, persistent keepalive). Keys are never copied.
func Parse(dump string) map[string]any {
	ifaces := 0
	peers := []any{}
	for _, line := range strings.Split(dump, "\n") {
		f := strings.Split(strings.TrimRight(line, "\r"), "\t")
		switch len(f) {
		case 5:
			ifaces++
		case 9:
			endpoint := f[3]
			if endpoint == "(none)" {
				endpoint = ""
			}
			hs, _ := strconv.ParseInt(f[5], 10, 64)
			rx, _ := strconv.ParseInt(f[6], 10, 64)
			tx, _ := strconv.ParseInt(f[7], 10, 64)
			peers = append(peers, map[string]any{"interface": f[0], "endpoint": endpoint, "last_handshake": hs,
				"rx_bytes": rx, "tx_bytes": tx})
		}
	}
	if ifaces == 0 && len(peers) == 0 {
		return nil
	}
	return map[string]any{"peers": peers, "peer_count": len(peers)}
}
