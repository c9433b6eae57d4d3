// Package gitlab reads a GitLab instance for the stats payload:
// GET /api/v4/projects?per_page=1 with the PRIVATE-TOKEN header, the
// project count from the X-Total header (absent above 10,000 projects,
// then reported as 10000).
package gitlab

import (
	"context"
	"fmt"
	"net/http"
	"strconv"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the GitLab integration (payload key "gitlab").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "gitlab".
func (p *Provider) Key() string { return "gitlab" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether gitlabUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("gitlabUrl") != "" }

// Fetch returns {"projects","status":"online"}; a missing gitlabToken is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("gitlabUrl"))
	if err != nil {
		return nil, err
	}
	token := st.String("gitlabToken")
	if token == "" {
		return nil, fmt.Errorf("%w: gitlabToken missing", provider.ErrUnauthorized)
	}
	_, h, err := p.c.Exchange(ctx, provider.Request{URL: base + "/api/v4/projects?per_page=1&simple=true",
		Header: http.Header{"PRIVATE-TOKEN": {token}}})
	if err != nil {
		return nil, err
	}
	total, err := strconv.ParseInt(h.Get("X-Total"), 10, 64)
	if err != nil {
		total = 10000
	}
	return map[string]any{"projects": total, "status": "online"}, nil
}
