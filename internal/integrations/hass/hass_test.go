package hass_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/hass"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const token = "eyJhbGciOiJIUzI1NiJ9.hass-long-lived"

// fakeHass speaks the Home Assistant REST API with a Bearer token.
func fakeHass(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer "+token {
			http.Error(w, "401: Unauthorized", http.StatusUnauthorized)
			return
		}
		if r.URL.Path != "/api/states" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`[
			{"entity_id":"light.kitchen","state":"on","attributes":{"friendly_name":"Kitchen"}},
			{"entity_id":"light.hall","state":"off","attributes":{}},
			{"entity_id":"switch.pump","state":"on","attributes":{}},
			{"entity_id":"automation.night","state":"on","attributes":{}},
			{"entity_id":"automation.morning","state":"off","attributes":{}},
			{"entity_id":"sensor.temp","state":"21.5","attributes":{"unit_of_measurement":"°C"}}]`))
	}))
}

func settings(base string) provider.Settings {
	return provider.Settings{"hassUrl": base, "hassToken": token}
}

func TestBlock(t *testing.T) {
	srv := fakeHass(t)
	defer srv.Close()
	p := hass.New(provider.NewClient())
	got := providertest.Block(t, p, settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "hass block", got, map[string]any{"entities": 6, "automations": 2, "lights_on": 1,
		"switches_on": 1, "domains": map[string]any{"light": 2, "switch": 1, "automation": 2, "sensor": 1},
		"status": "online"})
	providertest.NoSecret(t, got, token)
	providertest.Equal(t, "no token", providertest.Block(t, p, provider.Settings{"hassUrl": srv.URL}, time.Second),
		provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, hass.New(provider.NewClient()), settings)
}
