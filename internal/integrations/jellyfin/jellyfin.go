// Package jellyfin reads a Jellyfin server for the stats payload:
// GET /Sessions (active streams) and GET /Items/Counts (library sizes),
// authenticated with the API key jellyfinKey in the documented
// `Authorization: MediaBrowser Token="<key>"` header.
package jellyfin

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Jellyfin integration (payload key "jellyfin").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "jellyfin".
func (p *Provider) Key() string { return "jellyfin" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether jellyfinUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("jellyfinUrl") != "" }

// Fetch returns {"streams","movies","series","episodes","status":"online"};
// a missing jellyfinKey is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("jellyfinUrl"))
	if err != nil {
		return nil, err
	}
	key := st.String("jellyfinKey")
	if key == "" {
		return nil, fmt.Errorf("%w: jellyfinKey missing", provider.ErrUnauthorized)
	}
	h := http.Header{"Authorization": {fmt.Sprintf(`MediaBrowser Client="NOBA", Token=%q`, key)}}
	var sessions []struct {
		NowPlayingItem map[string]any `json:"NowPlayingItem"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/Sessions", Header: h}, &sessions); err != nil {
		return nil, err
	}
	var counts struct {
		MovieCount, SeriesCount, EpisodeCount int64
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/Items/Counts", Header: h}, &counts); err != nil {
		return nil, err
	}
	streams := 0
	for _, s := range sessions {
		if s.NowPlayingItem != nil {
			streams++
		}
	}
	return map[string]any{"streams": streams, "movies": counts.MovieCount, "series": counts.SeriesCount,
		"episodes": counts.EpisodeCount, "status": "online"}, nil
}
