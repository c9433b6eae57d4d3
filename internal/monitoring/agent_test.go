package monitoring_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/monitoring"
	"github.com/noba-go/noba/internal/server/servertest"
)

// TestAgentDispatchedCheck runs an endpoint check through a real noba-agent
// connected to the server (spec 20 §15.5 step 1).
func TestAgentDispatchedCheck(t *testing.T) {
	env := servertest.New(t)
	const key = "monitoring-agent-key-0123456789"
	if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": key}); err != nil {
		t.Fatal(err)
	}
	env.StartAgent(t, servertest.AgentSpec{Key: key, Host: "mon-agent"})

	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/broken") {
			http.Error(w, "broken", http.StatusBadGateway)
			return
		}
		io.WriteString(w, "ok")
	}))
	defer target.Close()
	ok := createMonitor(t, env, map[string]any{"name": "via-agent", "url": target.URL + "/", "agent_hostname": "mon-agent", "timeout": 5})
	res := checkNow(t, env, ok)
	if res.Status != monitoring.StatusUp || res.StatusCode != 200 {
		t.Fatalf("agent check: %+v", res)
	}
	bad := createMonitor(t, env, map[string]any{"name": "via-agent-broken", "url": target.URL + "/broken", "agent_hostname": "mon-agent", "timeout": 5})
	if res := checkNow(t, env, bad); res.Status != monitoring.StatusDown || res.StatusCode != 502 {
		t.Fatalf("agent check of a failing endpoint: %+v", res)
	}
	// The agent queued the command under the scheduler's name, in its history.
	st, b := env.Do(http.MethodGet, "/api/agents/command-history?hostname=mon-agent", env.Token("admin"), nil)
	var hist []map[string]any
	if st != http.StatusOK || jsonUnmarshalLoose(b, &hist) != nil {
		t.Fatalf("command history: %d %s", st, b)
	}
	n := 0
	for _, h := range hist {
		if h["cmd_type"] == "endpoint_check" && h["queued_by"] == "scheduler" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("command history has %d endpoint_check rows by the scheduler, want 2: %s", n, b)
	}
}
