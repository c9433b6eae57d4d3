// Package n8n reads an n8n workflow server for the stats payload through
// its public API v1 with the X-N8N-API-KEY header: GET /api/v1/workflows
// and GET /api/v1/executions?limit=20.
package n8n

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the n8n integration (payload key "n8n").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "n8n".
func (p *Provider) Key() string { return "n8n" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether n8nUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("n8nUrl") != "" }

// Fetch returns {"workflows","active_workflows","recent_executions",
// "failed_executions","failure_rate","last_execution","workflow_names"
// (first 10),"status":"online"}; a missing n8nApiKey is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("n8nUrl"))
	if err != nil {
		return nil, err
	}
	key := st.String("n8nApiKey")
	if key == "" {
		return nil, fmt.Errorf("%w: n8nApiKey missing", provider.ErrUnauthorized)
	}
	h := http.Header{"X-N8N-API-KEY": {key}}
	var wf struct {
		Data []struct {
			Name   string `json:"name"`
			Active bool   `json:"active"`
		} `json:"data"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/v1/workflows?limit=250", Header: h, MaxBody: 16 << 20}, &wf); err != nil {
		return nil, err
	}
	var ex struct {
		Data []struct {
			Status    string `json:"status"`
			Finished  bool   `json:"finished"`
			StartedAt string `json:"startedAt"`
		} `json:"data"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/v1/executions?limit=20", Header: h}, &ex); err != nil {
		return nil, err
	}
	active := 0
	names := []any{}
	for i, w := range wf.Data {
		if w.Active {
			active++
		}
		if i < 10 {
			names = append(names, w.Name)
		}
	}
	failed := 0
	for _, e := range ex.Data {
		if e.Status == "error" || e.Status == "crashed" {
			failed++
		}
	}
	rate := 0.0
	if n := len(ex.Data); n > 0 {
		rate = provider.Round1(float64(failed) / float64(n) * 100)
	}
	var last any
	if len(ex.Data) > 0 {
		last = ex.Data[0].StartedAt
	}
	return map[string]any{"workflows": len(wf.Data), "active_workflows": active, "recent_executions": len(ex.Data),
		"failed_executions": failed, "failure_rate": rate, "last_execution": last, "workflow_names": names,
		"status": "online"}, nil
}
