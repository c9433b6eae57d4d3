// Package unifiprotect reads UniFi Protect on a UniFi OS console for the
// stats payload: POST /api/auth/login (unifiProtectUser/Pass, JSON) gives
// the TOKEN cookie, reused until the console refuses it (401, then one new
// login: UniFi OS rate-limits logins), then
// GET /proxy/protect/api/bootstrap. TLS is verified only when
// unifiProtectVerifySsl is true (consoles ship self-signed certificates).
// The block is {"nvr","version","cameras":n,"online":n,"recording":n,
// "cameraList":[{"name","state","recording","type"}],"status":"online"}.
package unifiprotect

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the UniFi Protect integration (payload key "unifiProtect").
type Provider struct {
	c *provider.Client

	sessions provider.Sessions[string] // TOKEN cookie values by base URL + credentials
}

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "unifiProtect".
func (p *Provider) Key() string { return "unifiProtect" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether unifiProtectUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("unifiProtectUrl") != "" }

// Fetch returns the block; missing credentials are a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("unifiProtectUrl"))
	if err != nil {
		return nil, err
	}
	user, pass := st.String("unifiProtectUser"), st.String("unifiProtectPass")
	if user == "" || pass == "" {
		return nil, fmt.Errorf("%w: unifiProtectUser/unifiProtectPass missing", provider.ErrUnauthorized)
	}
	insecure := !st.Bool("unifiProtectVerifySsl", false)
	k := provider.SessionKey(base, user, pass)
	login := func(ctx context.Context) (string, time.Time, error) {
		tok, err := p.login(ctx, base, user, pass, insecure)
		return tok, time.Time{}, err
	}
	refused := func(err error) bool { return provider.HasStatus(err, http.StatusUnauthorized) }
	return provider.WithSession(ctx, &p.sessions, k, login, refused, func(tok string) (map[string]any, error) {
		return p.read(ctx, base, tok, insecure)
	})
}

func (p *Provider) login(ctx context.Context, base, user, pass string, insecure bool) (string, error) {
	_, h, err := p.c.Exchange(ctx, provider.Request{Method: http.MethodPost, URL: base + "/api/auth/login",
		JSON: map[string]any{"username": user, "password": pass, "rememberMe": false}, Insecure: insecure})
	if err != nil {
		return "", err
	}
	for _, c := range (&http.Response{Header: h}).Cookies() {
		if c.Name == "TOKEN" && c.Value != "" {
			return c.Value, nil
		}
	}
	return "", errors.New("unifi protect login: no TOKEN cookie")
}

func (p *Provider) read(ctx context.Context, base, tok string, insecure bool) (map[string]any, error) {
	var boot struct {
		NVR struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"nvr"`
		Cameras []struct {
			Name        string `json:"name"`
			State       string `json:"state"`
			Type        string `json:"type"`
			IsRecording bool   `json:"isRecording"`
		} `json:"cameras"`
	}
	err := p.c.JSON(ctx, provider.Request{URL: base + "/proxy/protect/api/bootstrap", Insecure: insecure,
		MaxBody: 32 << 20, Header: http.Header{"Cookie": {(&http.Cookie{Name: "TOKEN", Value: tok}).String()}}}, &boot)
	if err != nil {
		return nil, err
	}
	sort.SliceStable(boot.Cameras, func(i, j int) bool { return boot.Cameras[i].Name < boot.Cameras[j].Name })
	online, rec := 0, 0
	list := make([]any, 0, len(boot.Cameras))
	for _, c := range boot.Cameras {
		if c.State == "CONNECTED" {
			online++
		}
		if c.IsRecording {
			rec++
		}
		list = append(list, map[string]any{"name": c.Name, "state": c.State, "recording": c.IsRecording, "type": c.Type})
	}
	return map[string]any{"nvr": boot.NVR.Name, "version": boot.NVR.Version, "cameras": len(list), "online": online,
		"recording": rec, "cameraList": list, "status": "online"}, nil
}
