package healing_test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/healing"
	"github.com/noba-go/noba/internal/server/servertest"
)

// fakeSystemctl is a test-controlled service manager the agent finds on
// its PATH: state files hold active/inactive; restarts take 1 s.
const fakeSystemctl = `#!/bin/sh
S="%s"
echo "$@" >> "$S/calls.log"
case "$1" in
  restart|start) sleep 1; echo active > "$S/$2"; exit 0 ;;
  stop) echo inactive > "$S/$2"; exit 0 ;;
  reset-failed) exit 0 ;;
  status|is-active) if [ "$(cat "$S/$2" 2>/dev/null)" = active ]; then echo "active (running)"; exit 0; fi; echo inactive; exit 3 ;;
esac
exit 0
`

type env struct {
	e     *servertest.Env
	state string
	room  *healing.Room
}

func startAgent(t *testing.T) env {
	t.Helper()
	dir := t.TempDir()
	fake, state := filepath.Join(dir, "fakebin"), filepath.Join(dir, "state")
	for _, d := range []string{fake, state} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(fake, "systemctl"), []byte(fmt.Sprintf(fakeSystemctl, state)), 0o755); err != nil {
		t.Fatal(err)
	}
	e := servertest.New(t)
	const key = "healing-agent-key-0123456789abcdef"
	if _, err := e.Server.Settings.Update(map[string]any{"agentKeys": key, "serviceDependencies": "app-svc>db-svc"}); err != nil {
		t.Fatal(err)
	}
	e.StartAgent(t, servertest.AgentSpec{Key: key, Host: "heal-agent", Env: []string{"PATH=" + fake + ":" + os.Getenv("PATH")}})
	waitFor(t, "capability manifest", func() bool {
		return e.JSON(http.MethodGet, "/api/healing/capabilities/heal-agent", e.Token("viewer"), nil, nil) == http.StatusOK
	})
	room := e.Server.Healing()
	room.SetTimings(0.01, 0)
	t.Cleanup(room.Wait)
	return env{e: e, state: state, room: room}
}

func (v env) svc(t *testing.T, name string) string {
	b, _ := os.ReadFile(filepath.Join(v.state, name))
	return strings.TrimSpace(string(b))
}

func (v env) stop(t *testing.T, name string) {
	if err := os.WriteFile(filepath.Join(v.state, name), []byte("inactive\n"), 0o644); err != nil {
		t.Fatal(err)
	}
}

func (v env) ledger(t *testing.T, q string) []map[string]any {
	var rows []map[string]any
	if c := v.e.JSON(http.MethodGet, "/api/healing/ledger?"+q, v.e.Token("viewer"), nil, &rows); c != http.StatusOK {
		t.Fatalf("ledger: %d", c)
	}
	return rows
}

func (v env) setTrust(t *testing.T, rule, level string) {
	if c := v.e.JSON(http.MethodPut, "/api/healing/trust/"+rule, v.e.Token("admin"), map[string]any{"level": level, "ceiling": "execute"}, nil); c != http.StatusOK {
		t.Fatalf("set trust %s: %d", level, c)
	}
}

// serviceEvent is the event the alerts room sends for a firing rule with a
// restart_service action on an agent.
func serviceEvent(rule, svc string) map[string]any {
	return map[string]any{"source": "alert", "rule_id": rule, "condition": "service_status == failed", "target": svc,
		"severity": "warning", "timestamp": float64(time.Now().Unix()), "metrics": map[string]any{},
		"action":           map[string]any{"type": "restart_service", "target": svc, "hostname": "heal-agent"},
		"escalation_chain": []any{map[string]any{"action": "restart_service", "params": map[string]any{}}}}
}

