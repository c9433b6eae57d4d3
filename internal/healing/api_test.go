package healing_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/healing"
	"github.com/noba-go/noba/internal/server/servertest"
)

func TestTrustRoutes(t *testing.T) {
	e := servertest.New(t)
	admin := e.Token("admin")
	var res map[string]any
	if c := e.JSON(http.MethodPost, "/api/healing/trust/prediction:disk/promote", admin, nil, &res); c != http.StatusNotFound ||
		res["error"] != "No trust state for rule: prediction:disk" {
		t.Fatalf("promote missing: %d %+v", c, res)
	}
	if c := e.JSON(http.MethodPut, "/api/healing/trust/prediction:disk", admin, map[string]any{"level": "bogus"}, &res); c != http.StatusBadRequest ||
		!strings.HasPrefix(res["error"].(string), "level and ceiling must be one of") {
		t.Fatalf("bad level: %d %+v", c, res)
	}
	if c := e.JSON(http.MethodPut, "/api/healing/trust/prediction:disk", admin, map[string]any{"level": "notify", "ceiling": "approve"}, &res); c != http.StatusOK ||
		res["level"] != "notify" || res["ceiling"] != "approve" {
		t.Fatalf("set: %d %+v", c, res)
	}
	if c := e.JSON(http.MethodPost, "/api/healing/trust/prediction:disk/promote", admin, map[string]any{"level": "execute"}, &res); c != http.StatusBadRequest {
		t.Fatalf("promote above ceiling: %d %+v", c, res)
	}
	if c := e.JSON(http.MethodPost, "/api/healing/trust/prediction:disk/promote", admin, nil, &res); c != http.StatusOK || res["new_level"] != "approve" {
		t.Fatalf("promote: %d %+v", c, res)
	}
	if c := e.JSON(http.MethodPost, "/api/healing/trust/prediction:disk/demote", admin, map[string]any{"level": "execute"}, &res); c != http.StatusBadRequest ||
		res["error"] != "level must be one of: observation, dry_run, notify, approve" {
		t.Fatalf("demote bad: %d %+v", c, res)
	}
	if c := e.JSON(http.MethodPost, "/api/healing/trust/prediction:disk/demote", admin, map[string]any{"level": "observation"}, &res); c != http.StatusOK {
		t.Fatalf("demote: %d %+v", c, res)
	}
	var rows []map[string]any
	e.JSON(http.MethodGet, "/api/healing/trust", e.Token("viewer"), nil, &rows)
	if len(rows) != 1 || rows[0]["current_level"] != "observation" || rows[0]["promotion_count"] != float64(1) || rows[0]["demotion_count"] != float64(1) {
		t.Fatalf("trust rows: %+v", rows)
	}
	if c := e.JSON(http.MethodPut, "/api/healing/trust/x", e.Token("operator"), map[string]any{"level": "notify"}, nil); c != http.StatusForbidden {
		t.Fatalf("operator set trust: %d", c)
	}
}

