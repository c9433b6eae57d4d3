package traefik_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/traefik"
)

// fakeTraefik speaks Traefik's API.
func fakeTraefik(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/http/routers":
			_, _ = w.Write([]byte(`[{"name":"a@docker","status":"enabled"},{"name":"b@file","status":"enabled"},{"name":"c@docker"}]`))
		case "/api/http/services":
			_, _ = w.Write([]byte(`[{"name":"a","status":"enabled","serverStatus":{"http://10.0.0.1:80":"UP"}},
				{"name":"b","status":"enabled","serverStatus":{"http://10.0.0.2:80":"DOWN","http://10.0.0.3:80":"UP"}},
				{"name":"c","status":"error"}]`))
		default:
			http.NotFound(w, r)
		}
	}))
}

func settings(base string) provider.Settings { return provider.Settings{"traefikUrl": base} }

func TestBlock(t *testing.T) {
	srv := fakeTraefik(t)
	defer srv.Close()
	got := providertest.Block(t, traefik.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "traefik block", got, map[string]any{"routers": 3, "services": 3, "errors": 2, "status": "online"})
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, traefik.New(provider.NewClient()), settings)
}
