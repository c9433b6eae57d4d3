// Package pihole reads the live DNS figures of a Pi-hole for the stats
// payload: Pi-hole v6 (REST API, session from POST /api/auth, then
// /api/stats/summary and /api/dns/blocking) with a fallback to the v5
// API (/admin/api.php?summaryRaw&auth=<token>).
package pihole

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Pi-hole integration (payload key "pihole").
type Provider struct {
	c   *provider.Client
	now func() time.Time

	mu       sync.Mutex
	sessions map[string]session // base URL + password digest -> session
}

type session struct {
	sid     string
	expires time.Time
}

// New builds the provider on c.
func New(c *provider.Client) *Provider {
	return &Provider{c: c, now: time.Now, sessions: map[string]session{}}
}

// Key is "pihole".
func (p *Provider) Key() string { return "pihole" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether piholeUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("piholeUrl") != "" }

// errV5 means the server has no v6 API.
var errV5 = errors.New("no Pi-hole v6 API")

// Fetch returns {"queries","blocked","percent","status","domains"}.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(strings.ReplaceAll(st.String("piholeUrl"), "/admin", ""))
	if err != nil {
		return nil, err
	}
	pw := st.String("piholePassword")
	if pw == "" {
		pw = st.String("piholeToken")
	}
	block, err := p.v6(ctx, base, pw)
	if errors.Is(err, errV5) {
		token := st.String("piholeToken")
		if token == "" {
			token = st.String("piholePassword")
		}
		return p.v5(ctx, base, token)
	}
	return block, err
}

// v6 reads the summary with a cached session; a rejected cached session
// is renewed once.
func (p *Provider) v6(ctx context.Context, base, pw string) (map[string]any, error) {
	for attempt := 0; ; attempt++ {
		sid, cached, err := p.session(ctx, base, pw)
		if err != nil {
			return nil, err
		}
		block, err := p.summary(ctx, base, sid)
		if err != nil && cached && attempt == 0 && provider.HasStatus(err, http.StatusUnauthorized) {
			p.forget(base, pw)
			continue
		}
		return block, err
	}
}

func (p *Provider) summary(ctx context.Context, base, sid string) (map[string]any, error) {
	h := http.Header{}
	if sid != "" {
		h.Set("sid", sid)
	}
	var sum struct {
		Queries struct {
			Total          int64   `json:"total"`
			Blocked        int64   `json:"blocked"`
			PercentBlocked float64 `json:"percent_blocked"`
		} `json:"queries"`
		Gravity struct {
			DomainsBeingBlocked int64 `json:"domains_being_blocked"`
		} `json:"gravity"`
	}
	err := p.c.JSON(ctx, provider.Request{URL: base + "/api/stats/summary", Header: h}, &sum)
	if provider.HasStatus(err, http.StatusNotFound) {
		return nil, errV5
	}
	if err != nil {
		return nil, err
	}
	status := "unknown"
	var bl struct {
		Blocking string `json:"blocking"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/dns/blocking", Header: h}, &bl); err == nil && bl.Blocking != "" {
		status = bl.Blocking
	}
	return map[string]any{
		"queries": sum.Queries.Total,
		"blocked": sum.Queries.Blocked,
		"percent": provider.Round1(sum.Queries.PercentBlocked),
		"status":  status,
		"domains": provider.Thousands(sum.Gravity.DomainsBeingBlocked),
	}, nil
}

func sessionKey(base, pw string) string {
	d := sha256.Sum256([]byte(pw))
	return base + "\x00" + string(d[:])
}

// session returns a v6 session id ("" without a password: a Pi-hole
// without one answers unauthenticated) and whether it came from the cache.
func (p *Provider) session(ctx context.Context, base, pw string) (string, bool, error) {
	if pw == "" {
		return "", false, nil
	}
	k := sessionKey(base, pw)
	p.mu.Lock()
	s, ok := p.sessions[k]
	p.mu.Unlock()
	if ok && p.now().Before(s.expires) {
		return s.sid, true, nil
	}
	var out struct {
		Session struct {
			Valid    bool   `json:"valid"`
			SID      string `json:"sid"`
			Validity int    `json:"validity"`
			Message  string `json:"message"`
		} `json:"session"`
	}
	data, err := p.c.Do(ctx, provider.Request{Method: http.MethodPost, URL: base + "/api/auth",
		JSON: map[string]string{"password": pw}})
	switch {
	case provider.HasStatus(err, http.StatusNotFound, http.StatusMethodNotAllowed):
		return "", false, errV5
	case err != nil:
		return "", false, err
	}
	if err := json.Unmarshal(data, &out); err != nil {
		return "", false, fmt.Errorf("pihole auth: decode: %w", err)
	}
	if !out.Session.Valid {
		return "", false, fmt.Errorf("%w: pihole auth refused", provider.ErrUnauthorized)
	}
	if out.Session.SID == "" { // no password set on the Pi-hole
		return "", false, nil
	}
	validity := time.Duration(out.Session.Validity) * time.Second
	if validity <= 0 {
		validity = 300 * time.Second
	}
	p.mu.Lock()
	p.sessions[k] = session{sid: out.Session.SID, expires: p.now().Add(validity - validity/10)}
	p.mu.Unlock()
	return out.Session.SID, false, nil
}

func (p *Provider) forget(base, pw string) {
	p.mu.Lock()
	delete(p.sessions, sessionKey(base, pw))
	p.mu.Unlock()
}

// v5 reads /admin/api.php?summaryRaw. Pi-hole 5 answers [] when the token
// is missing or wrong.
func (p *Provider) v5(ctx context.Context, base, token string) (map[string]any, error) {
	u := base + "/admin/api.php?summaryRaw"
	if token != "" {
		u += "&auth=" + url.QueryEscape(token)
	}
	data, err := p.c.Do(ctx, provider.Request{URL: u})
	if err != nil {
		return nil, err
	}
	if t := strings.TrimSpace(string(data)); strings.HasPrefix(t, "[") {
		return nil, fmt.Errorf("%w: pihole v5 refused the token", provider.ErrUnauthorized)
	}
	var s struct {
		Queries json.Number `json:"dns_queries_today"`
		Blocked json.Number `json:"ads_blocked_today"`
		Percent json.Number `json:"ads_percentage_today"`
		Domains json.Number `json:"domains_being_blocked"`
		Status  string      `json:"status"`
	}
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("pihole v5: decode: %w", err)
	}
	status := s.Status
	if status == "" {
		status = "enabled"
	}
	return map[string]any{
		"queries": toInt(s.Queries),
		"blocked": toInt(s.Blocked),
		"percent": provider.Round1(toFloat(s.Percent)),
		"status":  status,
		"domains": provider.Thousands(toInt(s.Domains)),
	}, nil
}

func toInt(n json.Number) int64 {
	if i, err := n.Int64(); err == nil {
		return i
	}
	return int64(toFloat(n))
}

func toFloat(n json.Number) float64 {
	f, _ := n.Float64()
	return f
}
