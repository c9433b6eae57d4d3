package agents_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

func TestNetworkStatsInstallScriptAndSLA(t *testing.T) {
	env := newEnv(t)
	// network-stats: unknown host 404; a WebSocket agent answers at once.
	var out map[string]any
	if st := env.JSON(http.MethodPost, "/api/agents/nohost/network-stats", env.Token("operator"), nil, &out); st != 404 || out["error"] != "Agent 'nohost' not found or offline" {
		t.Fatalf("unknown host: %d %v", st, out)
	}
	startAgent(t, env.URL, "e2e-net")
	waitWS(t, env, "e2e-net")
	if st := env.JSON(http.MethodPost, "/api/agents/e2e-net/network-stats", env.Token("operator"), nil, &out); st != 200 || out["status"] != "ok" || out["cmd"] != "network_stats" {
		t.Fatalf("network-stats: %d %v", st, out)
	}
	if _, ok := out["interfaces"].([]any); !ok {
		t.Fatalf("network-stats without interfaces: %v", out)
	}

	// Install script: key required; localhost refused; values quoted.
	get := func(path string, hdr map[string]string) (int, string) {
		resp := env.Request(http.MethodGet, path, "", nil, hdr)
		defer resp.Body.Close()
		var b strings.Builder
		buf := make([]byte, 32<<10)
		for {
			n, err := resp.Body.Read(buf)
			b.Write(buf[:n])
			if err != nil {
				break
			}
		}
		return resp.StatusCode, b.String()
	}
	if st, body := get("/api/agent/install-script", nil); st != 401 || !strings.Contains(body, "Missing agent key") {
		t.Fatalf("no key: %d %s", st, body)
	}
	if st, body := get("/api/agent/install-script?key=nope", nil); st != 403 {
		t.Fatalf("wrong key: %d %s", st, body)
	}
	if st, body := get("/api/agent/install-script", map[string]string{"X-Agent-Key": testKey}); st != 400 || !strings.Contains(body, "localhost") {
		t.Fatalf("via localhost: %d %s", st, body)
	}
	// No trusted proxy is configured: a forwarded host is not believed
	// (TestForwardedHeadersOnlyFromTrustedProxies covers the proxied case).
	if st, body := get("/api/agent/install-script", map[string]string{"X-Agent-Key": testKey, "X-Forwarded-Host": "noba.lan:8080"}); st != 400 || !strings.Contains(body, "localhost") {
		t.Fatalf("forwarded host from an untrusted peer: %d %s", st, body)
	}

	// SLA summary lists known agents; hours is validated.
	var sla struct {
		PeriodHours int              `json:"period_hours"`
		SLA         []map[string]any `json:"sla"`
	}
	if st := env.JSON(http.MethodGet, "/api/sla/summary?hours=24", env.Token("viewer"), nil, &sla); st != 200 || sla.PeriodHours != 24 || len(sla.SLA) != 1 ||
		sla.SLA[0]["name"] != "e2e-net" || sla.SLA[0]["type"] != "agent" || sla.SLA[0]["uptime_pct"] != 100.0 {
		t.Fatalf("sla: %d %+v", st, sla)
	}
	if st, _ := env.Do(http.MethodGet, "/api/sla/summary?hours=abc", env.Token("viewer"), nil); st != 400 {
		t.Fatalf("sla bad hours: %d", st)
	}

	// Command history limit validation and detail 404.
	if st, _ := env.Do(http.MethodGet, "/api/agents/command-history?limit=x", env.Token("viewer"), nil); st != 400 {
		t.Fatalf("history bad limit: %d", st)
	}
	if st, b := env.Do(http.MethodGet, "/api/agents/nohost", env.Token("viewer"), nil); st != 404 || !strings.Contains(string(b), "Agent not found") {
		t.Fatalf("detail unknown: %d %s", st, b)
	}

	// A command queued for an offline host is handed out on its first
	// report, and a host's queue expires after 10 minutes (history: expired).
	st, out := sendCommand(t, env, "operator", "later-host", "ping", nil)
	if st != 200 || out["status"] != "queued" {
		t.Fatalf("queue for unknown host: %d %v", st, out)
	}
	resp := env.Request(http.MethodPost, "/api/agent/report", "", []byte(`{"hostname":"later-host","agent_version":"3.0.1"}`),
		map[string]string{"X-Agent-Key": testKey, "Content-Type": "application/json"})
	var rep wire.ReportResponse
	_ = json.NewDecoder(resp.Body).Decode(&rep)
	resp.Body.Close()
	if len(rep.Commands) != 1 || rep.Commands[0].ID != out["id"] || rep.Commands[0].Type != "ping" || rep.Commands[0].QueuedBy != "t-operator" {
		t.Fatalf("report answer: %+v", rep)
	}
	if rep.HealPolicy == nil || rep.HealPolicy["version"] == nil {
		t.Fatalf("heal policy missing: %+v", rep.HealPolicy)
	}
	_ = time.Second
}
