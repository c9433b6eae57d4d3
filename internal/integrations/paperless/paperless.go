// Package paperless reads Paperless-ngx for the stats payload:
// GET /api/documents/?page_size=1 with `Authorization: Token <paperlessToken>`.
package paperless

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Paperless-ngx integration (payload key "paperless").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "paperless".
func (p *Provider) Key() string { return "paperless" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether paperlessUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("paperlessUrl") != "" }

// Fetch returns {"documents","status":"online"}; a missing paperlessToken is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("paperlessUrl"))
	if err != nil {
		return nil, err
	}
	token := st.String("paperlessToken")
	if token == "" {
		return nil, fmt.Errorf("%w: paperlessToken missing", provider.ErrUnauthorized)
	}
	var res struct {
		Count int64 `json:"count"`
	}
	err = p.c.JSON(ctx, provider.Request{URL: base + "/api/documents/?page_size=1",
		Header: http.Header{"Authorization": {"Token " + token}}}, &res)
	if err != nil {
		return nil, err
	}
	return map[string]any{"documents": res.Count, "status": "online"}, nil
}