func TestMaintenanceAndValidationRoutes(t *testing.T) {
	e := servertest.New(t)
	op := e.Token("operator")
	var res map[string]any
	for body, want := range map[string]string{
		`{"target":"x"}`:                                     "target and duration are required",
		`{"target":"x","duration":"soon"}`:                   "duration must look like 30m, 2h30m, 90s or a number of seconds",
		`{"target":"x","duration":"30m","action":"explode"}`: "action must be one of: suppress, notify_only, queue",
	} {
		if c := e.JSON(http.MethodPost, "/api/healing/maintenance", op, body, &res); c != http.StatusBadRequest || res["error"] != want {
			t.Fatalf("%s: %d %+v", body, c, res)
		}
	}
	if c := e.JSON(http.MethodPost, "/api/healing/maintenance", op, map[string]any{"target": "all", "duration": "2h30m"}, &res); c != http.StatusOK || res["status"] != "created" {
		t.Fatalf("create: %d %+v", c, res)
	}
	id := res["id"]
	var ws []map[string]any
	e.JSON(http.MethodGet, "/api/healing/maintenance", e.Token("viewer"), nil, &ws)
	if len(ws) != 1 || ws[0]["duration_s"] != float64(9000) || ws[0]["action"] != "suppress" || ws[0]["created_by"] == "" {
		t.Fatalf("windows: %+v", ws)
	}
	// The dry run sees the window.
	var sim map[string]any
	e.JSON(http.MethodPost, "/api/healing/dry-run", op, map[string]any{"event": map[string]any{"rule_id": "svc_nginx", "target": "nginx"}}, &sim)
	if sim["suppressed"] != true || sim["suppression_reason"] != "Target in maintenance window" {
		t.Fatalf("dry-run in maintenance: %+v", sim)
	}
	if c := e.JSON(http.MethodDelete, "/api/healing/maintenance/999", op, nil, &res); c != http.StatusNotFound {
		t.Fatalf("end unknown: %d", c)
	}
	if c := e.JSON(http.MethodDelete, "/api/healing/maintenance/"+jsonNum(id), op, nil, &res); c != http.StatusOK || res["status"] != "ended" {
		t.Fatalf("end: %d %+v", c, res)
	}
	e.JSON(http.MethodPost, "/api/healing/dry-run", op, map[string]any{"rule_id": "svc_nginx", "target": "nginx"}, &sim)
	sel, _ := sim["would_select"].(map[string]any)
	if sim["suppressed"] != false || sim["trust_level"] != "notify" || sel["action"] != "service_reset_failed" ||
		sim["rollback_plan"] != "Irreversible — no rollback available" {
		t.Fatalf("dry-run: %+v", sim)
	}
	var v map[string]any
	e.JSON(http.MethodPost, "/api/healing/dependencies/validate", e.Token("viewer"), map[string]any{"config": []any{
		map[string]any{"target": "a", "node_type": "service", "depends_on": []any{"b"}},
		map[string]any{"target": "b", "node_type": "service", "depends_on": "[\"a\"]"},
	}}, &v)
	if v["valid"] != false || len(v["errors"].([]any)) != 1 || v["errors"].([]any)[0] != "Cycle detected in dependency graph." {
		t.Fatalf("validate cycle: %+v", v)
	}
	e.JSON(http.MethodPost, "/api/healing/dependencies/validate", e.Token("viewer"), map[string]any{"config": []any{
		map[string]any{"target": "a", "depends_on": []any{"network:site-z"}}, "x",
	}}, &v)
	errs := v["errors"].([]any)
	if len(errs) != 3 || errs[0] != "Node 'a' is missing the required 'node_type' field." ||
		errs[1] != "Node 'a' depends on 'site-z' which is not defined in this config." || errs[2] != "Each config entry must be an object." {
		t.Fatalf("validate errors: %+v", v)
	}
	if c := e.JSON(http.MethodGet, "/api/healing/ledger?limit=abc", e.Token("viewer"), nil, &res); c != http.StatusBadRequest {
		t.Fatalf("bad limit: %d", c)
	}
	if c := e.JSON(http.MethodPost, "/api/healing/rollback/5", e.Token("admin"), nil, &res); c != http.StatusNotFound ||
		res["error"] != "No snapshot found for ledger entry 5" {
		t.Fatalf("rollback: %d %+v", c, res)
	}
	if c := e.JSON(http.MethodGet, "/api/healing/capabilities/nohost", e.Token("viewer"), nil, &res); c != http.StatusNotFound {
		t.Fatalf("caps: %d", c)
	}
	if c := e.JSON(http.MethodPost, "/api/healing/capabilities/nohost/refresh", op, nil, &res); c != http.StatusNotFound ||
		res["error"] != "No known agent: nohost" {
		t.Fatalf("refresh: %d %+v", c, res)
	}
	if c := e.JSON(http.MethodPost, "/api/healing/suggestions/abc/dismiss", op, nil, &res); c != http.StatusBadRequest {
		t.Fatalf("dismiss bad id: %d", c)
	}
	var h map[string]any
	e.JSON(http.MethodGet, "/api/healing/health", e.Token("viewer"), nil, &h)
	if _, ok := h["degraded"].(bool); !ok {
		t.Fatalf("health: %+v", h)
	}
}

func jsonNum(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}

