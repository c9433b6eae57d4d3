// Package pikvm reads a PiKVM (kvmd HTTP API) for the stats payload:
// GET /api/info and GET /api/atx with the X-KVMD-User / X-KVMD-Passwd
// headers (pikvmUser/pikvmPass). The block is {"hostname","version",
// "platform","cpu_temp","atx_power","status":"online"}; atx_power is null
// when the ATX board is disabled or absent. The certificate is verified
// (PiKVM's default one is self-signed: give it a trusted one or use http).
package pikvm

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the PiKVM integration (payload key "pikvm").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "pikvm".
func (p *Provider) Key() string { return "pikvm" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether pikvmUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("pikvmUrl") != "" }

// Fetch returns the block; missing credentials are a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("pikvmUrl"))
	if err != nil {
		return nil, err
	}
	insecure := !st.Bool("pikvmVerifySsl", true) // PiKVM ships a self-signed certificate
	user, pass := st.String("pikvmUser"), st.String("pikvmPass")
	if user == "" || pass == "" {
		return nil, fmt.Errorf("%w: pikvmUser/pikvmPass missing", provider.ErrUnauthorized)
	}
	h := http.Header{"X-Kvmd-User": {user}, "X-Kvmd-Passwd": {pass}}
	var info struct {
		OK     bool `json:"ok"`
		Result struct {
			HW struct {
				Platform struct {
					Base string `json:"base"`
					Type string `json:"type"`
				} `json:"platform"`
				Health struct {
					Temp struct {
						CPU *float64 `json:"cpu"`
					} `json:"temp"`
				} `json:"health"`
			} `json:"hw"`
			System struct {
				KVMD struct {
					Version string `json:"version"`
				} `json:"kvmd"`
			} `json:"system"`
			Meta struct {
				Server struct {
					Host string `json:"host"`
				} `json:"server"`
			} `json:"meta"`
		} `json:"result"`
	}
	if err := p.c.JSON(ctx, provider.Request{Insecure: insecure, URL: base + "/api/info", Header: h}, &info); err != nil {
		return nil, err
	}
	if !info.OK {
		return nil, fmt.Errorf("pikvm /api/info: ok=false")
	}
	var atx struct {
		OK     bool `json:"ok"`
		Result struct {
			Enabled bool `json:"enabled"`
			LEDs    struct {
				Power bool `json:"power"`
			} `json:"leds"`
		} `json:"result"`
	}
	var power any
	if err := p.c.JSON(ctx, provider.Request{Insecure: insecure, URL: base + "/api/atx", Header: h}, &atx); err == nil {
		if atx.OK && atx.Result.Enabled {
			power = atx.Result.LEDs.Power
		}
	} else if provider.Class(err) == "timeout" {
		return nil, err
	}
	var temp any
	if t := info.Result.HW.Health.Temp.CPU; t != nil {
		temp = provider.Round1(*t)
	}
	platform := info.Result.HW.Platform.Base
	if platform == "" {
		platform = info.Result.HW.Platform.Type
	}
	return map[string]any{"hostname": info.Result.Meta.Server.Host, "version": info.Result.System.KVMD.Version,
		"platform": platform, "cpu_temp": temp, "atx_power": power, "status": "online"}, nil
}
