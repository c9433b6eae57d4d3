// Package plex reads the live figures of a Plex Media Server for the
// stats payload: GET /status/sessions and GET /activities with the
// X-Plex-Token header and a JSON Accept header.
package plex

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Plex integration (payload key "plex").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "plex".
func (p *Provider) Key() string { return "plex" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether plexUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("plexUrl") != "" }

type container struct {
	MediaContainer struct {
		Size int `json:"size"`
	} `json:"MediaContainer"`
}

// Fetch returns {"sessions","activities","status":"online"}; a missing
// plexToken is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("plexUrl"))
	if err != nil {
		return nil, err
	}
	token := st.String("plexToken")
	if token == "" {
		return nil, fmt.Errorf("%w: plexToken missing", provider.ErrUnauthorized)
	}
	h := http.Header{"X-Plex-Token": {token}, "Accept": {"application/json"}}
	var sessions, activities container
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/status/sessions", Header: h}, &sessions); err != nil {
		return nil, err
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/activities", Header: h}, &activities); err != nil {
		return nil, err
	}
	return map[string]any{"sessions": sessions.MediaContainer.Size, "activities": activities.MediaContainer.Size,
		"status": "online"}, nil
}
