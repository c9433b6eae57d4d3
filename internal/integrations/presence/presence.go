// Package presence computes the devicePresence list of the stats payload
// (spec 10 §4.2): for every `ip|name` entry of the devicePresenceIps
// setting (csv; the name defaults to the IP) one ping (collect.Ping,
// 1.5 s at most), giving {"ip","name","status":"online|offline","ms",
// "changed"}; ms is the round trip in milliseconds (0 when offline) and
// changed says whether the status differs from the previous cycle (false
// the first time a device is seen). An entry that is not an IP literal is
// offline.
package presence

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/integrations/provider"
)

// MaxDevices bounds the devices pinged per cycle.
const MaxDevices = 64

// Provider computes devicePresence.
type Provider struct {
	// Ping sends one echo request (collect.Ping; tests replace it).
	Ping func(ctx context.Context, ip string) error
	// Timeout bounds one ping.
	Timeout time.Duration

	mu   sync.Mutex
	last map[string]string // ip -> status of the previous cycle
}

// New builds the provider (the HTTP client is not used).
func New(*provider.Client) *Provider {
	return &Provider{Ping: collect.Ping, Timeout: 1500 * time.Millisecond, last: map[string]string{}}
}

// Key is "devicePresence".
func (p *Provider) Key() string { return "devicePresence" }

// List is true: the default is [].
func (p *Provider) List() bool { return true }

// Configured reports whether devicePresenceIps names a device.
func (p *Provider) Configured(st provider.Settings) bool {
	return len(devices(st.String("devicePresenceIps"))) > 0
}

type device struct{ ip, name string }

func devices(csv string) []device {
	var out []device
	seen := map[string]bool{}
	for _, e := range strings.Split(csv, ",") {
		ip, name, _ := strings.Cut(e, "|")
		ip, name = strings.TrimSpace(ip), strings.TrimSpace(name)
		if ip == "" || seen[ip] {
			continue
		}
		seen[ip] = true
		if name == "" {
			name = ip
		}
		out = append(out, device{ip, name})
		if len(out) == MaxDevices {
			break
		}
	}
	return out
}

// Fetch pings every device concurrently and returns the items in the configured order.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	ds := devices(st.String("devicePresenceIps"))
	type res struct {
		online bool
		ms     int64
	}
	rs := make([]res, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, p.Timeout)
			defer cancel()
			start := time.Now()
			if err := p.Ping(pctx, d.ip); err == nil {
				rs[i] = res{true, max(time.Since(start).Milliseconds(), 1)}
			}
		}()
	}
	wg.Wait()
	if ctx.Err() != nil {
		return nil, ctx.Err() // cut short: do not record a false change
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	items := make([]any, 0, len(ds))
	now := map[string]string{}
	for i, d := range ds {
		status := "offline"
		if rs[i].online {
			status = "online"
		}
		prev, seen := p.last[d.ip]
		now[d.ip] = status
		items = append(items, map[string]any{"ip": d.ip, "name": d.name, "status": status, "ms": rs[i].ms,
			"changed": seen && prev != status})
	}
	p.last = now
	return items, nil
}
