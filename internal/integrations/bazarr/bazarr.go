// Package bazarr reads Bazarr (subtitles for Sonarr/Radarr) for the stats
// payload: GET /api/badges with the X-API-KEY header (wanted subtitles
// and provider issues).
package bazarr

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Bazarr integration (payload key "bazarr").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "bazarr".
func (p *Provider) Key() string { return "bazarr" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether bazarrUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("bazarrUrl") != "" }

// Fetch returns {"episodes_wanted","movies_wanted","provider_issues","status":"online"};
// a missing bazarrKey is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("bazarrUrl"))
	if err != nil {
		return nil, err
	}
	key := st.String("bazarrKey")
	if key == "" {
		return nil, fmt.Errorf("%w: bazarrKey missing", provider.ErrUnauthorized)
	}
	var b struct {
		Episodes  int64 `json:"episodes"`
		Movies    int64 `json:"movies"`
		Providers int64 `json:"providers"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/badges", Header: http.Header{"X-API-KEY": {key}}}, &b); err != nil {
		return nil, err
	}
	return map[string]any{"episodes_wanted": b.Episodes, "movies_wanted": b.Movies, "provider_issues": b.Providers,
		"status": "online"}, nil
}