func waitFor(t *testing.T, what string, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// A stopped service's alert goes notify -> approve -> execute as its
// trust is raised; the restart runs on the agent, verification asks the
// agent, and the ledger records each outcome.
func TestHealThroughTrustLevelsOnRealAgent(t *testing.T) {
	v := startAgent(t)
	ctx := context.Background()
	v.stop(t, "web-svc")

	// notify (no trust row): a ledger row, nothing executed.
	v.room.HandleAlertEvent(ctx, serviceEvent("web_down", "web-svc"))
	v.room.Wait()
	rows := v.ledger(t, "rule_id=web_down")
	if len(rows) != 1 || rows[0]["action_success"] != nil || rows[0]["trust_level"] != "notify" || rows[0]["action_type"] != "restart_service" {
		t.Fatalf("notify row: %+v", rows)
	}
	if v.svc(t, "web-svc") != "inactive" {
		t.Fatal("notify executed the action")
	}

	// approve: an approval, decided by an operator, runs and verifies.
	v.setTrust(t, "web_down", "approve")
	out, err := v.room.Process(ctx, healing.EventFrom(serviceEvent("web_down", "web-svc")))
	if err != nil || out.Stage != "approve" || out.ApprovalID == 0 {
		t.Fatalf("approve: %+v %v", out, err)
	}
	if v.svc(t, "web-svc") != "inactive" {
		t.Fatal("approve executed before the decision")
	}
	if c := v.e.JSON(http.MethodPost, fmt.Sprintf("/api/approvals/%d/decide", out.ApprovalID), v.e.Token("operator"),
		map[string]any{"decision": "approved"}, nil); c != http.StatusOK {
		t.Fatalf("decide: %d", c)
	}
	waitFor(t, "approved heal in the ledger", func() bool {
		rows = v.ledger(t, "rule_id=web_down")
		return len(rows) == 3
	})
	if r := rows[0]; r["action_success"] != float64(1) || r["verified"] != float64(1) || r["trust_level"] != "approve" {
		t.Fatalf("approved row: %+v", r)
	}
	if rows[1]["approval_id"] != float64(out.ApprovalID) {
		t.Fatalf("approval row: %+v", rows[1])
	}
	if v.svc(t, "web-svc") != "active" {
		t.Fatal("service not restarted by the approved heal")
	}

	// execute: straight to the agent.
	v.stop(t, "web-svc")
	v.setTrust(t, "web_down", "execute")
	v.room.HandleAlertEvent(ctx, serviceEvent("web_down", "web-svc"))
	v.room.Wait()
	rows = v.ledger(t, "rule_id=web_down")
	if len(rows) != 4 || rows[0]["verified"] != float64(1) || rows[0]["trust_level"] != "execute" ||
		!strings.Contains(fmt.Sprint(rows[0]["verification_detail"]), "active on heal-agent") {
		t.Fatalf("execute row: %+v", rows[0])
	}
	if v.svc(t, "web-svc") != "active" {
		t.Fatal("service not restarted")
	}
	var eff map[string]any
	v.e.JSON(http.MethodGet, "/api/healing/effectiveness", v.e.Token("viewer"), nil, &eff)
	if eff["total"] != float64(4) || eff["verified_count"] != float64(2) || eff["pending_count"] != float64(2) {
		t.Fatalf("effectiveness: %+v", eff)
	}
}

// A reversible action whose verification fails is rolled back to its
// snapshot (the process's niceness is restored on the agent).
func TestFailedVerificationRollsBackOnRealAgent(t *testing.T) {
	v := startAgent(t)
	ctx := context.Background()
	proc := exec.Command("sleep", "300")
	if err := proc.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = proc.Process.Kill(); _ = proc.Wait() })
	nice := func() string {
		b, _ := exec.Command("ps", "-o", "ni=", "-p", fmt.Sprint(proc.Process.Pid)).Output()
		return strings.TrimSpace(string(b))
	}
	before := nice()
	v.setTrust(t, "hog", "execute")
	out, err := v.room.Process(ctx, healing.Event{Source: "alert", RuleID: "hog", Target: "heal-agent", Hostname: "heal-agent",
		Condition: "proc_hog_score > 5", Severity: "warning",
		Chain: []healing.Step{{Action: "nice_adjust", Params: map[string]any{"pid": proc.Process.Pid, "priority": 15}}}})
	if err != nil || out.Stage != "execute" {
		t.Fatalf("process: %+v %v", out, err)
	}
	v.room.Wait()
	rows := v.ledger(t, "rule_id=hog")
	if len(rows) != 1 {
		t.Fatalf("rows: %+v", rows)
	}
	r := rows[0]
	if r["action_success"] != float64(1) || r["verified"] != float64(0) || r["verification_detail"] != "unverifiable" ||
		r["rollback_status"] != "rolled_back" || r["snapshot_id"] == nil {
		t.Fatalf("row: %+v", r)
	}
	if got := nice(); got != before {
		t.Fatalf("niceness %q, want restored %q", got, before)
	}
	// A manual rollback of the same row runs the reverse again.
	var res map[string]any
	if c := v.e.JSON(http.MethodPost, fmt.Sprintf("/api/healing/rollback/%v", r["id"]), v.e.Token("admin"), nil, &res); c != http.StatusOK || res["success"] != true {
		t.Fatalf("rollback: %d %+v", c, res)
	}
}

