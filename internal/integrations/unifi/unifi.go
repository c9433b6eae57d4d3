// Package unifi reads a UniFi Network controller for the stats payload.
// Both documented controller flavours are supported: UniFi OS consoles
// (UDM, Cloud Key Gen2+: POST /api/auth/login, then the Network API under
// /proxy/network) and the classic controller (POST /api/login). Devices
// come from /api/s/<site>/stat/device, clients from /api/s/<site>/stat/sta.
// The session cookie is reused across rounds (UniFi OS rate-limits logins)
// and renewed once when the controller answers 401.
package unifi

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

// Provider is the UniFi Network integration (payload key "unifi").
type Provider struct {
	c *provider.Client

	sessions provider.Sessions[session] // by base URL + credentials
}

type session struct {
	cookie string // Cookie header value
	csrf   string // UniFi OS X-CSRF-Token
	prefix string // "/proxy/network" on UniFi OS, "" on the classic controller
}

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "unifi".
func (p *Provider) Key() string { return "unifi" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether unifiUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("unifiUrl") != "" }

// Fetch returns {"devices","adopted","clients","status":"online"}. Missing
// unifiUser is a configuration error; unifiSite defaults to "default";
// unifiVerifySsl defaults to false (controllers ship self-signed certificates).
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("unifiUrl"))
	if err != nil {
		return nil, err
	}
	user, pass := st.String("unifiUser"), st.String("unifiPass")
	if user == "" {
		return nil, fmt.Errorf("%w: unifiUser missing", provider.ErrUnauthorized)
	}
	site := st.String("unifiSite")
	if site == "" {
		site = "default"
	}
	insecure := !st.Bool("unifiVerifySsl", false)
	k := provider.SessionKey(base, user, pass)
	login := func(ctx context.Context) (session, time.Time, error) {
		s, err := p.login(ctx, base, user, pass, insecure)
		return s, time.Time{}, err
	}
	refused := func(err error) bool { return provider.HasStatus(err, http.StatusUnauthorized) }
	return provider.WithSession(ctx, &p.sessions, k, login, refused, func(s session) (map[string]any, error) {
		return p.read(ctx, base, site, s, insecure)
	})
}

func cookieHeader(h http.Header) string {
	var parts []string
	for _, c := range (&http.Response{Header: h}).Cookies() {
		parts = append(parts, (&http.Cookie{Name: c.Name, Value: c.Value}).String())
	}
	return strings.Join(parts, "; ")
}

func (p *Provider) login(ctx context.Context, base, user, pass string, insecure bool) (session, error) {
	creds := map[string]any{"username": user, "password": pass, "remember": true}
	hdr := http.Header{"Referer": {base}}
	_, h, err := p.c.Exchange(ctx, provider.Request{Method: http.MethodPost, URL: base + "/api/auth/login",
		JSON: creds, Header: hdr, Insecure: insecure})
	if err == nil {
		return session{cookie: cookieHeader(h), csrf: h.Get("X-Csrf-Token"), prefix: "/proxy/network"}, nil
	}
	if !provider.HasStatus(err, http.StatusNotFound, http.StatusMethodNotAllowed) {
		if provider.HasStatus(err, http.StatusBadRequest) { // the classic controller's answer to bad credentials
			return session{}, fmt.Errorf("%w: unifi login refused", provider.ErrUnauthorized)
		}
		return session{}, err
	}
	_, h, err = p.c.Exchange(ctx, provider.Request{Method: http.MethodPost, URL: base + "/api/login",
		JSON: creds, Header: hdr, Insecure: insecure})
	if provider.HasStatus(err, http.StatusBadRequest) {
		return session{}, fmt.Errorf("%w: unifi login refused", provider.ErrUnauthorized)
	}
	if err != nil {
		return session{}, err
	}
	return session{cookie: cookieHeader(h)}, nil
}

func (p *Provider) read(ctx context.Context, base, site string, s session, insecure bool) (map[string]any, error) {
	h := http.Header{"Cookie": {s.cookie}}
	if s.csrf != "" {
		h.Set("X-Csrf-Token", s.csrf)
	}
	api := base + s.prefix + "/api/s/" + url.PathEscape(site)
	var devices, clients struct {
		Data []json.RawMessage `json:"data"`
	}
	if err := p.c.JSON(ctx, provider.Request{URL: api + "/stat/device", Header: h, Insecure: insecure, MaxBody: 32 << 20}, &devices); err != nil {
		return nil, err
	}
	if err := p.c.JSON(ctx, provider.Request{URL: api + "/stat/sta", Header: h, Insecure: insecure, MaxBody: 32 << 20}, &clients); err != nil {
		return nil, err
	}
	adopted := 0
	for _, raw := range devices.Data {
		var d struct {
			Adopted bool `json:"adopted"`
		}
		if json.Unmarshal(raw, &d) == nil && d.Adopted {
			adopted++
		}
	}
	return map[string]any{"devices": len(devices.Data), "adopted": adopted, "clients": len(clients.Data),
		"status": "online"}, nil
}
