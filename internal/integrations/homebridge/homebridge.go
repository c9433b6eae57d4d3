// Package homebridge reads Homebridge (homebridge-config-ui-x REST API) for
// the stats payload: POST /api/auth/login with homebridgeUser /
// homebridgePass gives a Bearer access token (reused until it expires or
// is refused), then GET /api/accessories. The block is {"accessories":n,
// "on":n,"types":{humanType:count},"status":"online"}.
package homebridge

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Homebridge integration (payload key "homebridge").
type Provider struct {
	c *provider.Client

	sessions provider.Sessions[token] // access tokens by base URL + credentials
}

type token struct {
	value   string
	expires time.Time
}

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c} }

// Key is "homebridge".
func (p *Provider) Key() string { return "homebridge" }

// List is false: the block is an object.
func (p *Provider) List() bool { return false }

// Configured reports whether homebridgeUrl is set.
func (p *Provider) Configured(st provider.Settings) bool { return st.String("homebridgeUrl") != "" }

// Fetch returns the block; missing credentials are a configuration error.
func (p *Provider) Fetch(ctx context.Context, st provider.Settings) (any, error) {
	base, err := provider.BaseURL(st.String("homebridgeUrl"))
	if err != nil {
		return nil, err
	}
	user, pass := st.String("homebridgeUser"), st.String("homebridgePass")
	if user == "" || pass == "" {
		return nil, fmt.Errorf("%w: homebridgeUser/homebridgePass missing", provider.ErrUnauthorized)
	}
	k := provider.SessionKey(base, user, pass)
	login := func(ctx context.Context) (token, time.Time, error) {
		t, err := p.login(ctx, base, user, pass)
		return t, t.expires, err
	}
	refused := func(err error) bool { return provider.HasStatus(err, http.StatusUnauthorized) }
	return provider.WithSession(ctx, &p.sessions, k, login, refused, func(tok token) (map[string]any, error) {
		return p.read(ctx, base, tok.value)
	})
}

func (p *Provider) login(ctx context.Context, base, user, pass string) (token, error) {
	var out struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	err := p.c.JSON(ctx, provider.Request{Method: http.MethodPost, URL: base + "/api/auth/login",
		JSON: map[string]string{"username": user, "password": pass}}, &out)
	if err != nil {
		return token{}, err
	}
	if out.AccessToken == "" {
		return token{}, fmt.Errorf("%w: homebridge login gave no token", provider.ErrUnauthorized)
	}
	life := time.Duration(out.ExpiresIn) * time.Second
	if life <= 0 || life > 8*time.Hour {
		life = 8 * time.Hour
	}
	return token{value: out.AccessToken, expires: time.Now().Add(life - life/10)}, nil
}

func (p *Provider) read(ctx context.Context, base, tok string) (map[string]any, error) {
	var acc []struct {
		HumanType string         `json:"humanType"`
		Type      string         `json:"type"`
		Values    map[string]any `json:"values"`
	}
	err := p.c.JSON(ctx, provider.Request{URL: base + "/api/accessories", MaxBody: 16 << 20,
		Header: http.Header{"Authorization": {"Bearer " + tok}}}, &acc)
	if err != nil {
		return nil, err
	}
	on := 0
	types := map[string]any{}
	counts := map[string]int{}
	for _, a := range acc {
		t := a.HumanType
		if t == "" {
			t = a.Type
		}
		counts[t]++
		switch v := a.Values["On"].(type) {
		case bool:
			if v {
				on++
			}
		case float64:
			if v != 0 {
				on++
			}
		}
	}
	for t, n := range counts {
		types[t] = n
	}
	return map[string]any{"accessories": len(acc), "on": on, "types": types, "status": "online"}, nil
}
