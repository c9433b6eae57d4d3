package energy_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/energy"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

// gen2 speaks the Shelly Gen2 RPC API; gen1 the Gen1 HTTP API (no /rpc).
func gen2(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/rpc/Switch.GetStatus" || r.URL.Query().Get("id") != "0" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"id":0,"source":"init","output":true,"apower":81.26,"voltage":229.94,"current":0.3521,
			"aenergy":{"total":12345.67,"by_minute":[1,2,3],"minute_ts":1700000000},"temperature":{"tC":40.1}}`))
	}))
}

func gen1(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"relays":[{"ison":false}],"meters":[{"power":5.55,"is_valid":true,"total":6000}]}`))
	}))
}

func TestList(t *testing.T) {
	a, b := gen2(t), gen1(t)
	defer a.Close()
	defer b.Close()
	dead := providertest.ClosedURL(t)
	st := provider.Settings{"energySensors": a.URL + "|Rack, " + b.URL + " , " + dead + "|Fridge"}
	got := providertest.Block(t, energy.New(provider.NewClient()), st, 3*time.Second)
	providertest.Equal(t, "energy list", got, []any{
		map[string]any{"name": "Rack", "power_w": 81.3, "voltage_v": 229.9, "current_a": 0.352, "energy_wh": 12345.7,
			"on": true, "status": "online"},
		map[string]any{"name": b.URL, "power_w": 5.6, "voltage_v": 0, "current_a": 0, "energy_wh": 100, "on": false,
			"status": "online"},
		map[string]any{"name": "Fridge", "status": "offline"}})
	providertest.Equal(t, "unconfigured", providertest.Block(t, energy.New(provider.NewClient()),
		provider.Settings{"energySensors": " , "}, time.Second), []any{})
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer slow.Close()
	defer close(release)
	got := providertest.Block(t, energy.New(provider.NewClient()), provider.Settings{"energySensors": slow.URL}, 300*time.Millisecond)
	providertest.Equal(t, "slow sensor", got, provider.Timeout())
}
