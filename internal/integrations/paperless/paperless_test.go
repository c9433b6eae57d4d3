package paperless_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/paperless"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token = "paperless-token-77"

// fakePaperless speaks Paperless-ngx's REST API (`Authorization: Token`).
func fakePaperless(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Token "+token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"detail":"Invalid token."}`))
			return
		}
		if r.URL.Path != "/api/documents/" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"count":1234,"next":"x","previous":null,"all":[1],"results":[{"id":1}]}`))
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"paperlessUrl": base, "paperlessToken": token}
}

func TestBlock(t *testing.T) {
	srv := fakePaperless(t)
	defer srv.Close()
	got := providertest.Block(t, paperless.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "paperless block", got, map[string]any{"documents": 1234, "status": "online"})
	providertest.NoSecret(t, got, token)
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, paperless.New(provider.NewClient()), settings)
}
