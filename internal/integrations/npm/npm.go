// Package npm reads Nginx Proxy Manager for the stats payload:
// GET /api/nginx/proxy-hosts with `Authorization: Bearer <npmToken>`.
package npm

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Nginx Proxy Manager integration (payload key "npm").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "npm".
func (p *Provider) Key() string { return "npm" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether npmUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("npmUrl") != "" }

// Fetch returns {"proxy_hosts","status":"online"}; a missing npmToken is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("npmUrl"))
	if err != nil {
		return nil, err
	}
	token := st.String("npmToken")
	if token == "" {
		return nil, fmt.Errorf("%w: npmToken missing", provider.ErrUnauthorized)
	}
	var hosts []json.RawMessage
	err = p.c.JSON(ctx, provider.Request{URL: base + "/api/nginx/proxy-hosts", MaxBody: 8 << 20,
		Header: http.Header{"Authorization": {"Bearer " + token}}}, &hosts)
	if err != nil {
		return nil, err
	}
	return map[string]any{"proxy_hosts": len(hosts), "status": "online"}, nil
}
