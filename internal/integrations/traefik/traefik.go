// Package traefik reads Traefik's API (dashboard API, no credential of
// its own) for the stats payload: GET /api/http/routers and
// GET /api/http/services.
package traefik

import (
	"context"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Traefik integration (payload key "traefik").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "traefik".
func (p *Provider) Key() string { return "traefik" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether traefikUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("traefikUrl") != "" }

// Fetch returns {"routers","services","errors","status":"online"}; errors
// counts services in error or with a DOWN server.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("traefikUrl"))
	if err != nil {
		return nil, err
	}
	var routers []struct {
		Name string `json:"name"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/http/routers", MaxBody: 8 << 20}, &routers); err != nil {
		return nil, err
	}
	var services []struct {
		Status       string            `json:"status"`
		ServerStatus map[string]string `json:"serverStatus"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/http/services", MaxBody: 8 << 20}, &services); err != nil {
		return nil, err
	}
	errs := 0
	for _, s := range services {
		down := s.Status == "error"
		for _, v := range s.ServerStatus {
			down = down || v == "DOWN"
		}
		if down {
			errs++
		}
	}
	return map[string]any{"routers": len(routers), "services": len(services), "errors": errs, "status": "online"}, nil
}
