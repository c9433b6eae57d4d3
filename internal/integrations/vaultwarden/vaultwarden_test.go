package vaultwarden_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/vaultwarden"
)

const adminToken = "vw-admin-token-secret"

// fakeVaultwarden speaks Vaultwarden's /alive, /api/config and the admin
// login (303 to /admin with the VW_ADMIN cookie, 401 page when refused).
type fakeVaultwarden struct {
	logins atomic.Int32
	cookie atomic.Value
}

func (f *fakeVaultwarden) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /alive", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`"2024-06-10T12:00:00.000000Z"`))
	})
	mux.HandleFunc("GET /api/config", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"version":"2024.6.2","gitHash":"x","server":{"name":"Vaultwarden","url":"https://github.com/dani-garcia/vaultwarden"},"environment":{}}`))
	})
	mux.HandleFunc("POST /admin", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("token") != adminToken {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`<html>Invalid admin token, please try again.</html>`))
			return
		}
		c := "jwt" + string(rune('0'+f.logins.Add(1)))
		f.cookie.Store(c)
		http.SetCookie(w, &http.Cookie{Name: "VW_ADMIN", Value: c, Path: "/admin", HttpOnly: true})
		http.Redirect(w, r, "/admin", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /admin/users", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("VW_ADMIN")
		if cur, _ := f.cookie.Load().(string); err != nil || c.Value != cur {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`[{"id":"1","email":"a@x","userEnabled":true,"twoFactorEnabled":true},
			{"id":"2","email":"b@x","userEnabled":false,"twoFactorEnabled":false},
			{"id":"3","email":"c@x","userEnabled":true,"twoFactorEnabled":false}]`))
	})
	return mux
}

func settings(base string) provider.Settings {
	return provider.Settings{"vaultwardenUrl": base, "vaultwardenToken": adminToken}
}

func TestBlock(t *testing.T) {
	f := &fakeVaultwarden{}
	srv := httptest.NewServer(f.handler())
	defer srv.Close()
	p := vaultwarden.New(provider.NewClient())
	want := map[string]any{"alive": true, "server": "Vaultwarden", "version": "2024.6.2", "users": 3, "users_2fa": 1,
		"users_disabled": 1, "status": "online"}
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "vaultwarden block", got, want)
	providertest.NoSecret(t, got, adminToken, f.cookie.Load().(string))
	f.cookie.Store("expired")
	providertest.Equal(t, "after session expiry", providertest.Block(t, p, settings(srv.URL), 3*time.Second), want)
	if n := f.logins.Load(); n != 2 {
		t.Errorf("logins: got %d, want 2 (one reuse refused, one renewal)", n)
	}
	providertest.Equal(t, "without token", providertest.Block(t, p, provider.Settings{"vaultwardenUrl": srv.URL}, 3*time.Second),
		map[string]any{"alive": true, "server": "Vaultwarden", "version": "2024.6.2", "users": nil, "users_2fa": nil,
			"users_disabled": nil, "status": "online"})
	wrong := provider.Settings{"vaultwardenUrl": srv.URL, "vaultwardenToken": "bad"}
	providertest.Equal(t, "wrong token", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, vaultwarden.New(provider.NewClient()), settings)
}
