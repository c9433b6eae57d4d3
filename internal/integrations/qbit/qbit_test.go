package qbit_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/qbit"
)

const user, pass = "admin", "qbit-pass-42"

// fakeQbit speaks qBittorrent's Web API v2: form login answering "Ok." or
// "Fails." (both 200) with a SID cookie; 403 for calls without a session.
type fakeQbit struct {
	logins atomic.Int32
	sid    atomic.Value
}

func (f *fakeQbit) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v2/auth/login", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Referer") == "" {
			w.WriteHeader(http.StatusUnauthorized) // CSRF protection wants Referer or Origin
			return
		}
		if r.PostFormValue("username") != user || r.PostFormValue("password") != pass {
			_, _ = w.Write([]byte("Fails."))
			return
		}
		sid := "sid" + string(rune('0'+f.logins.Add(1)))
		f.sid.Store(sid)
		http.SetCookie(w, &http.Cookie{Name: "SID", Value: sid, Path: "/", HttpOnly: true})
		_, _ = w.Write([]byte("Ok."))
	})
	authed := func(w http.ResponseWriter, r *http.Request) bool {
		c, err := r.Cookie("SID")
		if cur, _ := f.sid.Load().(string); err != nil || c.Value != cur {
			http.Error(w, "Forbidden", http.StatusForbidden)
			return false
		}
		return true
	}
	mux.HandleFunc("GET /api/v2/transfer/info", func(w http.ResponseWriter, r *http.Request) {
		if authed(w, r) {
			_, _ = w.Write([]byte(`{"connection_status":"connected","dl_info_speed":1048576,"up_info_speed":2048,"dht_nodes":300}`))
		}
	})
	mux.HandleFunc("GET /api/v2/torrents/info", func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Query().Get("filter") != "downloading" {
			t.Errorf("filter: got %q", r.URL.Query().Get("filter"))
		}
		if authed(w, r) {
			_, _ = w.Write([]byte(`[{"hash":"a","name":"x","state":"downloading"},{"hash":"b","name":"y","state":"stalledDL"}]`))
		}
	})
	return mux
}

func settings(base string) provider.Settings {
	return provider.Settings{"qbitUrl": base, "qbitUser": user, "qbitPass": pass}
}

func TestBlock(t *testing.T) {
	f := &fakeQbit{}
	srv := httptest.NewServer(f.handler(t))
	defer srv.Close()
	p := qbit.New(provider.NewClient())
	want := map[string]any{"dl_speed": 1048576, "up_speed": 2048, "active_torrents": 2, "status": "online"}
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "qbit block", got, want)
	providertest.NoSecret(t, got, pass, f.sid.Load().(string))

	providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	if n := f.logins.Load(); n != 1 {
		t.Errorf("logins after two rounds: got %d, want 1 (session reused)", n)
	}
	f.sid.Store("expired")
	providertest.Equal(t, "after session expiry", providertest.Block(t, p, settings(srv.URL), 3*time.Second), want)
	if n := f.logins.Load(); n != 2 {
		t.Errorf("logins after expiry: got %d, want 2", n)
	}
	wrong := provider.Settings{"qbitUrl": srv.URL, "qbitUser": user, "qbitPass": "nope"}
	providertest.Equal(t, "wrong password", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, qbit.New(provider.NewClient()), settings)
}
