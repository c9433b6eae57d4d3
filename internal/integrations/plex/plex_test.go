package plex_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/plex"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token = "plex-token-xyz"

// fakePlex speaks the Plex Media Server API: X-Plex-Token required,
// JSON when asked for it, XML otherwise.
func fakePlex(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Plex-Token") != token {
			http.Error(w, "<html><head><title>Unauthorized</title></head></html>", http.StatusUnauthorized)
			return
		}
		if r.Header.Get("Accept") != "application/json" {
			w.Header().Set("Content-Type", "text/xml")
			_, _ = w.Write([]byte(`<MediaContainer size="0"></MediaContainer>`))
			return
		}
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/status/sessions":
			_, _ = w.Write([]byte(`{"MediaContainer":{"size":2,"Metadata":[{"title":"A"},{"title":"B"}]}}`))
		case "/activities":
			_, _ = w.Write([]byte(`{"MediaContainer":{"size":1,"Activity":[{"type":"library.update.section"}]}}`))
		default:
			http.NotFound(w, r)
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"plexUrl": base + "/", "plexToken": token}
}

func TestBlock(t *testing.T) {
	srv := fakePlex(t)
	defer srv.Close()
	p := plex.New(provider.NewClient())
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "plex block", got, map[string]any{"sessions": 2, "activities": 1, "status": "online"})
	providertest.NoSecret(t, got, token)

	wrong := provider.Settings{"plexUrl": srv.URL, "plexToken": "other"}
	providertest.Equal(t, "wrong token", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
	missing := provider.Settings{"plexUrl": srv.URL}
	providertest.Equal(t, "no token", providertest.Block(t, p, missing, 3*time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, plex.New(provider.NewClient()), settings)
}
