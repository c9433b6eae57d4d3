// Package homebridge reads Homebridge (homebridge-config-ui-x REST API) for
// the stats payload: POST /api/auth/login with homebridgeUser /
// homebridgePass gives a Bearer access token (reused until it expires or
// is refused), then GET /api/accessories. The block is {"accessories":n,
// "on":n,"types":{humanType:count},"status":"online"}.
package homebridge

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
)

// Provider is the Homebridge integration (payload key "homebridge").
type Provider struct {
	c *provider.Client

	mu     sync.Mutex
	tokens map[string]token // base URL + credential digest -> access token
}

type token struct {
	value   string
	expires time.Time
}

// New builds the provider on c.
func New(c *provider.Client) *Provider { return &Provider{c: c, tokens: map[string]token{}} }

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
	d := sha256.Sum256([]byte(user + "\x00" + pass))
	k := base + "\x00" + string(d[:])
	for attempt := 0; ; attempt++ {
		p.mu.Lock()
		tok, cached := p.tokens[k]
		p.mu.Unlock()
		if !cached || time.Now().After(tok.expires) {
			cached = false
			if tok, err = p.login(ctx, base, user, pass); err != nil {
				return nil, err
			}
			p.mu.Lock()
			p.tokens[k] = tok
			p.mu.Unlock()
		}
		block, err := p.read(ctx, base, tok.value)
		if err != nil && cached && attempt == 0 && provider.HasStatus(err, http.StatusUnauthorized) {
			p.mu.Lock()
			delete(p.tokens, k)
			p.mu.Unlock()
			continue
		}
		return block, err
	}
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
