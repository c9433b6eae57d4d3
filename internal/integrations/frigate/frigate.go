// Package frigate reads Frigate NVR for the stats payload: GET /api/stats
// (per-camera fps; under "cameras" since Frigate 0.12, at the top level
// before) and GET /api/config (camera list, detect/record switches).
package frigate

import (
	"context"
	"encoding/json"
	"sort"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Frigate integration (payload key "frigate").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "frigate".
func (p *Provider) Key() string { return "frigate" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether frigateUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("frigateUrl") != "" }

type camStats struct {
	CameraFPS float64 `json:"camera_fps"`
}

// Fetch returns {"cameras":[{"name","fps","detect","record","status"}],
// "cameraCount","onlineCount","version","uptime","status":"online"}.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("frigateUrl"))
	if err != nil {
		return nil, err
	}
	var stats map[string]json.RawMessage
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/stats"}, &stats); err != nil {
		return nil, err
	}
	var cfg struct {
		Cameras map[string]struct {
			Detect struct {
				Enabled bool `json:"enabled"`
			} `json:"detect"`
			Record struct {
				Enabled bool `json:"enabled"`
			} `json:"record"`
		} `json:"cameras"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/config", MaxBody: 8 << 20}, &cfg); err != nil {
		return nil, err
	}
	var service struct {
		Version string  `json:"version"`
		Uptime  float64 `json:"uptime"`
	}
	_ = json.Unmarshal(stats["service"], &service)
	perCam := map[string]camStats{}
	if raw, ok := stats["cameras"]; ok {
		_ = json.Unmarshal(raw, &perCam)
	}
	names := make([]string, 0, len(cfg.Cameras))
	for n := range cfg.Cameras {
		names = append(names, n)
	}
	sort.Strings(names)
	cams := make([]any, 0, len(names))
	online := 0
	for _, n := range names {
		cs, ok := perCam[n]
		if !ok { // Frigate before 0.12: cameras at the top level
			_ = json.Unmarshal(stats[n], &cs)
		}
		status := "offline"
		if cs.CameraFPS > 0 {
			status = "online"
			online++
		}
		c := cfg.Cameras[n]
		cams = append(cams, map[string]any{"name": n, "fps": provider.Round1(cs.CameraFPS), "detect": c.Detect.Enabled,
			"record": c.Record.Enabled, "status": status})
	}
	return map[string]any{"cameras": cams, "cameraCount": len(cams), "onlineCount": online, "version": service.Version,
		"uptime": int64(service.Uptime), "status": "online"}, nil
}
