package pihole_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/pihole"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const password = "pi-secret-pw"

// fakeV6 speaks the Pi-hole v6 REST API: POST /api/auth issues a session,
// the other endpoints want it in the sid header.
type fakeV6 struct {
	logins  atomic.Int32
	sid     atomic.Value // current valid sid
	summary atomic.Int32 // summary calls
}

func (f *fakeV6) handler(t *testing.T) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/auth", func(w http.ResponseWriter, r *http.Request) {
		var body struct{ Password string }
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			t.Errorf("auth body: %v", err)
		}
		if body.Password != password {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"session":{"valid":false,"totp":false,"sid":null,"validity":-1,"message":"password incorrect"},"took":0.1}`))
			return
		}
		n := f.logins.Add(1)
		sid := "sid-" + string(rune('A'+n))
		f.sid.Store(sid)
		_ = json.NewEncoder(w).Encode(map[string]any{"session": map[string]any{"valid": true, "totp": false,
			"sid": sid, "csrf": "x", "validity": 1800, "message": "password correct"}, "took": 0.01})
	})
	authed := func(w http.ResponseWriter, r *http.Request) bool {
		if cur, _ := f.sid.Load().(string); cur == "" || r.Header.Get("sid") != cur {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"key":"unauthorized","message":"Unauthorized","hint":null},"took":0}`))
			return false
		}
		return true
	}
	mux.HandleFunc("GET /api/stats/summary", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		f.summary.Add(1)
		_, _ = w.Write([]byte(`{"queries":{"total":12345,"blocked":2345,"percent_blocked":18.9957,"unique_domains":900,
			"forwarded":8000,"cached":2000,"types":{"A":1}},"clients":{"active":5,"total":9},
			"gravity":{"domains_being_blocked":1234567,"last_update":1700000000},"took":0.002}`))
	})
	mux.HandleFunc("GET /api/dns/blocking", func(w http.ResponseWriter, r *http.Request) {
		if !authed(w, r) {
			return
		}
		_, _ = w.Write([]byte(`{"blocking":"enabled","timer":null,"took":0.001}`))
	})
	return mux
}

func settings(base string) provider.Settings {
	return provider.Settings{"piholeUrl": base + "/admin/", "piholePassword": password}
}

func TestV6(t *testing.T) {
	f := &fakeV6{}
	srv := httptest.NewServer(f.handler(t))
	defer srv.Close()
	p := pihole.New(provider.NewClient())

	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	want := map[string]any{"queries": 12345, "blocked": 2345, "percent": 19.0, "status": "enabled", "domains": "1,234,567"}
	providertest.Equal(t, "v6 block", got, want)
	providertest.NoSecret(t, got, password, f.sid.Load().(string))

	// The session is reused on the next round (no second login)...
	providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	if n := f.logins.Load(); n != 1 {
		t.Errorf("logins after two rounds: got %d, want 1", n)
	}
	// ...and renewed once when Pi-hole has dropped it.
	f.sid.Store("sid-expired-on-server")
	got = providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "block after session renewal", got, want)
	if n := f.logins.Load(); n != 2 {
		t.Errorf("logins after a dropped session: got %d, want 2", n)
	}

	// A wrong password is a configuration error.
	bad := provider.Settings{"piholeUrl": srv.URL, "piholePassword": "wrong"}
	providertest.Equal(t, "wrong password", providertest.Block(t, p, bad, 3*time.Second), provider.Unauthorized())
	// The legacy piholeToken doubles as the v6 password.
	legacy := provider.Settings{"piholeUrl": srv.URL, "piholeToken": password}
	providertest.Equal(t, "token as password", providertest.Block(t, pihole.New(provider.NewClient()), legacy, 3*time.Second), want)
}

func TestV6WithoutPassword(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/stats/summary", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("sid") != "" {
			t.Errorf("sid sent without a configured password")
		}
		_, _ = w.Write([]byte(`{"queries":{"total":10,"blocked":1,"percent_blocked":10},"gravity":{"domains_being_blocked":999}}`))
	})
	mux.HandleFunc("GET /api/dns/blocking", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"blocking":"disabled","timer":30}`))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	got := providertest.Block(t, pihole.New(provider.NewClient()), provider.Settings{"piholeUrl": srv.URL}, 3*time.Second)
	providertest.Equal(t, "open v6 block", got,
		map[string]any{"queries": 10, "blocked": 1, "percent": 10.0, "status": "disabled", "domains": "999"})
}

// fakeV5 speaks the Pi-hole v5 API: no /api/*, /admin/api.php answers []
// to a wrong or missing token.
func fakeV5(t *testing.T, token string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/admin/api.php" {
			http.NotFound(w, r)
			return
		}
		q := r.URL.Query()
		if _, ok := q["summaryRaw"]; !ok {
			t.Errorf("v5 query without summaryRaw: %s", r.URL.RawQuery)
		}
		if q.Get("auth") != token {
			_, _ = w.Write([]byte(`[]`))
			return
		}
		_, _ = w.Write([]byte(`{"domains_being_blocked":123456,"dns_queries_today":5000,"ads_blocked_today":750,
			"ads_percentage_today":15.04,"unique_domains":10,"status":"enabled","gravity_last_updated":{"file_exists":true}}`))
	}))
}

func TestV5(t *testing.T) {
	const token = "v5-api-token-abc"
	srv := fakeV5(t, token)
	defer srv.Close()
	p := pihole.New(provider.NewClient())
	got := providertest.Block(t, p, provider.Settings{"piholeUrl": srv.URL, "piholeToken": token}, 3*time.Second)
	providertest.Equal(t, "v5 block", got,
		map[string]any{"queries": 5000, "blocked": 750, "percent": 15.0, "status": "enabled", "domains": "123,456"})
	providertest.NoSecret(t, got, token)

	wrong := provider.Settings{"piholeUrl": srv.URL, "piholeToken": "nope"}
	providertest.Equal(t, "v5 wrong token", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, pihole.New(provider.NewClient()), settings)
}

func TestBadURL(t *testing.T) {
	got := providertest.Block(t, pihole.New(provider.NewClient()), provider.Settings{"piholeUrl": "ftp://x"}, time.Second)
	providertest.Equal(t, "bad URL", got, provider.Unauthorized())
}
