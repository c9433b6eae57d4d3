// Package servarr reads the *arr family (Radarr, Sonarr, Lidarr, Readarr,
// Prowlarr) for the stats payload. They share one API style: an API key
// in the X-Api-Key header, /api/v3 (Radarr, Sonarr) or /api/v1 (Lidarr,
// Readarr, Prowlarr). The download apps report their queue
// (GET /api/vN/queue, totalRecords), Prowlarr its indexers (GET /api/v1/indexer).
package servarr

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is one *arr application.
type Provider struct {
	c       *provider.Client
	key     string // payload key and settings prefix
	api     string // "/api/v3" or "/api/v1"
	indexer bool   // Prowlarr: count indexers instead of the queue
}

// Radarr is the Radarr integration (payload key "radarr", radarrUrl/radarrKey).
func Radarr(c *provider.Client) *Provider { return &Provider{c: c, key: "radarr", api: "/api/v3"} }

// Sonarr is the Sonarr integration (payload key "sonarr", sonarrUrl/sonarrKey).
func Sonarr(c *provider.Client) *Provider { return &Provider{c: c, key: "sonarr", api: "/api/v3"} }

// Lidarr is the Lidarr integration (payload key "lidarr", lidarrUrl/lidarrKey).
func Lidarr(c *provider.Client) *Provider { return &Provider{c: c, key: "lidarr", api: "/api/v1"} }

// Readarr is the Readarr integration (payload key "readarr", readarrUrl/readarrKey).
func Readarr(c *provider.Client) *Provider { return &Provider{c: c, key: "readarr", api: "/api/v1"} }

// Prowlarr is the Prowlarr integration (payload key "prowlarr", prowlarrUrl/prowlarrKey).
func Prowlarr(c *provider.Client) *Provider {
	return &Provider{c: c, key: "prowlarr", api: "/api/v1", indexer: true}
}

// Key is the application's payload key.
func (p *Provider) Key() string { return p.key }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether <app>Url is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String(p.key+"Url") != "" }

// Fetch returns {"queue_count","status":"online"} (Prowlarr:
// {"indexer_count","status":"online"}); a missing <app>Key is a
// configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String(p.key + "Url"))
	if err != nil {
		return nil, err
	}
	apiKey := st.String(p.key + "Key")
	if apiKey == "" {
		return nil, fmt.Errorf("%w: %sKey missing", provider.ErrUnauthorized, p.key)
	}
	h := http.Header{"X-Api-Key": {apiKey}}
	if p.indexer {
		var idx []struct {
			ID     int64 `json:"id"`
			Enable bool  `json:"enable"`
		}
		if err := p.c.JSON(ctx, provider.Request{URL: base + p.api + "/indexer", Header: h}, &idx); err != nil {
			return nil, err
		}
		enabled := 0
		for _, i := range idx {
			if i.Enable {
				enabled++
			}
		}
		return map[string]any{"indexer_count": len(idx), "enabled_count": enabled, "status": "online"}, nil
	}
	var q struct {
		TotalRecords int64 `json:"totalRecords"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + p.api + "/queue?page=1&pageSize=1", Header: h}, &q); err != nil {
		return nil, err
	}
	return map[string]any{"queue_count": q.TotalRecords, "status": "online"}, nil
}
