package scrutiny_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/scrutiny"
)

// fakeScrutiny speaks Scrutiny's web API.
func fakeScrutiny(t *testing.T, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/summary" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
}

func TestBlock(t *testing.T) {
	srv := fakeScrutiny(t, `{"success":true,"data":{"summary":{
		"0x5000c500a1b2c3d4":{"device":{"wwn":"0x5000c500a1b2c3d4","device_name":"sdb","model_name":"ST4000","serial_number":"Z1",
			"capacity":4000787030016,"device_status":0,"device_protocol":"ATA"},"smart":{"collector_date":"2026-01-01T00:00:00Z","temp":34,"power_on_hours":20000}},
		"0x5000c500ffffffff":{"device":{"wwn":"0x5000c500ffffffff","device_name":"sda","model_name":"WD10","serial_number":"W9",
			"capacity":1000204886016,"device_status":2,"device_protocol":"ATA"},"smart":{"temp":41,"power_on_hours":50000}}}}}`)
	defer srv.Close()
	got := providertest.Block(t, scrutiny.New(provider.NewClient()), provider.Settings{"scrutinyUrl": srv.URL}, 3*time.Second)
	providertest.Equal(t, "scrutiny block", got, map[string]any{"devices": 2, "healthy": 1, "warn": 0, "failed": 1,
		"totalCapacityBytes": 5000991916032, "maxTemp": 41, "status": "online", "device_list": []any{
			map[string]any{"name": "sda", "model": "WD10", "serial": "W9", "status": 2, "temperature": 41,
				"capacity": 1000204886016, "powerOnHours": 50000, "protocol": "ATA"},
			map[string]any{"name": "sdb", "model": "ST4000", "serial": "Z1", "status": 0, "temperature": 34,
				"capacity": 4000787030016, "powerOnHours": 20000, "protocol": "ATA"}}})

	empty := fakeScrutiny(t, `{"success":true,"data":{"summary":{}}}`)
	defer empty.Close()
	if got := providertest.Block(t, scrutiny.New(provider.NewClient()), provider.Settings{"scrutinyUrl": empty.URL}, 3*time.Second); got != nil {
		t.Errorf("no disks yet: got %v, want null", got)
	}
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, scrutiny.New(provider.NewClient()), func(base string) provider.Settings {
		return provider.Settings{"scrutinyUrl": base}
	})
}
