package speedtest_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
	"github.com/noba-go/noba/internal/integrations/speedtest"
)

// fakeTracker speaks Speedtest Tracker's public /api/speedtest/latest.
func fakeTracker(t *testing.T, body string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/speedtest/latest" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(body))
	}))
}

func TestBlock(t *testing.T) {
	cases := []struct {
		name, body string
		want       any
	}{
		{"mbit", `{"message":"ok","data":{"id":7,"ping":12.345,"download":912.34,"upload":"48.27","server_id":1,
			"server_host":"speed.example:8080","server_name":"Example ISP","url":"https://x","scheduled":true,"failed":false}}`,
			map[string]any{"download": 912.3, "upload": 48.3, "ping": 12.3, "server": "Example ISP", "status": "online"}},
		{"bits", `{"data":{"ping":8,"download":250000000,"upload":20000000,"server_name":"S"}}`,
			map[string]any{"download": 250.0, "upload": 20.0, "ping": 8.0, "server": "S", "status": "online"}},
		{"no result yet", `{"message":"No speedtests found.","data":null}`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := fakeTracker(t, c.body)
			defer srv.Close()
			got := providertest.Block(t, speedtest.New(provider.NewClient()), provider.Settings{"speedtestUrl": srv.URL}, 3*time.Second)
			providertest.Equal(t, "speedtest block", got, c.want)
		})
	}
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, speedtest.New(provider.NewClient()), func(base string) provider.Settings {
		return provider.Settings{"speedtestUrl": base}
	})
}
