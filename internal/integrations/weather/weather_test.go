package weather_test

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/weather"
)

const apiKey = "owm-secret-key-0123"

// fakeOWM speaks OpenWeatherMap's /data/2.5/weather (appid in the query).
func fakeOWM(t *testing.T, calls *atomic.Int32) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		q := r.URL.Query()
		if r.URL.Path != "/data/2.5/weather" {
			http.NotFound(w, r)
			return
		}
		if q.Get("appid") != apiKey {
			http.Error(w, `{"cod":401,"message":"Invalid API key."}`, http.StatusUnauthorized)
			return
		}
		if q.Get("units") != "metric" {
			t.Errorf("units: %q", q.Get("units"))
		}
		if q.Get("q") != "Oslo,NO" {
			http.Error(w, `{"cod":"404","message":"city not found"}`, http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte(`{"coord":{"lon":10.7,"lat":59.9},"weather":[{"id":500,"main":"Rain","description":"light rain","icon":"10d"}],
			"main":{"temp":7.36,"feels_like":4.04,"temp_min":6,"temp_max":8,"pressure":1012,"humidity":87},
			"wind":{"speed":5.14,"deg":200},"sys":{"country":"NO"},"name":"Oslo","cod":200}`))
	}))
}

func at(base string) (provider.Provider, provider.Settings) {
	p := weather.New(provider.NewClient())
	p.BaseURL = base
	return p, provider.Settings{"weatherApiKey": apiKey, "weatherCity": "Oslo,NO"}
}

func TestBlock(t *testing.T) {
	var calls atomic.Int32
	srv := fakeOWM(t, &calls)
	defer srv.Close()
	p, st := at(srv.URL)
	want := map[string]any{"city": "Oslo", "country": "NO", "temp": 7.4, "feels_like": 4, "humidity": 87,
		"description": "light rain", "icon": "10d", "wind_speed": 5.1, "status": "online"}
	got := providertest.Block(t, p, st, 3*time.Second)
	providertest.Equal(t, "weather block", got, want)
	providertest.NoSecret(t, got, apiKey)
	providertest.Equal(t, "cached", providertest.Block(t, p, st, 3*time.Second), want)
	if n := calls.Load(); n != 1 {
		t.Errorf("API calls after two rounds: got %d, want 1 (cached)", n)
	}
	p, _ = at(srv.URL)
	providertest.Equal(t, "unknown city", providertest.Block(t, p,
		provider.Settings{"weatherApiKey": apiKey, "weatherCity": "Atlantis"}, 3*time.Second), provider.Unauthorized())
	providertest.Equal(t, "no city", providertest.Block(t, p, provider.Settings{"weatherApiKey": apiKey}, time.Second),
		provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.ConventionsFor(t, at)
}
