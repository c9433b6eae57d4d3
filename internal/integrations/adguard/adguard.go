// Package adguard reads AdGuard Home's DNS figures for the stats payload:
// GET /control/stats and GET /control/status, with HTTP basic auth
// (adguardUser / adguardPass) when a user is configured.
package adguard

import (
	"context"
	"encoding/base64"
	"net/http"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the AdGuard Home integration (payload key "adguard").
type Provider struct{ c *provider.Client }

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "adguard".
func (p *Provider) Key() string { return "adguard" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether adguardUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("adguardUrl") != "" }

// Fetch returns {"queries","blocked","percent","status":"enabled|disabled"}
// (status is the protection switch of /control/status).
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("adguardUrl"))
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	if user := st.String("adguardUser"); user != "" {
		cred := base64.StdEncoding.EncodeToString([]byte(user + ":" + st.String("adguardPass")))
		h.Set("Authorization", "Basic "+cred)
	}
	var stats struct {
		Queries int64 `json:"num_dns_queries"`
		Blocked int64 `json:"num_blocked_filtering"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/control/stats", Header: h}, &stats); err != nil {
		return nil, err
	}
	var status struct {
		ProtectionEnabled *bool `json:"protection_enabled"`
	}
	state := "unknown"
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/control/status", Header: h}, &status); err != nil {
		return nil, err
	} else if status.ProtectionEnabled != nil {
		state = map[bool]string{true: "enabled", false: "disabled"}[*status.ProtectionEnabled]
	}
	pct := 0.0
	if stats.Queries > 0 {
		pct = provider.Round1(float64(stats.Blocked) / float64(stats.Queries) * 100)
	}
	return map[string]any{"queries": stats.Queries, "blocked": stats.Blocked, "percent": pct, "status": state}, nil
}
