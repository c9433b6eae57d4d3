package npm_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/npm"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token = "eyJ.npm.jwt"

// fakeNPM speaks Nginx Proxy Manager's API (Bearer JWT).
func fakeNPM(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"error":{"code":401,"message":"Permission Denied"}}`))
			return
		}
		if r.URL.Path != "/api/nginx/proxy-hosts" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`[{"id":1,"domain_names":["a.lan"]},{"id":2,"domain_names":["b.lan"]}]`))
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"npmUrl": base, "npmToken": token}
}

func TestBlock(t *testing.T) {
	srv := fakeNPM(t)
	defer srv.Close()
	got := providertest.Block(t, npm.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "npm block", got, map[string]any{"proxy_hosts": 2, "status": "online"})
	providertest.NoSecret(t, got, token)
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, npm.New(provider.NewClient()), settings)
}