// Each chaos scenario in dry run yields the expected plan: the first step
// of the default chain of its synthetic event.
func TestChaosDryRunPlans(t *testing.T) {
	e := servertest.New(t)
	want := map[string]string{
		"container_crash_recovery": "restart_container", "dependency_cascade_suppression": "restart_container",
		"escalation_chain_walk": "service_reset_failed", "site_connectivity_isolation": "service_reset_failed",
		"heal_storm_circuit_breaker": "service_reset_failed", "stale_metrics_guard": "process_kill",
		"capability_mismatch": "restart_container", "maintenance_window_suppression": "service_reset_failed",
		"approval_timeout": "trigger_backup", "rollback_on_failure": "nice_adjust", "power_flicker_debounce": "service_reset_failed",
		"manual_fix_race": "service_reset_failed",
	}
	var list []map[string]any
	e.JSON(http.MethodGet, "/api/healing/chaos/scenarios", e.Token("viewer"), nil, &list)
	if len(list) != 12 {
		t.Fatalf("scenarios: %d", len(list))
	}
	for _, s := range list {
		name := s["name"].(string)
		var res map[string]any
		if c := e.JSON(http.MethodPost, "/api/healing/chaos/run", e.Token("admin"), map[string]any{"scenario": name, "dry_run": true}, &res); c != http.StatusOK {
			t.Fatalf("%s: %d", name, c)
		}
		plan, _ := res["plan"].(map[string]any)
		exps, _ := res["expectations"].([]any)
		if res["status"] != "dry_run_complete" || plan["action_type"] != want[name] || len(exps) == 0 ||
			exps[0].(map[string]any)["actual"] != "[dry-run: not executed]" {
			t.Fatalf("%s: %+v", name, res)
		}
	}
	var res map[string]any
	e.JSON(http.MethodPost, "/api/healing/chaos/run", e.Token("admin"), map[string]any{"scenario": "nope"}, &res)
	if res["status"] != "error" || res["message"] != "Scenario not found: nope" {
		t.Fatalf("unknown: %+v", res)
	}
	if c := e.JSON(http.MethodPost, "/api/healing/chaos/run", e.Token("operator"), map[string]any{"scenario": "nope"}, nil); c != http.StatusForbidden {
		t.Fatalf("operator chaos: %d", c)
	}
}

// The alerts room's Heal seam feeds the pipeline: a firing alert rule with
// an action becomes an alert heal event (trust notify writes a ledger row
// with the rule's condition and target), and a failed service seen by the
// built-in threshold alerts becomes a threshold event for that service.
func TestAlertsFeedPipelineThroughHealSeam(t *testing.T) {
	e := servertest.NewWith(t, servertest.Setup{Jobs: true})
	if _, err := e.Server.Settings.Update(map[string]any{"alertRules": []any{map[string]any{"id": "ctr_down", "condition": "cpuPercent > 95",
		"severity": "warning", "action": map[string]any{"type": "restart_container", "target": "ctr1"}}}}); err != nil {
		t.Fatal(err)
	}
	var rule, svc []map[string]any
	deadline := time.Now().Add(20 * time.Second)
	for len(rule) == 0 || len(svc) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no ledger rows from the alerts: rule %v, threshold %v", rule, svc)
		}
		e.Server.Bus.Publish(events.TopicStats, map[string]any{"cpuPercent": 99.0, "memPercent": 10.0, "timestamp": time.Now().Unix(),
			"services": []any{map[string]any{"name": "noba-test-svc", "status": "failed"}}})
		time.Sleep(200 * time.Millisecond)
		e.Server.Healing().Wait()
		e.JSON(http.MethodGet, "/api/healing/ledger?rule_id=ctr_down", e.Token("viewer"), nil, &rule)
		e.JSON(http.MethodGet, "/api/healing/ledger?rule_id=svc_noba-test-svc", e.Token("viewer"), nil, &svc)
	}
	if r := rule[0]; r["target"] != "ctr1" || r["action_type"] != "restart_container" || r["action_success"] != nil ||
		r["condition"] != "cpuPercent > 95" || r["source"] != "alert" {
		t.Fatalf("rule row: %+v", r)
	}
	if r := svc[0]; r["target"] != "noba-test-svc" || r["source"] != "threshold" || r["condition"] != "service_status == failed" ||
		r["action_type"] != "service_reset_failed" || r["action_success"] != nil {
		t.Fatalf("threshold row: %+v", r)
	}
}

