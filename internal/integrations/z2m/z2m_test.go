package z2m_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/z2m"
)

// fakeZ2M speaks the Zigbee2MQTT frontend WebSocket at /api: it sends the
// retained bridge messages on connect, as Zigbee2MQTT 2.x does.
func fakeZ2M(t *testing.T) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api" {
			http.NotFound(w, r)
			return
		}
		c, err := websocket.Accept(w, r, nil)
		if err != nil {
			t.Errorf("accept: %v", err)
			return
		}
		defer c.CloseNow()
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		for _, m := range []string{
			`{"topic":"bridge/state","payload":{"state":"online"}}`,
			`{"topic":"bridge/info","payload":{"version":"2.1.3","commit":"abc","coordinator":{"ieee_address":"0x00","type":"EmberZNet","meta":{}},"permit_join":false,"config":{}}}`,
			`{"topic":"some/device","payload":{"temperature":21}}`,
			`{"topic":"bridge/devices","payload":[{"ieee_address":"0x00","type":"Coordinator"},{"ieee_address":"0x01","type":"Router","friendly_name":"plug"},{"ieee_address":"0x02","type":"EndDevice","friendly_name":"sensor"},{"ieee_address":"0x03","type":"EndDevice","friendly_name":"button"}]}`,
		} {
			if err := c.Write(ctx, websocket.MessageText, []byte(m)); err != nil {
				return
			}
		}
		_, _, _ = c.Read(ctx) // until the client closes
	}))
}

func settings(base string) provider.Settings { return provider.Settings{"z2mUrl": base} }

func TestBlock(t *testing.T) {
	srv := fakeZ2M(t)
	defer srv.Close()
	got := providertest.Block(t, z2m.New(nil), settings(srv.URL), 3*time.Second)
	providertest.Equal(t, "z2m block", got, map[string]any{"version": "2.1.3", "coordinator": "EmberZNet",
		"permit_join": false, "bridge_state": "online", "devices": 3, "routers": 1, "end_devices": 2, "status": "online"})
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, z2m.New(nil), settings)
}
