package servarr_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/servarr"
)

// fakeV3 speaks the Radarr/Sonarr v3 API for the extended and calendar views.
func fakeV3(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case "/api/v3/queue":
			_, _ = w.Write([]byte(`{"totalRecords":4,"records":[]}`))
		case "/api/v3/wanted/missing":
			_, _ = w.Write([]byte(`{"totalRecords":11,"records":[]}`))
		case "/api/v3/rootfolder":
			_, _ = w.Write([]byte(`[{"path":"/movies","freeSpace":107374182400,"totalSpace":1073741824000},{"path":"/b","freeSpace":0,"totalSpace":0}]`))
		case "/api/v3/calendar":
			q := r.URL.Query()
			if q.Get("start") == "" || q.Get("end") == "" {
				t.Errorf("calendar without a window: %s", r.URL.RawQuery)
			}
			if q.Get("includeSeries") == "true" {
				_, _ = w.Write([]byte(`[{"title":"Pilot","airDateUtc":"2026-01-02T20:00:00Z","series":{"title":"Show"}}]`))
			} else {
				_, _ = w.Write([]byte(`[{"title":"Film","inCinemas":"2026-01-03T00:00:00Z"},{"title":"Disc","physicalRelease":"2026-01-04T00:00:00Z"}]`))
			}
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestExtendedAndCalendar(t *testing.T) {
	srv := fakeV3(t)
	defer srv.Close()
	c := provider.NewClient()
	st := provider.Settings{"radarrUrl": srv.URL, "radarrKey": apiKey, "sonarrUrl": srv.URL, "sonarrKey": apiKey}
	providertest.Equal(t, "radarrExtended", providertest.Block(t, servarr.RadarrExtended(c), st, 3*time.Second),
		map[string]any{"queue_count": 4, "missing": 11, "total_space_gb": 1000.0, "free_space_gb": 100.0,
			"service": "radarr", "status": "online"})
	providertest.Equal(t, "radarrCalendar", providertest.Block(t, servarr.RadarrCalendar(c), st, 3*time.Second), []any{
		map[string]any{"title": "Film", "date": "2026-01-03T00:00:00Z", "type": "movie"},
		map[string]any{"title": "Disc", "date": "2026-01-04T00:00:00Z", "type": "movie"}})
	providertest.Equal(t, "sonarrCalendar", providertest.Block(t, servarr.SonarrCalendar(c), st, 3*time.Second), []any{
		map[string]any{"title": "Show", "date": "2026-01-02T20:00:00Z", "type": "episode"}})
	for _, p := range []provider.Provider{servarr.SonarrExtended(c), servarr.SonarrCalendar(c)} {
		t.Run(p.Key(), func(t *testing.T) {
			providertest.Conventions(t, p, func(base string) provider.Settings {
				return provider.Settings{"sonarrUrl": base, "sonarrKey": apiKey}
			})
		})
	}
}
