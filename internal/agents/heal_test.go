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

// TestAgentHealing: an alert rule whose trust level is "execute" runs on
// the agent itself (policy from the report answer, condition on the
// agent's metrics, shell built-in for clear_cache); "notify" rules do not.
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
	waitFor(t, 30*time.Second, "heal action on the agent", func() bool {
		_, err := os.Stat(healed)
		return err == nil
	})
	time.Sleep(2 * time.Second)
	if _, err := os.Stat(notified); err == nil {
		t.Fatal("a notify-only rule ran on the agent")
	}
	if v := agentView(t, env, "e2e-heal"); v == nil || v["online"] != true {
		t.Fatalf("agent: %v", v)
	}
	_ = http.MethodGet
}
