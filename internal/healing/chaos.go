package healing

import (
	"context"
	"fmt"

	"github.com/noba-go/noba/internal/authz"
)

// Scenario is a built-in chaos scenario (§6.18).
type Scenario struct {
	Name         string         `json:"name"`
	Description  string         `json:"description"`
	Inject       map[string]any `json:"inject"`
	expectations [][2]any
	event        Event
}

func inj(action, target string, extra ...any) map[string]any {
	m := map[string]any{"action": action, "target": target}
	for i := 0; i+1 < len(extra); i += 2 {
		m[extra[i].(string)] = extra[i+1]
	}
	return m
}

func ev(rule, target, cond string) Event {
	return Event{Source: "chaos", RuleID: rule, Target: target, Condition: cond, Severity: "warning", Metrics: map[string]any{}}
}

// Scenarios are the 12 built-ins; each carries the synthetic event its
// injection raises, whose plan a dry run shows.
func Scenarios() []Scenario {
	return []Scenario{
		{"container_crash_recovery", "Stop a container, verify auto-restart and verification", inj("stop_container", "test-container"),
			[][2]any{{"heal_triggered", true}, {"action_taken", "restart_container"}, {"verified", true}},
			ev("container_down:test-container", "test-container", "container_running == 0")},
		{"dependency_cascade_suppression", "Stop upstream dependency, verify downstream healing suppressed", inj("stop_container", "upstream-dep"),
			[][2]any{{"heal_triggered_for", "upstream-dep"}, {"downstream_suppressed", true}, {"root_cause_identified", "upstream-dep"}},
			ev("container_down:upstream-dep", "upstream-dep", "container_running == 0")},
		{"escalation_chain_walk", "Service resists healing, walks full escalation chain", inj("corrupt_service", "test-service"),
			[][2]any{{"escalation_steps", 3}, {"final_action", "approval_requested"}}, ev("svc_test-service", "test-service", "service_status == failed")},
		{"site_connectivity_isolation", "Block site connectivity, verify no false heals", inj("block_site", "site-a"),
			[][2]any{{"site_suspect", true}, {"heals_at_site", 0}}, ev("svc_site-a-service", "site-a-service", "service_status == failed")},
		{"heal_storm_circuit_breaker", "Rapid repeated failures trigger circuit breaker", inj("flap_service", "test-service", "cycles", 10),
			[][2]any{{"circuit_breaker_tripped", true}, {"trust_demoted", true}}, ev("svc_test-service", "test-service", "service_status == failed")},
		{"stale_metrics_guard", "Stale collector data blocks healing", inj("pause_collector", "collector", "duration", 120),
			[][2]any{{"heals_triggered", 0}, {"staleness_detected", true}}, ev("cpu_crit", "system", "cpu_percent > 90")},
		{"capability_mismatch", "Missing capability aborts action gracefully", inj("remove_capability", "docker"),
			[][2]any{{"preflight_failed", true}, {"action_aborted", true}}, ev("container_down:test-container", "test-container", "container_running == 0")},
		{"maintenance_window_suppression", "Healing suppressed during maintenance window", inj("enter_maintenance", "all"),
			[][2]any{{"heals_suppressed", true}}, ev("svc_test-service", "test-service", "service_status == failed")},
		{"approval_timeout", "High-risk action with no approval auto-denies", inj("trigger_high_risk", "test-host"),
			[][2]any{{"approval_requested", true}, {"auto_denied", true}}, ev("backup_stale", "test-host", "backup_age_h > 48")},
		{"rollback_on_failure", "Failed verification triggers rollback for reversible action", inj("scale_and_fail", "test-app"),
			[][2]any{{"rollback_triggered", true}, {"state_restored", true}}, ev("cpu_high:test-app", "test-app", "cpu_percent > 80")},
		{"power_flicker_debounce", "Rapid connectivity flaps don't cause heal storm", inj("flap_connectivity", "site-a", "cycles", 5),
			[][2]any{{"site_suspect", true}, {"heals_at_site", 0}}, ev("svc_site-a-service", "site-a-service", "service_status == failed")},
		{"manual_fix_race", "Operator fixes manually while auto-heal in progress", inj("trigger_and_fix", "test-service"),
			[][2]any{{"resolved_externally", true}, {"no_duplicate_action", true}}, ev("svc_test-service", "test-service", "service_status == failed")},
	}
}

// RunChaos runs a scenario: the reference shape plus the plan the
// scenario's synthetic event would get; a live run (dry false) runs it in
// an isolated pipeline (runLive) and stores the result.
func (r *Room) RunChaos(ctx context.Context, name string, dry bool) map[string]any {
	var sc *Scenario
	for _, s := range Scenarios() {
		if s.Name == name {
			sc = &s
		}
	}
	if sc == nil {
		return map[string]any{"name": name, "status": "error", "message": "Scenario not found: " + name}
	}
	start := r.now()
	out := map[string]any{"name": sc.Name, "description": sc.Description, "dry_run": dry, "started_at": float64(start.UnixMilli()) / 1000,
		"inject": sc.Inject}
	exps := make([]map[string]any, 0, len(sc.expectations))
	for _, e := range sc.expectations {
		exps = append(exps, map[string]any{"check": e[0], "expected": e[1], "actual": "[dry-run: not executed]", "passed": nil})
	}
	out["expectations"] = exps
	e := sc.event
	e.Chain = DefaultChain(e.RuleID)
	sim := r.Simulate(ctx, e)
	out["plan"] = sim["would_select"]
	out["simulation"] = sim
	if dry {
		out["status"] = "dry_run_complete"
	} else {
		r.runLive(ctx, sc, out)
	}
	end := r.now()
	out["completed_at"] = float64(end.UnixMilli()) / 1000
	out["duration_s"] = round(end.Sub(start).Seconds(), 3)
	if !dry {
		// The run is stored (so it is not lost) and audited once; nothing
		// the isolated pipeline did is.
		by := ""
		if p, ok := authz.From(ctx); ok {
			by = p.Username
		}
		st, _ := out["status"].(string)
		if id, err := r.d.Store.InsertChaosRun(context.WithoutCancel(ctx), sc.Name, st, by, out, start.Unix(), out["duration_s"].(float64)); err != nil {
			r.d.Log.Warn("chaos run store", "err", err)
		} else {
			out["run_id"] = id
		}
		r.audit(ctx, "chaos_run", fmt.Sprintf("Live chaos run %s: %s", sc.Name, st))
	}
	return out
}
