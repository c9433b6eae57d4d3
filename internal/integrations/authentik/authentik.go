// Package authentik reads an authentik identity provider for the stats
// payload through its API v3 with `Authorization: Bearer <authentikToken>`:
// GET /api/v3/core/users/?page_size=1 and
// GET /api/v3/events/events/?action=login_failed&page_size=1 (pagination counts).
package authentik

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the authentik integration (payload key "authentik").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "authentik".
func (p *Provider) Key() string { return "authentik" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether authentikUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("authentikUrl") != "" }

type page struct {
	Pagination struct {
		Count int64 `json:"count"`
	} `json:"pagination"`
}

// Fetch returns {"users","failed_logins","status":"online"}; a missing
// authentikToken is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("authentikUrl"))
	if err != nil {
		return nil, err
	}
	token := st.String("authentikToken")
	if token == "" {
		return nil, fmt.Errorf("%w: authentikToken missing", provider.ErrUnauthorized)
	}
	h := http.Header{"Authorization": {"Bearer " + token}}
	var users, failed page
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/v3/core/users/?page_size=1", Header: h}, &users); err != nil {
		return nil, err
	}
	err = p.c.JSON(ctx, provider.Request{URL: base + "/api/v3/events/events/?action=login_failed&page_size=1", Header: h}, &failed)
	if err != nil {
		return nil, err
	}
	return map[string]any{"users": users.Pagination.Count, "failed_logins": failed.Pagination.Count, "status": "online"}, nil
}
