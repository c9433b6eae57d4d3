package truenas_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/truenas"
)

const key = "1-truenasApiKeyABCDEF"

// fakeTrueNAS speaks the TrueNAS REST API v2.0 with Bearer API keys.
// legacyApps makes it a release before 24.10 (chart releases, no /app).
func fakeTrueNAS(t *testing.T, legacyApps, noVMs bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+key {
			http.Error(w, `{"message":"Authentication credentials were not provided."}`, http.StatusUnauthorized)
			return
		}
		switch {
		case r.URL.Path == "/api/v2.0/app" && !legacyApps:
			_, _ = w.Write([]byte(`[{"name":"plex","id":"plex","state":"RUNNING","upgrade_available":false},
				{"name":"nextcloud","id":"nextcloud","state":"STOPPED"}]`))
		case r.URL.Path == "/api/v2.0/chart/release" && legacyApps:
			_, _ = w.Write([]byte(`[{"name":"plex","status":"ACTIVE"}]`))
		case r.URL.Path == "/api/v2.0/alert/list":
			_, _ = w.Write([]byte(`[{"uuid":"a","level":"CRITICAL","formatted":"Pool tank is DEGRADED","dismissed":false},
				{"uuid":"b","level":"WARNING","formatted":"Disk sda is hot","dismissed":true},
				{"uuid":"c","level":"INFO","formatted":"Update available","dismissed":false},
				{"uuid":"d","level":"WARNING","formatted":"Scrub finished with errors","dismissed":false}]`))
		case r.URL.Path == "/api/v2.0/vm" && !noVMs:
			_, _ = w.Write([]byte(`[{"id":1,"name":"win11","status":{"state":"RUNNING","pid":42}},{"id":2,"name":"test","status":{"state":"STOPPED"}}]`))
		default:
			http.Error(w, `{"message":"Not Found"}`, http.StatusNotFound)
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"truenasUrl": base, "truenasKey": key}
}

func TestBlock(t *testing.T) {
	srv := fakeTrueNAS(t, false, false)
	defer srv.Close()
	got := providertest.Block(t, truenas.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "truenas block", got, map[string]any{
		"apps": 2, "alerts": 2, "status": "online",
		"vms": []any{map[string]any{"id": 1, "name": "win11", "state": "RUNNING"},
			map[string]any{"id": 2, "name": "test", "state": "STOPPED"}},
		"appList": []any{map[string]any{"name": "plex", "state": "RUNNING"},
			map[string]any{"name": "nextcloud", "state": "STOPPED"}},
		"alertList": []any{map[string]any{"level": "CRITICAL", "text": "Pool tank is DEGRADED"},
			map[string]any{"level": "WARNING", "text": "Scrub finished with errors"}},
	})
	providertest.NoSecret(t, got, key)
}

func TestLegacyAppsWithoutVMs(t *testing.T) {
	srv := fakeTrueNAS(t, true, true)
	defer srv.Close()
	got := providertest.Block(t, truenas.New(provider.NewClient()), settings(srv.URL), 3*time.Second).(map[string]any)
	providertest.Equal(t, "apps", got["appList"], []any{map[string]any{"name": "plex", "state": "ACTIVE"}})
	providertest.Equal(t, "vms", got["vms"], []any{})
	providertest.Equal(t, "status", got["status"], "online")
}

func TestMissingKey(t *testing.T) {
	got := providertest.Block(t, truenas.New(provider.NewClient()), provider.Settings{"truenasUrl": "http://127.0.0.1:1"}, time.Second)
	providertest.Equal(t, "no key", got, provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, truenas.New(provider.NewClient()), settings)
}
