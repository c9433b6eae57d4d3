package authentik_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/authentik"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token = "ak-token-123456"

// fakeAuthentik speaks authentik's API v3 (Bearer token, paginated lists).
func fakeAuthentik(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"detail":"Token invalid/expired"}`))
			return
		}
		switch r.URL.Path {
		case "/api/v3/core/users/":
			_, _ = w.Write([]byte(`{"pagination":{"next":2,"previous":0,"count":25,"current":1,"total_pages":25},"results":[{"pk":1}]}`))
		case "/api/v3/events/events/":
			if r.URL.Query().Get("action") != "login_failed" {
				t.Errorf("events without the login_failed filter: %s", r.URL.RawQuery)
			}
			_, _ = w.Write([]byte(`{"pagination":{"count":3},"results":[]}`))
		default:
			http.NotFound(w, r)
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"authentikUrl": base, "authentikToken": token}
}

func TestBlock(t *testing.T) {
	srv := fakeAuthentik(t)
	defer srv.Close()
	got := providertest.Block(t, authentik.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "authentik block", got, map[string]any{"users": 25, "failed_logins": 3, "status": "online"})
	providertest.NoSecret(t, got, token)
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, authentik.New(provider.NewClient()), settings)
}
