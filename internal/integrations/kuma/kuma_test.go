package kuma_test

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/integrations/kuma"
	"github.com/noba-go/noba/internal/integrations/provider"
	"github.com/noba-go/noba/internal/integrations/provider/providertest"
)

const apiKey = "uk1_kumaApiKey"

// exposition is what Uptime Kuma's /metrics serves.
const exposition = `# HELP monitor_cert_days_remaining The number of days remaining until the certificate expires
# TYPE monitor_cert_days_remaining gauge
monitor_cert_days_remaining{monitor_name="Web",monitor_type="http",monitor_url="https://example.com",monitor_hostname="null",monitor_port="null"} 60
# HELP monitor_status Monitor Status (1 = UP, 0= DOWN, 2= PENDING, 3= MAINTENANCE)
# TYPE monitor_status gauge
monitor_status{monitor_name="Web",monitor_type="http",monitor_url="https://example.com",monitor_hostname="null",monitor_port="null"} 1
monitor_status{monitor_name="DNS \"main\"",monitor_type="dns",monitor_url="https://",monitor_hostname="1.1.1.1",monitor_port="53"} 0
monitor_status{monitor_name="Backup",monitor_type="push",monitor_url="https://",monitor_hostname="null",monitor_port="null"} 2
monitor_status{monitor_name="NAS",monitor_type="ping",monitor_url="https://",monitor_hostname="10.0.0.2",monitor_port="null"} 3
# HELP monitor_response_time Monitor Response Time (ms)
# TYPE monitor_response_time gauge
monitor_response_time{monitor_name="Web",monitor_type="http",monitor_url="https://example.com",monitor_hostname="null",monitor_port="null"} 120
`

// fakeKuma speaks Uptime Kuma: /metrics behind basic auth with an API key
// (any user name), and the public status-page API of the page "home".
func fakeKuma(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, r *http.Request) {
		_, pw, ok := r.BasicAuth()
		if !ok || pw != apiKey {
			w.Header().Set("WWW-Authenticate", `Basic realm="Uptime Kuma"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
		w.Header().Set("Content-Type", "text/plain; version=0.0.4")
		_, _ = w.Write([]byte(exposition))
	})
	mux.HandleFunc("GET /api/status-page/home", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "" {
			t.Errorf("credential sent to the public status page API")
		}
		_, _ = w.Write([]byte(`{"config":{"slug":"home","title":"Home"},"incident":null,"publicGroupList":[
			{"id":1,"name":"Services","weight":1,"monitorList":[{"id":1,"name":"Web","type":"http"},{"id":2,"name":"DNS","type":"dns"}]},
			{"id":2,"name":"Other","weight":2,"monitorList":[{"id":3,"name":"New","type":"http"},{"id":1,"name":"Web","type":"http"}]}],
			"maintenanceList":[]}`))
	})
	mux.HandleFunc("GET /api/status-page/heartbeat/home", func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"heartbeatList":{"1":[{"status":0,"time":"2026-01-01 10:00:00","msg":"","ping":null},
			{"status":1,"time":"2026-01-01 10:01:00","msg":"200 - OK","ping":12}],"2":[{"status":0,"time":"2026-01-01 10:01:00","msg":"timeout"}]},
			"uptimeList":{"1_24":0.99,"2_24":0.5}}`))
	})
	mux.HandleFunc("GET /api/status-page/", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"ok":false,"msg":"Status Page Not Found"}`))
	})
	return httptest.NewServer(mux)
}

func TestMetrics(t *testing.T) {
	srv := fakeKuma(t)
	defer srv.Close()
	p := kuma.New(provider.NewClient())
	got := providertest.Block(t, p, provider.Settings{"kumaUrl": srv.URL, "kumaKey": apiKey}, 3*time.Second)
	providertest.Equal(t, "kuma list", got, []any{
		map[string]any{"name": "Backup", "status": "Pending"},
		map[string]any{"name": `DNS "main"`, "status": "Down"},
		map[string]any{"name": "NAS", "status": "Maintenance"},
		map[string]any{"name": "Web", "status": "Up"},
	})
	providertest.NoSecret(t, got, apiKey, base64.StdEncoding.EncodeToString([]byte(":"+apiKey)))

	noKey := provider.Settings{"kumaUrl": srv.URL + "/metrics"}
	providertest.Equal(t, "metrics without key", providertest.Block(t, p, noKey, 3*time.Second), provider.Unauthorized())
}

func TestStatusPage(t *testing.T) {
	srv := fakeKuma(t)
	defer srv.Close()
	p := kuma.New(provider.NewClient())
	got := providertest.Block(t, p, provider.Settings{"kumaUrl": srv.URL + "/status/home"}, 3*time.Second)
	providertest.Equal(t, "status page list", got, []any{
		map[string]any{"name": "DNS", "status": "Down"},
		map[string]any{"name": "New", "status": "Pending"},
		map[string]any{"name": "Web", "status": "Up"},
	})
	missing := provider.Settings{"kumaUrl": srv.URL + "/status/nope"}
	providertest.Equal(t, "unknown page", providertest.Block(t, p, missing, 3*time.Second), provider.Unauthorized())
}

func TestConventions(t *testing.T) {
	providertest.Conventions(t, kuma.New(provider.NewClient()), func(base string) provider.Settings {
		return provider.Settings{"kumaUrl": base, "kumaKey": apiKey}
	})
}