// While the root cause (db-svc) is being healed, the alert of app-svc,
// which depends on it, is suppressed; a queue maintenance window holds
// execution until it ends.
func TestSuppressionAndMaintenanceOnRealAgent(t *testing.T) {
	v := startAgent(t)
	ctx := context.Background()
	for _, s := range []string{"db-svc", "app-svc", "cache-svc"} {
		v.stop(t, s)
	}
	v.setTrust(t, "db_down", "execute")
	v.setTrust(t, "app_down", "execute")
	out, err := v.room.Process(ctx, healing.EventFrom(serviceEvent("db_down", "db-svc")))
	if err != nil || out.Stage != "execute" {
		t.Fatalf("root: %+v %v", out, err)
	}
	dep, err := v.room.Process(ctx, healing.EventFrom(serviceEvent("app_down", "app-svc")))
	if err != nil || dep.Stage != "suppressed" || dep.Detail != "Downstream of root cause: db-svc" {
		t.Fatalf("dependent: %+v %v", dep, err)
	}
	v.room.Wait()
	if v.svc(t, "db-svc") != "active" || v.svc(t, "app-svc") != "inactive" {
		t.Fatalf("db-svc %s app-svc %s", v.svc(t, "db-svc"), v.svc(t, "app-svc"))
	}
	rows := v.ledger(t, "rule_id=app_down")
	if len(rows) != 1 || rows[0]["action_type"] != "suppressed" || rows[0]["dependency_root"] != "db-svc" {
		t.Fatalf("suppressed row: %+v", rows)
	}

	// Maintenance (queue) holds the heal; ending the window releases it.
	v.setTrust(t, "cache_down", "execute")
	var w map[string]any
	if c := v.e.JSON(http.MethodPost, "/api/healing/maintenance", v.e.Token("operator"),
		map[string]any{"target": "cache-svc", "duration": "10m", "action": "queue", "reason": "upgrade"}, &w); c != http.StatusOK {
		t.Fatalf("window: %d", c)
	}
	held, err := v.room.Process(ctx, healing.EventFrom(serviceEvent("cache_down", "cache-svc")))
	if err != nil || held.Stage != "held" {
		t.Fatalf("held: %+v %v", held, err)
	}
	time.Sleep(1500 * time.Millisecond)
	if v.svc(t, "cache-svc") != "inactive" || len(v.ledger(t, "rule_id=cache_down")) != 0 {
		t.Fatal("maintenance window did not hold the heal")
	}
	if c := v.e.JSON(http.MethodDelete, fmt.Sprintf("/api/healing/maintenance/%v", w["id"]), v.e.Token("operator"), nil, nil); c != http.StatusOK {
		t.Fatalf("end window: %d", c)
	}
	waitFor(t, "released heal", func() bool {
		rows := v.ledger(t, "rule_id=cache_down")
		return len(rows) == 1 && rows[0]["verified"] == float64(1)
	})
	if v.svc(t, "cache-svc") != "active" {
		t.Fatal("released heal did not restart the service")
	}
}
