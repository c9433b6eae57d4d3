package tautulli_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/tautulli"
)

const apiKey = "tautulliApiKey0123"

// fakeTautulli speaks Tautulli's API v2 (apikey in the query, HTTP 200
// with result "error" on a bad key).
func fakeTautulli(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.URL.Path != "/api/v2" {
			http.NotFound(w, r)
			return
		}
		if q.Get("apikey") != apiKey {
			_, _ = w.Write([]byte(`{"response":{"result":"error","message":"Invalid apikey","data":{}}}`))
			return
		}
		switch q.Get("cmd") {
		case "get_activity":
			_, _ = w.Write([]byte(`{"response":{"result":"success","message":null,"data":{"stream_count":"3",
				"stream_count_direct_play":2,"stream_count_direct_stream":0,"stream_count_transcode":1,"sessions":[]}}}`))
		case "get_home_stats":
			if q.Get("stat_id") != "top_users" {
				t.Errorf("stat_id: got %q", q.Get("stat_id"))
			}
			_, _ = w.Write([]byte(`{"response":{"result":"success","data":{"stat_id":"top_users","stat_type":"total_plays",
				"rows":[{"user":"ann","friendly_name":"Ann","total_plays":42},{"user":"bob","friendly_name":"","total_plays":"7"}]}}}`))
		default:
			_, _ = w.Write([]byte(`{"response":{"result":"error","message":"Unknown command"}}`))
		}
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"tautulliUrl": base, "tautulliKey": apiKey}
}

func TestBlock(t *testing.T) {
	srv := fakeTautulli(t)
	defer srv.Close()
	p := tautulli.New(provider.NewClient())
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "tautulli block", got, map[string]any{"streams": 3, "stream_count_direct_play": 2,
		"stream_count_transcode": 1, "status": "online", "top_users": []any{
			map[string]any{"user": "Ann", "total_plays": 42}, map[string]any{"user": "bob", "total_plays": 7}}})
	providertest.NoSecret(t, got, apiKey)
	wrong := provider.Settings{"tautulliUrl": srv.URL, "tautulliKey": "bad"}
	providertest.Equal(t, "bad key", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, tautulli.New(provider.NewClient()), settings)
}
