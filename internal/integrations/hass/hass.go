// Package hass reads Home Assistant for the stats payload: GET /api/states
// with `Authorization: Bearer <hassToken>` (a long-lived access token),
// summarised into entity, automation and "on" counts.
package hass

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Home Assistant integration (payload key "hass").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "hass".
func (p *Provider) Key() string { return "hass" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether hassUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("hassUrl") != "" }

// maxStates bounds the /api/states answer (large installations reach MBs).
const maxStates = 16 << 20

// Fetch returns {"entities","automations","lights_on","switches_on",
// "domains":{domain:count},"status":"online"}; a missing hassToken is a
// configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("hassUrl"))
	if err != nil {
		return nil, err
	}
	token := st.String("hassToken")
	if token == "" {
		return nil, fmt.Errorf("%w: hassToken missing", provider.ErrUnauthorized)
	}
	var states []struct {
		EntityID string `json:"entity_id"`
		State    string `json:"state"`
	}
	err = p.c.JSON(ctx, provider.Request{URL: base + "/api/states", MaxBody: maxStates,
		Header: http.Header{"Authorization": {"Bearer " + token}}}, &states)
	if err != nil {
		return nil, err
	}
	domains := map[string]any{}
	counts := map[string]int{}
	lights, switches := 0, 0
	for _, e := range states {
		d, _, _ := strings.Cut(e.EntityID, ".")
		counts[d]++
		if e.State == "on" {
			switch d {
			case "light":
				lights++
			case "switch":
				switches++
			}
		}
	}
	for d, n := range counts {
		domains[d] = n
	}
	return map[string]any{"entities": len(states), "automations": counts["automation"], "lights_on": lights,
		"switches_on": switches, "domains": domains, "status": "online"}, nil
}
