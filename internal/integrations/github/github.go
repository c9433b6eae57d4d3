// Package github reads GitHub's REST API for the stats payload with
// githubToken (a personal access token, `Authorization: Bearer`):
// GET /user (login, public repositories, followers; the rate limit left
// from its X-RateLimit-Remaining header) and GET /notifications (unread
// count, at most 50; null when the token lacks the notifications scope).
// The block is {"user","public_repos","followers","notifications",
// "rate_remaining","status":"online"}, cached for a minute so polling
// stays far below the API's hourly limit. A 403/429 for the rate limit is
// reported as {"status":"rate_limited",...}, not as unauthorized.
package github

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// rateLimited reports whether err is GitHub refusing for its rate limit
// (403 or 429 with X-RateLimit-Remaining 0, a Retry-After header or a
// "rate limit" message) rather than for the token, and returns the block
// that says so: {"status":"rate_limited","error","rate_remaining":0,"reset"}.
func rateLimited(err error) (map[string]any, bool) {
	var se *provider.StatusError
	if !errors.As(err, &se) || (se.Code != http.StatusForbidden && se.Code != http.StatusTooManyRequests) {
		return nil, false
	}
	if se.Header.Get("X-RateLimit-Remaining") != "0" && se.Header.Get("Retry-After") == "" &&
		!strings.Contains(strings.ToLower(string(se.Body)), "rate limit") {
		return nil, false
	}
	var reset any
	if n, err := strconv.ParseInt(se.Header.Get("X-RateLimit-Reset"), 10, 64); err == nil {
		reset = n
	}
	return map[string]any{"status": "rate_limited", "error": "GitHub API rate limit exceeded", "rate_remaining": 0,
		"reset": reset}, true
}

// DefaultBaseURL is GitHub's REST API.
const DefaultBaseURL = "https://api.github.com"

// Provider is the GitHub integration (payload key "github").
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

// Key is "github".
func (p *Provider) Key() string { return "github" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether githubToken is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("githubToken") != "" }

// Fetch returns the block.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(p.BaseURL)
	if err != nil {
		return nil, err
	}
	token := st.String("githubToken")
	key := provider.CacheKey(base, token)
	if v, ok := p.cache.Get(key); ok {
		return v, nil
	}
	h := http.Header{"Authorization": {"Bearer " + token}, "Accept": {"application/vnd.github+json"},
		"X-Github-Api-Version": {"2022-11-28"}}
	body, hdr, err := p.c.Exchange(ctx, provider.Request{URL: base + "/user", Header: h, MaxBody: 256 << 10})
	if rl, ok := rateLimited(err); ok {
		return rl, nil
	}
	if err != nil {
		return nil, err
	}
	var u struct {
		Login       string `json:"login"`
		PublicRepos int64  `json:"public_repos"`
		Followers   int64  `json:"followers"`
	}
	if err := json.Unmarshal(body, &u); err != nil {
		return nil, err
	}
	var remaining any
	if n, err := strconv.ParseInt(hdr.Get("X-RateLimit-Remaining"), 10, 64); err == nil {
		remaining = n
	}
	var notes []json.RawMessage
	var unread any
	err = p.c.JSON(ctx, provider.Request{URL: base + "/notifications?per_page=50", Header: h, MaxBody: 4 << 20}, &notes)
	switch {
	case err == nil:
		unread = len(notes)
	case provider.Class(err) == "timeout":
		return nil, err
	}
	block := map[string]any{"user": u.Login, "public_repos": u.PublicRepos, "followers": u.Followers,
		"notifications": unread, "rate_remaining": remaining, "status": "online"}
	p.cache.Put(key, block)
	return block, nil
}
