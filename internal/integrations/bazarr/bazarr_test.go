package bazarr_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/bazarr"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const key = "bazarr-key-0a0a"

// fakeBazarr speaks Bazarr's API (X-API-KEY).
func fakeBazarr(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-KEY") != key {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/api/badges" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"episodes":12,"movies":3,"providers":1,"status":0,"sonarr_signalr":"","radarr_signalr":"","announcements":0}`))
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"bazarrUrl": base, "bazarrKey": key}
}

func TestBlock(t *testing.T) {
	srv := fakeBazarr(t)
	defer srv.Close()
	got := providertest.Block(t, bazarr.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "bazarr block", got,
		map[string]any{"episodes_wanted": 12, "movies_wanted": 3, "provider_issues": 1, "status": "online"})
	providertest.NoSecret(t, got, key)
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, bazarr.New(provider.NewClient()), settings)
}
