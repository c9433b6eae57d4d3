package gitea_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/gitea"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token = "gitea-token-0011"

// fakeGitea speaks Gitea's API v1 (`Authorization: token`, X-Total-Count).
func fakeGitea(t *testing.T, withHeader bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "token "+token {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/api/v1/repos/search" || r.URL.Query().Get("limit") != "1" {
			http.NotFound(w, r)
			return
		}
		if withHeader {
			w.Header().Set("X-Total-Count", "17")
		}
		_, _ = w.Write([]byte(`{"ok":true,"data":[{"id":1,"name":"noba"}]}`))
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"giteaUrl": base, "giteaToken": token}
}

func TestBlock(t *testing.T) {
	p := gitea.New(provider.NewClient())
	for withHeader, want := range map[bool]int{true: 17, false: 1} {
		srv := fakeGitea(t, withHeader)
		got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
		providertest.Equal(t, "gitea block", got, map[string]any{"repos": want, "status": "online"})
		providertest.NoSecret(t, got, token)
		srv.Close()
	}
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, gitea.New(provider.NewClient()), settings)
}
