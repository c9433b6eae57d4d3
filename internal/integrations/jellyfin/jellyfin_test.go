package jellyfin_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/jellyfin"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const key = "0123456789abcdef0123456789abcdef"

// fakeJellyfin speaks the Jellyfin API: the API key in the MediaBrowser
// Authorization header.
func fakeJellyfin(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a := r.Header.Get("Authorization")
		if !strings.HasPrefix(a, "MediaBrowser ") || !strings.Contains(a, `Token="`+key+`"`) {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/Sessions":
			_, _ = w.Write([]byte(`[{"Id":"1","UserName":"a","NowPlayingItem":{"Name":"Movie","Type":"Movie"}},
				{"Id":"2","UserName":"b"},{"Id":"3","UserName":"c","NowPlayingItem":{"Name":"Ep","Type":"Episode"}}]`))
		case "/Items/Counts":
			_, _ = w.Write([]byte(`{"MovieCount":120,"SeriesCount":14,"EpisodeCount":800,"SongCount":0,"BookCount":0}`))
		default:
			http.NotFound(w, r)
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"jellyfinUrl": base, "jellyfinKey": key}
}

func TestBlock(t *testing.T) {
	srv := fakeJellyfin(t)
	defer srv.Close()
	p := jellyfin.New(provider.NewClient())
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "jellyfin block", got,
		map[string]any{"streams": 2, "movies": 120, "series": 14, "episodes": 800, "status": "online"})
	providertest.NoSecret(t, got, key)
	providertest.Equal(t, "no key", providertest.Block(t, p, provider.Settings{"jellyfinUrl": srv.URL}, time.Second),
		provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, jellyfin.New(provider.NewClient()), settings)
}
