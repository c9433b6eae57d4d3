// Package overseerr reads Overseerr (or Jellyseerr, same API) for the
// stats payload: GET /api/v1/request/count with the X-Api-Key header.
package overseerr

import (
	"context"
	"fmt"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Overseerr integration (payload key "overseerr").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "overseerr".
func (p *Provider) Key() string { return "overseerr" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether overseerrUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("overseerrUrl") != "" }

// Fetch returns {"pending","approved","available","total","status":"online"};
// a missing overseerrKey is a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("overseerrUrl"))
	if err != nil {
		return nil, err
	}
	key := st.String("overseerrKey")
	if key == "" {
		return nil, fmt.Errorf("%w: overseerrKey missing", provider.ErrUnauthorized)
	}
	var c struct {
		Total     int64 `json:"total"`
		Pending   int64 `json:"pending"`
		Approved  int64 `json:"approved"`
		Available int64 `json:"available"`
	}
	err = p.c.JSON(ctx, provider.Request{URL: base + "/api/v1/request/count", Header: http.Header{"X-Api-Key": {key}}}, &c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"pending": c.Pending, "approved": c.Approved, "available": c.Available, "total": c.Total,
		"status": "online"}, nil
}
