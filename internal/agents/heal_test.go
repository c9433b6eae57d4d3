package agents_test

import (
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// TestAgentHealing: the heal policy reaches the agent with the report
// answer, but a command written into an alert rule's step never runs on
// the agent (issue 11 §10: the established agent ran it with sh -c,
// outside the command risk matrix and the audit), whatever the trust level.
func TestAgentHealing(t *testing.T) {
	trust := map[string]string{"r-exec": "execute", "r-notify": "notify"}
	env := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithAgentOnlineWindow(3 * time.Second),
		server.WithAgentHealTrust(func(id string) string { return trust[id] })}})
	dir := nobaTemp(t)
	healed, notified := filepath.Join(dir, "healed"), filepath.Join(dir, "notified")
	rules := []any{
		map[string]any{"id": "r-exec", "condition": "cpu_count >= 1 AND mem_percent >= 0",
			"escalation_chain": []any{map[string]any{"action": "clear_cache", "params": map[string]any{"command": "touch " + healed}}}},
		map[string]any{"id": "r-notify", "condition": "cpu_count >= 1",
			"escalation_chain": []any{map[string]any{"action": "clear_cache", "params": map[string]any{"command": "touch " + notified}}}},
	}
	if _, err := env.Server.Settings.Update(map[string]any{"agentKeys": testKey, "alertRules": rules}); err != nil {
		t.Fatal(err)
	}
	startAgent(t, env.URL, "e2e-heal")
	waitFor(t, 30*time.Second, "agent online", func() bool {
		v := agentView(t, env, "e2e-heal")
		return v != nil && v["online"] == true
	})
	// Several report rounds (interval 1 s) with the policy in force.
	time.Sleep(8 * time.Second)
	if _, err := os.Stat(healed); err == nil {
		t.Fatal("the agent ran a command taken from an alert rule")
	}
	if _, err := os.Stat(notified); err == nil {
		t.Fatal("a notify-only rule ran on the agent")
	}
	if v := agentView(t, env, "e2e-heal"); v == nil || v["online"] != true {
		t.Fatalf("agent: %v", v)
	}
	_ = http.MethodGet
}
