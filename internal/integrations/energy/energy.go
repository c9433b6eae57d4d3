// Package energy reads Shelly smart plugs and meters for the stats
// payload's "energy" list. energySensors is a comma-separated list of
// `url` or `url|name`; each device is asked through the Gen2+ RPC API
// (GET /rpc/Switch.GetStatus?id=0), falling back to the Gen1 API
// (GET /status). Devices are read concurrently; one that fails is listed
// as {"name","status":"offline"}.
package energy

import (
	"context"
	"strings"
	"sync"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// maxSensors bounds the devices asked per round.
const maxSensors = 32

// Provider is the Shelly energy integration (payload key "energy").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "energy".
func (p *Provider) Key() string { return "energy" }

// List is true: the block is a list, [] when not configured.
func (p *Provider) List() bool { return true }

// Configured reports whether energySensors names a device.
func (p *Provider) Configured(st provider.Settings) bool { return len(sensors(st)) > 0 }

type sensor struct{ url, name string }

func sensors(st provider.Settings) []sensor {
	var out []sensor
	for _, e := range strings.Split(st.String("energySensors"), ",") {
		u, name, _ := strings.Cut(strings.TrimSpace(e), "|")
		u, name = strings.TrimSpace(u), strings.TrimSpace(name)
		if u == "" {
			continue
		}
		if name == "" {
			name = u
		}
		out = append(out, sensor{u, name})
		if len(out) == maxSensors {
			break
		}
	}
	return out
}

// Fetch returns [{"name","power_w","voltage_v","current_a","energy_wh","on","status":"online"}]
// in the configured order.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	ss := sensors(st)
	out := make([]any, len(ss))
	var wg sync.WaitGroup
	for i, s := range ss {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = p.read(ctx, s)
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

func (p *Provider) read(ctx context.Context, s sensor) map[string]any {
	base, err := provider.BaseURL(s.url)
	if err != nil {
		return map[string]any{"name": s.name, "status": "offline"}
	}
	var g2 struct {
		Output  bool    `json:"output"`
		APower  float64 `json:"apower"`
		Voltage float64 `json:"voltage"`
		Current float64 `json:"current"`
		AEnergy struct {
			Total float64 `json:"total"`
		} `json:"aenergy"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/rpc/Switch.GetStatus?id=0"}, &g2); err == nil {
		return map[string]any{"name": s.name, "power_w": provider.Round1(g2.APower), "voltage_v": provider.Round1(g2.Voltage),
			"current_a": float64(int64(g2.Current*1000+0.5)) / 1000, "energy_wh": provider.Round1(g2.AEnergy.Total),
			"on": g2.Output, "status": "online"}
	}
	var g1 struct {
		Meters []struct {
			Power float64 `json:"power"`
			Total float64 `json:"total"` // watt-minutes
		} `json:"meters"`
		Relays []struct {
			IsOn bool `json:"ison"`
		} `json:"relays"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/status"}, &g1); err != nil || len(g1.Meters) == 0 {
		return map[string]any{"name": s.name, "status": "offline"}
	}
	on := len(g1.Relays) > 0 && g1.Relays[0].IsOn
	return map[string]any{"name": s.name, "power_w": provider.Round1(g1.Meters[0].Power), "voltage_v": 0.0,
		"current_a": 0.0, "energy_wh": provider.Round1(g1.Meters[0].Total / 60), "on": on, "status": "online"}
}
