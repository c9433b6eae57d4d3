package gitlab_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/gitlab"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token = "glpat-xxxxxxxxxxxxxxxxxxxx"

// fakeGitLab speaks GitLab's API v4 (PRIVATE-TOKEN, X-Total).
func fakeGitLab(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("PRIVATE-TOKEN") != token {
			w.WriteHeader(http.StatusUnauthorized)
			_, _ = w.Write([]byte(`{"message":"401 Unauthorized"}`))
			return
		}
		if r.URL.Path != "/api/v4/projects" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("X-Total", "42")
		w.Header().Set("X-Per-Page", "1")
		_, _ = w.Write([]byte(`[{"id":1,"name":"a"}]`))
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"gitlabUrl": base, "gitlabToken": token}
}

func TestBlock(t *testing.T) {
	srv := fakeGitLab(t)
	defer srv.Close()
	got := providertest.Block(t, gitlab.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "gitlab block", got, map[string]any{"projects": 42, "status": "online"})
	providertest.NoSecret(t, got, token)
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, gitlab.New(provider.NewClient()), settings)
}
