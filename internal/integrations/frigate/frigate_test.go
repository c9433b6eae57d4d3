package frigate_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/frigate"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const config = `{"cameras":{"front":{"detect":{"enabled":true},"record":{"enabled":true}},"yard":{"detect":{"enabled":false},"record":{"enabled":true}}},"mqtt":{"host":"x"}}`

// fakeFrigate speaks Frigate's HTTP API; modern puts camera stats under "cameras".
func fakeFrigate(t *testing.T, modern bool) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/stats":
			if modern {
				_, _ = w.Write([]byte(`{"cameras":{"front":{"camera_fps":5.04,"detection_fps":1},"yard":{"camera_fps":0}},
					"detectors":{},"service":{"version":"0.14.1-abc","uptime":3600.5,"storage":{}}}`))
			} else {
				_, _ = w.Write([]byte(`{"front":{"camera_fps":5.04},"yard":{"camera_fps":0},"service":{"version":"0.11.1","uptime":3600}}`))
			}
		case "/api/config":
			_, _ = w.Write([]byte(config))
		default:
			http.NotFound(w, r)
		}
	}))
}

func TestBlock(t *testing.T) {
	for _, modern := range []bool{true, false} {
		srv := fakeFrigate(t, modern)
		got := providertest.Block(t, frigate.New(provider.NewClient()), provider.Settings{"frigateUrl": srv.URL}, 3*time.Second).(map[string]any)
		providertest.Equal(t, "cameras", got["cameras"], []any{
			map[string]any{"name": "front", "fps": 5.0, "detect": true, "record": true, "status": "online"},
			map[string]any{"name": "yard", "fps": 0.0, "detect": false, "record": true, "status": "offline"}})
		providertest.Equal(t, "counts", []any{got["cameraCount"], got["onlineCount"], got["uptime"], got["status"]},
			[]any{2, 1, 3600, "online"})
		srv.Close()
	}
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, frigate.New(provider.NewClient()), func(base string) provider.Settings {
		return provider.Settings{"frigateUrl": base}
	})
}
