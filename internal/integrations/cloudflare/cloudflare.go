// Package cloudflare reads Cloudflare's API v4 for the stats payload with
// cloudflareToken (an API token, `Authorization: Bearer`) and
// cloudflareZoneId: GET /zones/{id} (name, status, paused, plan) and
// GET /zones/{id}/dns_records?per_page=1 (record count from
// result_info.total_count). The block is {"zone","zone_status","paused",
// "plan","dns_records","status":"online"}, cached for a minute. A missing
// zone id is a configuration error.
package cloudflare

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// DefaultBaseURL is Cloudflare's API v4 root.
const DefaultBaseURL = "https://api.cloudflare.com/client/v4"

// Provider is the Cloudflare integration (payload key "cloudflare").
type Provider struct {
	c *provider.Client
	// BaseURL is the API root (DefaultBaseURL; tests point it at a fake).
	BaseURL string
	cache   provider.Cache
}

// New builds the provider on c.
func New(c *provider.Client) *Provider {
	return &Provider{c: c, BaseURL: DefaultBaseURL, cache: provider.Cache{TTL: time.Minute}}
}

// Key is "cloudflare".
func (p *Provider) Key() string { return "cloudflare" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether cloudflareToken is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("cloudflareToken") != "" }

type envelope struct {
	Success bool            `json:"success"`
	Result  json.RawMessage `json:"result"`
	Info    struct {
		TotalCount int64 `json:"total_count"`
	} `json:"result_info"`
}

// Fetch returns the block.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(p.BaseURL)
	if err != nil {
		return nil, err
	}
	token, zone := st.String("cloudflareToken"), st.String("cloudflareZoneId")
	if zone == "" {
		return nil, fmt.Errorf("%w: cloudflareZoneId missing", provider.ErrUnauthorized)
	}
	key := provider.CacheKey(base, token, zone)
	if v, ok := p.cache.Get(key); ok {
		return v, nil
	}
	h := http.Header{"Authorization": {"Bearer " + token}}
	get := func(path string) (envelope, error) {
		var env envelope
		if err := p.c.JSON(ctx, provider.Request{URL: base + path, Header: h, MaxBody: 1 << 20}, &env); err != nil {
			return env, err
		}
		if !env.Success {
			return env, fmt.Errorf("cloudflare %s: success=false", path)
		}
		return env, nil
	}
	zp := "/zones/" + url.PathEscape(zone)
	env, err := get(zp)
	if err != nil {
		return nil, err
	}
	var z struct {
		Name   string `json:"name"`
		Status string `json:"status"`
		Paused bool   `json:"paused"`
		Plan   struct {
			Name string `json:"name"`
		} `json:"plan"`
	}
	if err := json.Unmarshal(env.Result, &z); err != nil {
		return nil, fmt.Errorf("cloudflare zone: %w", err)
	}
	var records any
	if dns, err := get(zp + "/dns_records?per_page=1"); err == nil {
		records = dns.Info.TotalCount
	} else if provider.Class(err) == "timeout" {
		return nil, err
	}
	block := map[string]any{"zone": z.Name, "zone_status": z.Status, "paused": z.Paused, "plan": z.Plan.Name,
		"dns_records": records, "status": "online"}
	p.cache.Put(key, block)
	return block, nil
}