// A resisting target walks its escalation chain (each step failing), and
// three unverified outcomes within the hour trip the circuit breaker,
// demoting the rule to notify.
func TestEscalationWalkTripsCircuitBreaker(t *testing.T) {
	e := servertest.New(t)
	room := e.Server.Healing()
	room.SetTimings(0.01, 0)
	if c := e.JSON(http.MethodPut, "/api/healing/trust/flaky", e.Token("admin"), map[string]any{"level": "execute"}, nil); c != http.StatusOK {
		t.Fatal(c)
	}
	// Deterministic failures: a loopback webhook (SSRF guard), an invalid
	// journal size, a recreate without its compose project; then a
	// high-risk step.
	ev := healing.Event{Source: "alert", RuleID: "flaky", Target: "svc-x", Condition: "x > 1", Severity: "warning",
		Chain: []healing.Step{{Action: "webhook", Params: map[string]any{"url": "http://127.0.0.1:1/hook"}},
			{Action: "journal_vacuum", Params: map[string]any{"max_size": "huge"}},
			{Action: "container_recreate", Params: map[string]any{"container": "ctr-x"}},
			{Action: "run", Params: map[string]any{"command": "systemctl restart svc-x"}}}}
	out, err := room.Process(context.Background(), ev)
	if err != nil || out.Stage != "execute" {
		t.Fatalf("process: %+v %v", out, err)
	}
	room.Wait()
	var rows []map[string]any
	e.JSON(http.MethodGet, "/api/healing/ledger?rule_id=flaky", e.Token("viewer"), nil, &rows)
	if len(rows) != 4 {
		t.Fatalf("ledger: %+v", rows)
	}
	// Newest first: the breaker tripped after the third failure, so the
	// fourth step is only notified.
	if r := rows[0]; r["escalation_step"] != float64(3) || r["action_success"] != nil || r["trust_level"] != "notify" {
		t.Fatalf("after breaker: %+v", r)
	}
	for i, r := range rows[1:] {
		if r["escalation_step"] != float64(2-i) || r["action_success"] != float64(0) || r["trust_level"] != "execute" {
			t.Fatalf("row %d: %+v", i, r)
		}
	}
	if !strings.Contains(rows[3]["verification_detail"].(string), "URL blocked by SSRF protection") ||
		!strings.Contains(rows[2]["verification_detail"].(string), "max_size") && !strings.Contains(rows[2]["verification_detail"].(string), "No capable handler") {
		t.Fatalf("details: %v / %v", rows[3]["verification_detail"], rows[2]["verification_detail"])
	}
	var trust []map[string]any
	e.JSON(http.MethodGet, "/api/healing/trust", e.Token("viewer"), nil, &trust)
	if trust[0]["current_level"] != "notify" || trust[0]["demotion_count"] != float64(1) {
		t.Fatalf("breaker: %+v", trust)
	}
	var h map[string]any
	e.JSON(http.MethodGet, "/api/healing/health", e.Token("viewer"), nil, &h)
	if oc, _ := h["outcomes"].(map[string]any); oc["circuit_breaker"] != float64(1) || oc["unverified"] != float64(3) || h["active_heals"] != float64(0) {
		t.Fatalf("health: %+v", h)
	}
}

// The hourly learning cycle finds targets that fail together and suggests
// a dependency; a dismissed suggestion stays dismissed when it recurs.
func TestLearningSuggestsCoFailureAndDismissSticks(t *testing.T) {
	e := servertest.New(t)
	room := e.Server.Healing()
	room.SetTimings(0.01, 0)
	ctx := context.Background()
	for range 3 {
		for _, tgt := range []string{"nas", "plex"} {
			if _, err := room.Process(ctx, healing.Event{Source: "alert", RuleID: "down_" + tgt, Target: tgt, Condition: "up == 0",
				Chain: []healing.Step{{Action: "restart_container"}}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := room.Learn(ctx); err != nil {
		t.Fatal(err)
	}
	var sg []map[string]any
	e.JSON(http.MethodGet, "/api/healing/suggestions", e.Token("viewer"), nil, &sg)
	if len(sg) != 1 || sg[0]["category"] != "dependency_candidate" ||
		sg[0]["message"] != "'nas' and 'plex' co-fail 100.0% of the time (3 occurrences within 2-minute window). Consider adding a dependency relationship." {
		t.Fatalf("suggestions: %+v", sg)
	}
	if c := e.JSON(http.MethodPost, "/api/healing/suggestions/"+jsonNum(sg[0]["id"])+"/dismiss", e.Token("operator"), nil, nil); c != http.StatusOK {
		t.Fatal(c)
	}
	if err := room.Learn(ctx); err != nil {
		t.Fatal(err)
	}
	e.JSON(http.MethodGet, "/api/healing/suggestions", e.Token("viewer"), nil, &sg)
	if len(sg) != 0 {
		t.Fatalf("dismissed suggestion came back: %+v", sg)
	}
}
