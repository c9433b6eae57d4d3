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

const apiKey = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"

// fakeArr speaks the *arr API of one version: X-Api-Key, paged queue, indexers.
func fakeArr(t *testing.T, api string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != apiKey {
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		switch r.URL.Path {
		case api + "/queue":
			_, _ = w.Write([]byte(`{"page":1,"pageSize":1,"sortKey":"timeleft","totalRecords":7,"records":[{"id":1,"title":"x"}]}`))
		case api + "/indexer":
			_, _ = w.Write([]byte(`[{"id":1,"name":"a","enable":true},{"id":2,"name":"b","enable":false},{"id":3,"name":"c","enable":true}]`))
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestApps(t *testing.T) {
	c := provider.NewClient()
	cases := []struct {
		p    *servarr.Provider
		api  string
		want map[string]any
	}{
		{servarr.Radarr(c), "/api/v3", map[string]any{"queue_count": 7, "status": "online"}},
		{servarr.Sonarr(c), "/api/v3", map[string]any{"queue_count": 7, "status": "online"}},
		{servarr.Lidarr(c), "/api/v1", map[string]any{"queue_count": 7, "status": "online"}},
		{servarr.Readarr(c), "/api/v1", map[string]any{"queue_count": 7, "status": "online"}},
		{servarr.Prowlarr(c), "/api/v1", map[string]any{"indexer_count": 3, "enabled_count": 2, "status": "online"}},
	}
	for _, tc := range cases {
		t.Run(tc.p.Key(), func(t *testing.T) {
			srv := fakeArr(t, tc.api)
			defer srv.Close()
			st := provider.Settings{tc.p.Key() + "Url": srv.URL, tc.p.Key() + "Key": apiKey}
			got := providertest.Block(t, tc.p, st, 3*time.Second)
			providertest.Equal(t, tc.p.Key(), got, tc.want)
			providertest.NoSecret(t, got, apiKey)
			providertest.Conventions(t, tc.p, func(base string) provider.Settings {
				return provider.Settings{tc.p.Key() + "Url": base, tc.p.Key() + "Key": apiKey}
			})
		})
	}
}
