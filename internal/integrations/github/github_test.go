package github_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/github"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token = "ghp_secretToken123"

// fakeGitHub speaks GitHub's REST API with a Bearer token; the
// notifications endpoint refuses tokens without that scope (403) unless
// withNotifications.
func fakeGitHub(withNotifications bool, calls *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, `{"message":"Bad credentials"}`, http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/user":
			w.Header().Set("X-RateLimit-Remaining", "4987")
			_, _ = w.Write([]byte(`{"login":"octocat","id":1,"public_repos":8,"followers":42,"plan":{}}`))
		case "/notifications":
			if !withNotifications {
				http.Error(w, `{"message":"Resource not accessible by personal access token"}`, http.StatusForbidden)
				return
			}
			_, _ = w.Write([]byte(`[{"id":"1","unread":true},{"id":"2","unread":true}]`))
		default:
			http.NotFound(w, r)
		}
	}))
}

func at(base string) (provider.Provider, provider.Settings) {
	p := github.New(provider.NewClient())
	p.BaseURL = base
	return p, provider.Settings{"githubToken": token}
}

func TestBlock(t *testing.T) {
	var calls atomic.Int32
	srv := fakeGitHub(true, &calls)
	defer srv.Close()
	p, st := at(srv.URL)
	want := map[string]any{"user": "octocat", "public_repos": 8, "followers": 42, "notifications": 2,
		"rate_remaining": 4987, "status": "online"}
	got := providertest.Block(t, p, st, 3*time.Second)
	providertest.Equal(t, "github block", got, want)
	providertest.NoSecret(t, got, token)
	providertest.Equal(t, "cached block", providertest.Block(t, p, st, 3*time.Second), want)
	if n := calls.Load(); n != 2 {
		t.Errorf("API calls after two rounds: got %d, want 2 (second round cached)", n)
	}

	narrow := fakeGitHub(false, &calls)
	defer narrow.Close()
	p, st = at(narrow.URL)
	want["notifications"] = nil
	providertest.Equal(t, "token without notifications scope", providertest.Block(t, p, st, 3*time.Second), want)
}

func TestConventions(t *testing.T) {
	providertest.ConventionsFor(t, at)
	if github.New(nil).BaseURL != "https://api.github.com" {
		t.Error("default base URL is not api.github.com")
	}
}
