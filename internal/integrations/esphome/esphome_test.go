package esphome_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/esphome"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

// fakeESPHome speaks the ESPHome dashboard's /devices and /ping.
func fakeESPHome() *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /devices", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"configured":[
			{"name":"porch","friendly_name":"Porch light","configuration":"porch.yaml","deployed_version":"2024.6.1","current_version":"2024.6.1","target_platform":"ESP32","address":"porch.local"},
			{"name":"garage","friendly_name":"","configuration":"garage.yaml","deployed_version":"2023.12.0","current_version":"2024.6.1","target_platform":"ESP8266"},
			{"name":"new","configuration":"new.yaml","deployed_version":"","current_version":"2024.6.1","target_platform":"ESP32"}],
			"importable":[]}`))
	})
	mux.HandleFunc("GET /ping", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"porch.yaml":true,"garage.yaml":false,"new.yaml":null}`))
	})
	return httptest.NewServer(mux)
}

func settings(base string) provider.Settings { return provider.Settings{"esphomeUrl": base} }

func TestBlock(t *testing.T) {
	srv := fakeESPHome()
	defer srv.Close()
	got := providertest.Block(t, esphome.New(provider.NewClient()), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "esphome block", got, map[string]any{"devices": 3, "online": 1, "outdated": 1,
		"deviceList": []any{
			map[string]any{"name": "garage", "online": false, "version": "2023.12.0", "platform": "ESP8266"},
			map[string]any{"name": "new", "online": nil, "version": "", "platform": "ESP32"},
			map[string]any{"name": "Porch light", "online": true, "version": "2024.6.1", "platform": "ESP32"}},
		"status": "online"})
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, esphome.New(provider.NewClient()), settings)
}
