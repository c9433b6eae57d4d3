// Package scrutiny reads Scrutiny (S.M.A.R.T. monitoring) for the stats
// payload: GET /api/summary (no credential).
package scrutiny

import (
	"context"
	"sort"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Scrutiny integration (payload key "scrutiny").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "scrutiny".
func (p *Provider) Key() string { return "scrutiny" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether scrutinyUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("scrutinyUrl") != "" }

// Fetch returns {"devices","healthy","warn","failed","totalCapacityBytes",
// "maxTemp","device_list":[{"name","model","serial","status","temperature",
// "capacity","powerOnHours","protocol"}],"status":"online"}; device status
// is Scrutiny's code (0 passed, 1 warn, 2 failed, 3 unknown), nil when no
// disk is known yet.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("scrutinyUrl"))
	if err != nil {
		return nil, err
	}
	var out struct {
		Data struct {
			Summary map[string]struct {
				Device struct {
					Name     string `json:"device_name"`
					Model    string `json:"model_name"`
					Serial   string `json:"serial_number"`
					Capacity int64  `json:"capacity"`
					Status   *int   `json:"device_status"`
					Protocol string `json:"device_protocol"`
				} `json:"device"`
				Smart struct {
					Temp         float64 `json:"temp"`
					PowerOnHours int64   `json:"power_on_hours"`
				} `json:"smart"`
			} `json:"summary"`
		} `json:"data"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/summary", MaxBody: 8 << 20}, &out); err != nil {
		return nil, err
	}
	if len(out.Data.Summary) == 0 {
		return nil, nil
	}
	healthy, warn, failed := 0, 0, 0
	var capacity int64
	maxTemp := 0.0
	list := make([]map[string]any, 0, len(out.Data.Summary))
	for _, s := range out.Data.Summary {
		status := 3
		if s.Device.Status != nil {
			status = *s.Device.Status
		}
		switch status {
		case 0:
			healthy++
		case 1:
			warn++
		default:
			failed++
		}
		capacity += s.Device.Capacity
		maxTemp = max(maxTemp, s.Smart.Temp)
		list = append(list, map[string]any{"name": s.Device.Name, "model": s.Device.Model, "serial": s.Device.Serial,
			"status": status, "temperature": s.Smart.Temp, "capacity": s.Device.Capacity,
			"powerOnHours": s.Smart.PowerOnHours, "protocol": s.Device.Protocol})
	}
	sort.Slice(list, func(i, j int) bool { return list[i]["name"].(string) < list[j]["name"].(string) })
	devices := make([]any, len(list))
	for i, d := range list {
		devices[i] = d
	}
	return map[string]any{"devices": len(list), "healthy": healthy, "warn": warn, "failed": failed,
		"totalCapacityBytes": capacity, "maxTemp": maxTemp, "device_list": devices, "status": "online"}, nil
}
