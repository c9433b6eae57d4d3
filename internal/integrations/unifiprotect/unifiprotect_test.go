package unifiprotect_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/unifiprotect"
)

const user, pass = "viewer", "protect-secret-pw"

// fakeProtect speaks a UniFi OS console: JSON login setting the TOKEN
// cookie, Protect's bootstrap behind it (401 without a valid cookie).
type fakeProtect struct {
	logins atomic.Int32
	token  atomic.Value
}

func (f *fakeProtect) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth/login", func(w http.ResponseWriter, r *http.Request) {
		var c struct{ Username, Password string }
		_ = json.NewDecoder(r.Body).Decode(&c)
		if c.Username != user || c.Password != pass {
			http.Error(w, `{"code":"AUTHENTICATION_FAILED_INVALID_CREDENTIALS"}`, http.StatusUnauthorized)
			return
		}
		tok := "jwt" + string(rune('0'+f.logins.Add(1)))
		f.token.Store(tok)
		w.Header().Set("X-Csrf-Token", "csrf")
		http.SetCookie(w, &http.Cookie{Name: "TOKEN", Value: tok, Path: "/", HttpOnly: true, Secure: true})
		_, _ = w.Write([]byte(`{"unique_id":"u","username":"viewer"}`))
	})
	mux.HandleFunc("GET /proxy/protect/api/bootstrap", func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie("TOKEN")
		if cur, _ := f.token.Load().(string); err != nil || c.Value != cur {
			http.Error(w, `{"error":"unauthorized"}`, http.StatusUnauthorized)
			return
		}
		_, _ = w.Write([]byte(`{"nvr":{"name":"UNVR","version":"4.0.6","uptime":100},"cameras":[
			{"id":"1","name":"Garden","state":"CONNECTED","type":"UVC G4 Bullet","isRecording":true},
			{"id":"2","name":"Door","state":"DISCONNECTED","type":"UVC G4 Doorbell","isRecording":false}],"users":[]}`))
	})
	return mux
}

func settings(base string) provider.Settings {
	return provider.Settings{"unifiProtectUrl": base, "unifiProtectUser": user, "unifiProtectPass": pass}
}

func TestBlock(t *testing.T) {
	f := &fakeProtect{}
	srv := httptest.NewTLSServer(f.handler()) // self-signed, as consoles ship
	defer srv.Close()
	p := unifiprotect.New(provider.NewClient())
	want := map[string]any{"nvr": "UNVR", "version": "4.0.6", "cameras": 2, "online": 1, "recording": 1,
		"cameraList": []any{
			map[string]any{"name": "Door", "state": "DISCONNECTED", "recording": false, "type": "UVC G4 Doorbell"},
			map[string]any{"name": "Garden", "state": "CONNECTED", "recording": true, "type": "UVC G4 Bullet"}},
		"status": "online"}
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "protect block", got, want)
	providertest.NoSecret(t, got, pass, f.token.Load().(string))
	providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	if n := f.logins.Load(); n != 1 {
		t.Errorf("logins after two rounds: got %d, want 1 (session reused)", n)
	}
	f.token.Store("expired")
	providertest.Equal(t, "after expiry", providertest.Block(t, p, settings(srv.URL), 3*time.Second), want)
	if n := f.logins.Load(); n != 2 {
		t.Errorf("logins after expiry: got %d, want 2", n)
	}

	verify := settings(srv.URL)
	verify["unifiProtectVerifySsl"] = true
	providertest.Equal(t, "verified TLS against a self-signed console",
		providertest.Block(t, unifiprotect.New(provider.NewClient()), verify, 3*time.Second), provider.Offline())
	wrong := provider.Settings{"unifiProtectUrl": srv.URL, "unifiProtectUser": user, "unifiProtectPass": "bad"}
	providertest.Equal(t, "wrong password", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, unifiprotect.New(provider.NewClient()), settings)
}
