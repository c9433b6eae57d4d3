// Package speedtest reads the latest result of a Speedtest Tracker for
// the stats payload: its public GET /api/speedtest/latest endpoint
// ({"data":{"download","upload","ping","server_name",...}}).
package speedtest

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Speedtest Tracker integration (payload key "speedtest").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "speedtest".
func (p *Provider) Key() string { return "speedtest" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether speedtestUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("speedtestUrl") != "" }

// Fetch returns {"download","upload" (Mbit/s),"ping" (ms),"server","status":"online"},
// or nil (the null default) when no test has run yet.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("speedtestUrl"))
	if err != nil {
		return nil, err
	}
	var out struct {
		Data *struct {
			Download   json.Number `json:"download"`
			Upload     json.Number `json:"upload"`
			Ping       json.Number `json:"ping"`
			ServerName string      `json:"server_name"`
		} `json:"data"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/speedtest/latest"}, &out); err != nil {
		return nil, err
	}
	if out.Data == nil {
		return nil, nil
	}
	d := out.Data
	ping, _ := d.Ping.Float64()
	dl, err1 := mbits(d.Download)
	ul, err2 := mbits(d.Upload)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("speedtest: bad result figures")
	}
	return map[string]any{"download": dl, "upload": ul, "ping": provider.Round1(ping), "server": d.ServerName,
		"status": "online"}, nil
}

// mbits reads a speed. The tracker reports Mbit/s; a figure of 100,000
// or more can only be bit/s (older releases) and is converted.
func mbits(n json.Number) (float64, error) {
	if n == "" {
		return 0, nil
	}
	v, err := n.Float64()
	if err != nil {
		return 0, err
	}
	if v >= 100_000 {
		v /= 1_000_000
	}
	return provider.Round1(v), nil
}
