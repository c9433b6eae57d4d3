// Package vaultwarden reads Vaultwarden for the stats payload: GET /alive
// (liveness) and GET /api/config (server name and version), and, when
// vaultwardenToken (the ADMIN_TOKEN) is set, the admin API: POST /admin
// with the token as form field gives the VW_ADMIN cookie (reused until
// refused), then GET /admin/users. The block is {"alive":true,"server",
// "version","users","users_2fa","users_disabled","status":"online"}; the
// user counts are null without a token. A refused admin token is a
// configuration error.
package vaultwarden

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Vaultwarden integration (payload key "vaultwarden").
type Provider struct {
	c *provider.Client
	// login and loginInsecure post the admin login, whose redirect carries
	// the cookie we need (loginInsecure for vaultwardenVerifySsl=false).
	login, loginInsecure *http.Client

	sessions provider.Sessions[string] // VW_ADMIN cookie values by base URL + token
}

// New builds the provider on c.
func New(c *provider.Client) *Provider {
	mk := func(insecure bool) *http.Client {
		tr := &http.Transport{Proxy: nil, DialContext: (&net.Dialer{Timeout: 3 * time.Second}).DialContext,
			TLSHandshakeTimeout: 3 * time.Second, ResponseHeaderTimeout: 10 * time.Second, MaxResponseHeaderBytes: 64 << 10}
		if insecure {
			tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true} //nolint:gosec // opt-in: vaultwardenVerifySsl=false
		}
		return &http.Client{Transport: tr,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	return &Provider{c: c, login: mk(false), loginInsecure: mk(true)}
}

// Key is "vaultwarden".
func (p *Provider) Key() string { return "vaultwarden" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether vaultwardenUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("vaultwardenUrl") != "" }

// Fetch returns the block.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("vaultwardenUrl"))
	if err != nil {
		return nil, err
	}
	insecure := !st.Bool("vaultwardenVerifySsl", true)
	if _, err := p.c.Do(ctx, provider.Request{Insecure: insecure, URL: base + "/alive", MaxBody: 4 << 10}); err != nil {
		return nil, err
	}
	var cfg struct {
		Version string `json:"version"`
		Server  *struct {
			Name string `json:"name"`
		} `json:"server"`
	}
	server := ""
	if err := p.c.JSON(ctx, provider.Request{Insecure: insecure, URL: base + "/api/config", MaxBody: 256 << 10}, &cfg); err == nil {
		if cfg.Server != nil {
			server = cfg.Server.Name
		}
	} else if provider.Class(err) == "timeout" {
		return nil, err
	}
	block := map[string]any{"alive": true, "server": server, "version": cfg.Version, "users": nil,
		"users_2fa": nil, "users_disabled": nil, "status": "online"}
	token := st.String("vaultwardenToken")
	if token == "" {
		return block, nil
	}
	k := provider.SessionKey(base, token)
	login := func(ctx context.Context) (string, time.Time, error) {
		cookie, err := p.adminLogin(ctx, base, token, insecure)
		return cookie, time.Time{}, err
	}
	refused := func(err error) bool { return provider.HasStatus(err, 401, 403, 302, 303, 307) }
	type user struct {
		Enabled   *bool `json:"userEnabled"`
		TwoFactor bool  `json:"twoFactorEnabled"`
	}
	users, err := provider.WithSession(ctx, &p.sessions, k, login, refused, func(cookie string) ([]user, error) {
		var users []user
		err := p.c.JSON(ctx, provider.Request{Insecure: insecure, URL: base + "/admin/users", MaxBody: 16 << 20,
			Header: http.Header{"Cookie": {(&http.Cookie{Name: "VW_ADMIN", Value: cookie}).String()}}}, &users)
		return users, err
	})
	if err != nil {
		if provider.HasStatus(err, 302, 303, 307) {
			return nil, fmt.Errorf("%w: vaultwarden admin session refused", provider.ErrUnauthorized)
		}
		return nil, err
	}
	tfa, disabled := 0, 0
	for _, u := range users {
		if u.TwoFactor {
			tfa++
		}
		if u.Enabled != nil && !*u.Enabled {
			disabled++
		}
	}
	block["users"], block["users_2fa"], block["users_disabled"] = len(users), tfa, disabled
	return block, nil
}

// adminLogin posts the admin token and returns the VW_ADMIN cookie.
func (p *Provider) adminLogin(ctx context.Context, base, token string, insecure bool) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, base+"/admin",
		strings.NewReader(url.Values{"token": {token}}.Encode()))
	if err != nil {
		return "", fmt.Errorf("%w: bad URL", provider.ErrUnauthorized)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "noba")
	hc := p.login
	if insecure {
		hc = p.loginInsecure
	}
	resp, err := hc.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			return "", fmt.Errorf("POST %s: %w", provider.Redact(base+"/admin"), ue.Err)
		}
		return "", err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	for _, c := range resp.Cookies() {
		if c.Name == "VW_ADMIN" && c.Value != "" {
			return c.Value, nil
		}
	}
	if resp.StatusCode >= 400 && resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden {
		return "", fmt.Errorf("POST %s: %w", provider.Redact(base+"/admin"), &provider.StatusError{Code: resp.StatusCode})
	}
	return "", fmt.Errorf("%w: vaultwarden admin token refused (HTTP %d)", provider.ErrUnauthorized, resp.StatusCode)
}
