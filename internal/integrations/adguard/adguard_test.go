package adguard_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/adguard"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const user, pass = "admin", "adguard-pass-1"

// fakeAdGuard speaks the AdGuard Home control API behind basic auth.
func fakeAdGuard(t *testing.T, protection bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != user || p != pass {
			http.Error(w, "403 Forbidden", http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/control/stats":
			_, _ = w.Write([]byte(`{"time_units":"hours","num_dns_queries":2000,"num_blocked_filtering":333,
				"num_replaced_safebrowsing":0,"avg_processing_time":0.01,"top_queried_domains":[]}`))
		case "/control/status":
			if protection {
				_, _ = w.Write([]byte(`{"version":"v0.107.52","running":true,"protection_enabled":true,"dns_port":53}`))
			} else {
				_, _ = w.Write([]byte(`{"version":"v0.107.52","running":true,"protection_enabled":false,"dns_port":53}`))
			}
		default:
			http.NotFound(w, r)
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"adguardUrl": base, "adguardUser": user, "adguardPass": pass}
}

func TestBlock(t *testing.T) {
	for _, on := range []bool{true, false} {
		srv := fakeAdGuard(t, on)
		got := providertest.Block(t, adguard.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
		want := map[string]any{"queries": 2000, "blocked": 333, "percent": 16.7, "status": "enabled"}
		if !on {
			want["status"] = "disabled"
		}
		providertest.Equal(t, "adguard block", got, want)
		providertest.NoSecret(t, got, pass)
		srv.Close()
	}
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, adguard.New(provider.NewClient()), settings)
}
