// Package gitea reads a Gitea (or Forgejo) server for the stats payload:
// GET /api/v1/repos/search?limit=1 with `Authorization: token <giteaToken>`,
// the repository count from the X-Total-Count header.
package gitea

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Gitea integration (payload key "gitea").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "gitea".
func (p *Provider) Key() string { return "gitea" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether giteaUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("giteaUrl") != "" }

// Fetch returns {"repos","status":"online"}; a missing giteaToken is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("giteaUrl"))
	if err != nil {
		return nil, err
	}
	token := st.String("giteaToken")
	if token == "" {
		return nil, fmt.Errorf("%w: giteaToken missing", provider.ErrUnauthorized)
	}
	body, h, err := p.c.Exchange(ctx, provider.Request{URL: base + "/api/v1/repos/search?limit=1",
		Header: http.Header{"Authorization": {"token " + token}}})
	if err != nil {
		return nil, err
	}
	total, err := strconv.ParseInt(h.Get("X-Total-Count"), 10, 64)
	if err != nil {
		var res struct {
			Data []json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(body, &res); err != nil {
			return nil, fmt.Errorf("gitea: decode: %w", err)
		}
		total = int64(len(res.Data))
	}
	return map[string]any{"repos": total, "status": "online"}, nil
}
