package healing_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

// liveWant is, per scenario, each check's expected passed in a live run:
// every check of every scenario passes because the pipeline does what the
// check observes (a false entry would be a check failing honestly).
var liveWant = map[string]map[string]bool{
	"container_crash_recovery":       {"heal_triggered": true, "action_taken": true, "verified": true},
	"dependency_cascade_suppression": {"heal_triggered_for": true, "downstream_suppressed": true, "root_cause_identified": true},
	"escalation_chain_walk":          {"escalation_steps": true, "final_action": true},
	"site_connectivity_isolation":    {"site_suspect": true, "heals_at_site": true},
	"heal_storm_circuit_breaker":     {"circuit_breaker_tripped": true, "trust_demoted": true},
	"stale_metrics_guard":            {"heals_triggered": true, "staleness_detected": true},
	"capability_mismatch":            {"preflight_failed": true, "action_aborted": true},
	"maintenance_window_suppression": {"heals_suppressed": true},
	"approval_timeout":               {"approval_requested": true, "auto_denied": true},
	"rollback_on_failure":            {"rollback_triggered": true, "state_restored": true},
	"power_flicker_debounce":         {"site_suspect": true, "heals_at_site": true},
	"manual_fix_race":                {"resolved_externally": true, "no_duplicate_action": true},
}

// Every scenario run live returns per-expectation actual values observed in
// the isolated pipeline; the real ledger, trust and audit see only the run
// (one audit entry each), and each run is stored.
func TestChaosLiveRuns(t *testing.T) {
	e := servertest.New(t)
	admin := e.Token("admin")
	var list []map[string]any
	e.JSON(http.MethodGet, "/api/healing/chaos/scenarios", e.Token("viewer"), nil, &list)
	if len(list) != 12 {
		t.Fatalf("scenarios: %d", len(list))
	}
	for _, s := range list {
		name := s["name"].(string)
		var res map[string]any
		if c := e.JSON(http.MethodPost, "/api/healing/chaos/run", admin, map[string]any{"scenario": name, "dry_run": false}, &res); c != http.StatusOK {
			t.Fatalf("%s: %d", name, c)
		}
		want := liveWant[name]
		exps, _ := res["expectations"].([]any)
		if len(exps) != len(want) || res["dry_run"] != false || res["inject_result"] == nil {
			t.Fatalf("%s: %+v", name, res)
		}
		all := true
		for _, x := range exps {
			m := x.(map[string]any)
			check := m["check"].(string)
			if m["passed"] != want[check] {
				t.Errorf("%s %s: %+v", name, check, m)
			}
			if m["actual"] == nil || m["actual"] == "[dry-run: not executed]" {
				t.Errorf("%s %s actual: %+v", name, check, m)
			}
			all = all && want[check]
		}
		if st := map[bool]string{true: "passed", false: "failed"}[all]; res["status"] != st {
			t.Errorf("%s status %v, want %s", name, res["status"], st)
		}
		if id, _ := res["run_id"].(float64); id <= 0 {
			t.Errorf("%s: no stored run: %+v", name, res["run_id"])
		}
	}
	var ledger, trust []any
	e.JSON(http.MethodGet, "/api/healing/ledger", e.Token("viewer"), nil, &ledger)
	e.JSON(http.MethodGet, "/api/healing/trust", e.Token("viewer"), nil, &trust)
	if len(ledger) != 0 || len(trust) != 0 {
		t.Fatalf("real ledger/trust touched: %v %v", ledger, trust)
	}
	runs, err := e.Server.Healing().ChaosRuns(context.Background(), 100)
	if err != nil || len(runs) != 12 {
		t.Fatalf("stored runs: %d %v", len(runs), err)
	}
	if r0, _ := runs[0]["result"].(map[string]any); r0["expectations"] == nil || runs[0]["run_by"] != "admin" {
		t.Fatalf("stored run: %+v", runs[0])
	}
	var audit any
	e.JSON(http.MethodGet, "/api/audit?limit=500", admin, nil, &audit)
	b, _ := json.Marshal(audit)
	if n := strings.Count(string(b), `"chaos_run"`); n != 12 {
		t.Fatalf("audit chaos_run entries: %d", n)
	}
}

// Two live runs at once: the second waits for the first; both complete.
func TestChaosLiveConcurrent(t *testing.T) {
	e := servertest.New(t)
	admin := e.Token("admin")
	var wg sync.WaitGroup
	st := make([]any, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var res map[string]any
			e.JSON(http.MethodPost, "/api/healing/chaos/run", admin, map[string]any{"scenario": "container_crash_recovery", "dry_run": false}, &res)
			st[i] = res["status"]
		}()
	}
	wg.Wait()
	if st[0] != "passed" || st[1] != "passed" {
		t.Fatalf("concurrent: %v", st)
	}
}

// A live run reaches no real agent: with a real agent connected, its
// service manager sees no call and the command history names none of the
// scenarios' targets.
func TestChaosLiveReachesNoAgent(t *testing.T) {
	v := startAgent(t)
	admin := v.e.Token("admin")
	for _, name := range []string{"container_crash_recovery", "escalation_chain_walk", "manual_fix_race", "heal_storm_circuit_breaker"} {
		var res map[string]any
		if c := v.e.JSON(http.MethodPost, "/api/healing/chaos/run", admin, map[string]any{"scenario": name, "dry_run": false}, &res); c != http.StatusOK ||
			(res["status"] != "passed" && res["status"] != "failed") {
			t.Fatalf("%s: %d %+v", name, c, res)
		}
	}
	if b, err := os.ReadFile(filepath.Join(v.state, "calls.log")); err == nil && len(b) > 0 {
		t.Fatalf("real agent's systemctl called: %s", b)
	}
	var hist any
	v.e.JSON(http.MethodGet, "/api/agents/command-history", admin, nil, &hist)
	b, _ := json.Marshal(hist)
	for _, s := range []string{"test-service", "test-container", "container_control", "check_service"} {
		if strings.Contains(string(b), s) {
			t.Fatalf("real agent saw %s: %s", s, b)
		}
	}
	var ledger []any
	v.e.JSON(http.MethodGet, "/api/healing/ledger", v.e.Token("viewer"), nil, &ledger)
	if len(ledger) != 0 {
		t.Fatalf("real ledger: %v", ledger)
	}
}
