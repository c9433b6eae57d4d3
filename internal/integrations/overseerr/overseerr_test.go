package overseerr_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/overseerr"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const apiKey = "MTYwMDAwMDAwMDAwMGFi"

// fakeOverseerr speaks Overseerr's API v1 with X-Api-Key.
func fakeOverseerr(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Api-Key") != apiKey {
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"message":"You do not have permission to access this endpoint."}`))
			return
		}
		if r.URL.Path != "/api/v1/request/count" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"total":20,"movie":12,"tv":8,"pending":3,"approved":5,"declined":1,"processing":2,"available":9}`))
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"overseerrUrl": base, "overseerrKey": apiKey}
}

func TestBlock(t *testing.T) {
	srv := fakeOverseerr(t)
	defer srv.Close()
	p := overseerr.New(provider.NewClient())
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "overseerr block", got,
		map[string]any{"pending": 3, "approved": 5, "available": 9, "total": 20, "status": "online"})
	providertest.NoSecret(t, got, apiKey)
	wrong := provider.Settings{"overseerrUrl": srv.URL, "overseerrKey": "x"}
	providertest.Equal(t, "bad key (403)", providertest.Block(t, p, wrong, 3*time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, overseerr.New(provider.NewClient()), settings)
}
