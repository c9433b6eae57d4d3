package integrations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

// fakePihole speaks the Pi-hole v6 API a stats poll reads: login, summary, blocking.
func fakePihole(t *testing.T, password string, queries int) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/auth":
			var in struct{ Password string }
			b, _ := io.ReadAll(r.Body)
			_ = json.Unmarshal(b, &in)
			if in.Password != password {
				w.WriteHeader(http.StatusUnauthorized)
				_, _ = io.WriteString(w, `{"session":{"valid":false,"message":"password incorrect"}}`)
				return
			}
			_, _ = io.WriteString(w, `{"session":{"valid":true,"sid":"sid-`+password+`","validity":300}}`)
		case "/api/stats/summary":
			if r.Header.Get("sid") != "sid-"+password {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			_, _ = fmt.Fprintf(w, `{"queries":{"total":%d,"blocked":10,"percent_blocked":12.34},"gravity":{"domains_being_blocked":1234}}`, queries)
		case "/api/dns/blocking":
			_, _ = io.WriteString(w, `{"blocking":"enabled"}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestInstancesSideBySide: two Pi-hole instances, each with its own URL and
// password, are polled into "instances" of the stats payload; a third with
// a wrong password shows the unauthorized object, an unknown platform nothing.
func TestInstancesSideBySide(t *testing.T) {
	a := fakePihole(t, "pw-a", 100)
	b := fakePihole(t, "pw-b", 200)
	r := integrations.New(integrations.Deps{Settings: settings{}, Wait: 3 * time.Second})
	r.SetInstances(func(context.Context) ([]integrations.Instance, error) {
		return []integrations.Instance{
			{ID: "dns-a", Platform: "pihole", URL: a.URL, Auth: map[string]any{"password": "pw-a"}, VerifySSL: true},
			{ID: "dns-b", Platform: "pihole", URL: b.URL, Auth: map[string]any{"password": "pw-b"}, VerifySSL: true},
			{ID: "dns-bad", Platform: "pihole", URL: b.URL, Auth: map[string]any{"password": "nope"}, VerifySSL: true},
			{ID: "toaster", Platform: "toaster", URL: a.URL},
		}, nil
	})
	got := r.Blocks(context.Background())
	inst := providertest.Normal(t, got["instances"]).(map[string]any)
	if len(inst) != 3 {
		t.Fatalf("instances: %v", inst)
	}
	if q := inst["dns-a"].(map[string]any)["queries"]; q != float64(100) {
		t.Errorf("dns-a queries %v", q)
	}
	if q := inst["dns-b"].(map[string]any)["queries"]; q != float64(200) {
		t.Errorf("dns-b queries %v", q)
	}
	providertest.Equal(t, "dns-bad", inst["dns-bad"], map[string]any{"status": "unauthorized", "error": "Configuration error"})
	providertest.NoSecret(t, got, "pw-a", "pw-b")
	if got["pihole"] != nil {
		t.Errorf("the settings-based pihole block changed: %v", got["pihole"])
	}
}
