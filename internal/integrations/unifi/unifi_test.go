package unifi_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/unifi"
)

const user, pass = "noba", "unifi-pass-9"

// fakeController speaks a UniFi controller: UniFi OS (login at
// /api/auth/login, TOKEN cookie + X-CSRF-Token, Network API under
// /proxy/network) or classic (login at /api/login, unifises cookie).
type fakeController struct {
	unifiOS bool
	logins  atomic.Int32
	valid   atomic.Value // current session cookie value
}

func (f *fakeController) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	loginPath, cookie, prefix := "/api/login", "unifises", ""
	if f.unifiOS {
		loginPath, cookie, prefix = "/api/auth/login", "TOKEN", "/proxy/network"
	}
	mux.HandleFunc("POST "+loginPath, func(w http.ResponseWriter, r *http.Request) {
		var c struct{ Username, Password string }
		_ = json.NewDecoder(r.Body).Decode(&c)
		if c.Username != user || c.Password != pass {
			if f.unifiOS {
				w.WriteHeader(http.StatusUnauthorized)
			} else {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"meta":{"rc":"error","msg":"api.err.Invalid"},"data":[]}`))
			}
			return
		}
		v := "s" + string(rune('0'+f.logins.Add(1)))
		f.valid.Store(v)
		http.SetCookie(w, &http.Cookie{Name: cookie, Value: v, Path: "/", HttpOnly: true})
		if f.unifiOS {
			w.Header().Set("X-Csrf-Token", "csrf-1")
		}
		_, _ = w.Write([]byte(`{"meta":{"rc":"ok"},"data":[]}`))
	})
	authed := func(w http.ResponseWriter, r *http.Request) bool {
		c, err := r.Cookie(cookie)
		if cur, _ := f.valid.Load().(string); err != nil || c.Value != cur {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"meta":{"rc":"error","msg":"api.err.LoginRequired"},"data":[]}`))
			return false
		}
		if f.unifiOS && r.Header.Get("X-Csrf-Token") != "csrf-1" {
			t.Errorf("UniFi OS call without the CSRF token")
		}
		return true
	}
	mux.HandleFunc("GET "+prefix+"/api/s/home/stat/device", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			_, _ = w.Write([]byte(`{"meta":{"rc":"ok"},"data":[{"mac":"a","adopted":true},{"mac":"b","adopted":true},{"mac":"c","adopted":false}]}`))
		}
	})
	mux.HandleFunc("GET "+prefix+"/api/s/home/stat/sta", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			_, _ = w.Write([]byte(`{"meta":{"rc":"ok"},"data":[{"mac":"1"},{"mac":"2"},{"mac":"3"},{"mac":"4"}]}`))
		}
	})
	return mux
}

func settings(base string) provider.Settings {
	return provider.Settings{"unifiUrl": base, "unifiUser": user, "unifiPass": pass, "unifiSite": "home"}
}

func TestControllers(t *testing.T) {
	want := map[string]any{"devices": 3, "adopted": 2, "clients": 4, "status": "online"}
	for _, os := range []bool{true, false} {
		f := &fakeController{unifiOS: os}
		srv := httptest.NewTLSServer(f.handler(t)) // self-signed, as controllers ship
		p := unifi.New(provider.NewClient())
		got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
		providertest.Equal(t, "unifi block", got, want)
		providertest.NoSecret(t, got, pass, f.valid.Load().(string))
		providertest.Block(t, p, settings(srv.URL), 3*time.Second)
		if n := f.logins.Load(); n != 1 {
			t.Errorf("unifiOS=%v: logins after two rounds: got %d, want 1", os, n)
		}
		f.valid.Store("gone")
		providertest.Equal(t, "after session expiry", providertest.Block(t, p, settings(srv.URL), 3*time.Second), want)
		wrong := settings(srv.URL)
		wrong["unifiPass"] = "bad"
		providertest.Equal(t, "bad password", providertest.Block(t, unifi.New(provider.NewClient()), wrong, 3*time.Second),
			provider.Unauthorized())
		srv.Close()
	}
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, unifi.New(provider.NewClient()), settings)
}
