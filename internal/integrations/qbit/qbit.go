// Package qbit reads qBittorrent's Web API v2 for the stats payload: a
// session from POST /api/v2/auth/login (form username/password, SID
// cookie), then GET /api/v2/transfer/info and
// GET /api/v2/torrents/info?filter=downloading. The session is reused
// until qBittorrent rejects it (403), then renewed once.
package qbit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the qBittorrent integration (payload key "qbit").
type Provider struct {
	c *provider.Client

	sessions provider.Sessions[string] // SID cookie values by base URL + credentials
}

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "qbit".
func (p *Provider) Key() string { return "qbit" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether qbitUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("qbitUrl") != "" }

// Fetch returns {"dl_speed","up_speed" (bytes/s),"active_torrents","status":"online"}.
// Without qbitUser no login is made (qBittorrent's "bypass authentication" setups).
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("qbitUrl"))
	if err != nil {
		return nil, err
	}
	user, pass := st.String("qbitUser"), st.String("qbitPass")
	k := provider.SessionKey(base, user, pass)
	login := func(ctx context.Context) (string, time.Time, error) {
		if user == "" {
			return "", time.Time{}, nil // "bypass authentication": no session cookie
		}
		sid, err := p.login(ctx, base, user, pass)
		return sid, time.Time{}, err
	}
	refused := func(err error) bool { return provider.HasStatus(err, http.StatusForbidden) }
	return provider.WithSession(ctx, &p.sessions, k, login, refused, func(sid string) (map[string]any, error) {
		return p.read(ctx, base, sid)
	})
}

func (p *Provider) login(ctx context.Context, base, user, pass string) (string, error) {
	body, h, err := p.c.Exchange(ctx, provider.Request{Method: http.MethodPost, URL: base + "/api/v2/auth/login",
		Form: url.Values{"username": {user}, "password": {pass}}, Header: http.Header{"Referer": {base}, "Accept": {"text/plain"}}})
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(string(body)) != "Ok." {
		return "", fmt.Errorf("%w: qbittorrent login refused", provider.ErrUnauthorized)
	}
	resp := http.Response{Header: h}
	for _, c := range resp.Cookies() {
		if c.Name == "SID" {
			return c.Value, nil
		}
	}
	return "", fmt.Errorf("qbittorrent login: no SID cookie")
}

func (p *Provider) read(ctx context.Context, base, sid string) (map[string]any, error) {
	h := http.Header{"Referer": {base}}
	if sid != "" {
		h.Set("Cookie", (&http.Cookie{Name: "SID", Value: sid}).String())
	}
	var info struct {
		DL int64 `json:"dl_info_speed"`
		UP int64 `json:"up_info_speed"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: base + "/api/v2/transfer/info", Header: h}, &info); err != nil {
		return nil, err
	}
	var torrents []json.RawMessage
	err := p.c.JSON(ctx, provider.Request{URL: base + "/api/v2/torrents/info?filter=downloading", Header: h,
		MaxBody: 16 << 20}, &torrents)
	if err != nil {
		return nil, err
	}
	return map[string]any{"dl_speed": info.DL, "up_speed": info.UP, "active_torrents": len(torrents),
		"status": "online"}, nil
}
