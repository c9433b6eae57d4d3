package automations_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

// graphWorkflow: a condition (false: no such metric) leads to a parallel
// node whose two branches (a script action and a notification) join at
// an approval gate; approved, a last script runs.
func graphWorkflow(schedule string) map[string]any {
	return map[string]any{"name": "graph", "type": "workflow", "schedule": schedule, "config": map[string]any{
		"entry": "c1",
		"nodes": []any{
			map[string]any{"id": "c1", "type": "condition", "expression": "no_such_metric > 5", "true_next": "wrong", "false_next": "p1"},
			map[string]any{"id": "wrong", "type": "notification", "message": "wrong branch"},
			map[string]any{"id": "p1", "type": "parallel", "branches": []any{"a", "b"}, "join": "g1"},
			map[string]any{"id": "a", "type": "action", "config": map[string]any{"type": "script", "config": map[string]any{"command": "echo branch-a"}}},
			map[string]any{"id": "b", "type": "notification", "message": "branch b"},
			map[string]any{"id": "g1", "type": "approval_gate"},
			map[string]any{"id": "last", "type": "action", "config": map[string]any{"type": "script", "config": map[string]any{"command": "echo after-approval"}}},
		},
		"edges": []any{map[string]any{"from": "g1", "to": "last", "port": "approved"}},
	}}
}

type traceNode struct {
	NodeID  string `json:"node_id"`
	Outcome string `json:"outcome"`
}

type traceOut struct {
	Workflow   string `json:"workflow"`
	Executions []struct {
		RunID  int64       `json:"run_id"`
		Status string      `json:"status"`
		Nodes  []traceNode `json:"nodes"`
		Steps  []struct {
			ID     int64  `json:"id"`
			Status string `json:"status"`
		} `json:"steps"`
	} `json:"executions"`
}

func outcomes(nodes []traceNode) map[string][]string {
	m := map[string][]string{}
	for _, n := range nodes {
		m[n.NodeID] = append(m[n.NodeID], n.Outcome)
	}
	return m
}

func pendingApproval(t *testing.T, e *servertest.Env, runID int64) int64 {
	t.Helper()
	var list []struct {
		ID          int64   `json:"id"`
		RunID       *int64  `json:"run_id"`
		RequestedBy *string `json:"requested_by"`
		Status      string  `json:"status"`
	}
	if st := e.JSON(http.MethodGet, "/api/approvals", e.Token("viewer"), nil, &list); st != http.StatusOK {
		t.Fatalf("approvals: %d", st)
	}
	for _, a := range list {
		if a.RunID != nil && *a.RunID == runID && a.Status == "pending" {
			return a.ID
		}
	}
	t.Fatalf("no pending approval for run %d in %+v", runID, list)
	return 0
}

func checkTrace(t *testing.T, e *servertest.Env, autoID string, runID int64) {
	t.Helper()
	var tr traceOut
	if st := e.JSON(http.MethodGet, "/api/automations/"+autoID+"/trace", e.Token("viewer"), nil, &tr); st != http.StatusOK {
		t.Fatalf("trace: %d", st)
	}
	for _, ex := range tr.Executions {
		if ex.RunID != runID {
			continue
		}
		got := outcomes(ex.Nodes)
		want := map[string]string{"c1": "false", "p1": "joined", "a": "done", "b": "sent", "last": "done"}
		for n, o := range want {
			if len(got[n]) == 0 || got[n][len(got[n])-1] != o {
				t.Fatalf("node %s: outcomes %v, want %s (trace %+v)", n, got[n], o, ex.Nodes)
			}
		}
		if len(got["wrong"]) != 0 {
			t.Fatalf("the true branch ran: %+v", ex.Nodes)
		}
		if g := got["g1"]; len(g) != 2 || g[0] != "waiting" || g[1] != "approved" {
			t.Fatalf("gate outcomes %v", g)
		}
		if len(ex.Steps) != 2 || ex.Status != "done" {
			t.Fatalf("execution %+v", ex)
		}
		return
	}
	t.Fatalf("run %d not in trace %+v", runID, tr)
}

// A graph workflow with a condition, a parallel branch and an approval
// gate runs from the cron scheduler and from a signed webhook, stops at
// the gate (run pending_approval), resumes on approval and is traced.
func TestGraphWorkflowFromCronAndWebhook(t *testing.T) {
	e := servertest.New(t)
	admin := e.Token("admin")
	id := create(t, e, "admin", graphWorkflow("* * * * *"))

	// Cron: one scheduler tick.
	if err := e.Server.Automations().Tick(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	var runs []run
	e.JSON(http.MethodGet, "/api/runs?trigger_prefix=workflow:"+id+":graph", admin, nil, &runs)
	if len(runs) != 1 || runs[0].TriggeredBy != "scheduler" {
		t.Fatalf("scheduled runs %+v", runs)
	}
	cronRun := waitRun(t, e, runs[0].ID, status("pending_approval"))
	// The action after the gate has not run.
	var after []run
	e.JSON(http.MethodGet, "/api/runs?trigger_prefix=workflow:"+id+":node:last", admin, nil, &after)
	if len(after) != 0 {
		t.Fatalf("the node after the gate ran before approval: %+v", after)
	}
	ap := pendingApproval(t, e, cronRun.ID)
	// An operator may decide a scheduler's request.
	if st, b := e.Do(http.MethodPost, fmt.Sprintf("/api/approvals/%d/decide", ap), e.Token("operator"),
		map[string]string{"decision": "approved"}); st != http.StatusOK {
		t.Fatalf("decide: %d %s", st, b)
	}
	waitRun(t, e, cronRun.ID, status("done"))
	checkTrace(t, e, id, cronRun.ID)

	// Signed webhook.
	var hook struct {
		HookID string `json:"hook_id"`
		Secret string `json:"secret"`
	}
	if st := e.JSON(http.MethodPost, "/api/webhooks", admin, map[string]any{"name": "ci", "automation_id": id}, &hook); st != http.StatusOK {
		t.Fatalf("create webhook: %d", st)
	}
	body := []byte(`{"event":"push"}`)
	mac := hmac.New(sha256.New, []byte(hook.Secret))
	mac.Write(body)
	resp := e.Request(http.MethodPost, "/api/webhooks/receive/"+hook.HookID, "", body,
		map[string]string{"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))})
	var got struct {
		Status     string `json:"status"`
		Automation string `json:"automation"`
		RunID      int64  `json:"run_id"`
		Graph      bool   `json:"graph"`
	}
	decode(t, resp, &got)
	if resp.StatusCode != http.StatusOK || got.Automation != "graph" || !got.Graph || got.RunID == 0 {
		t.Fatalf("receive: %d %+v", resp.StatusCode, got)
	}
	hookRun := waitRun(t, e, got.RunID, status("pending_approval"))
	if hookRun.TriggeredBy != "webhook" {
		t.Fatalf("webhook run %+v", hookRun)
	}
	// The admin route approves the run's gate.
	if st, b := e.Do(http.MethodPost, fmt.Sprintf("/api/runs/%d/approve", got.RunID), admin, nil); st != http.StatusOK {
		t.Fatalf("approve run: %d %s", st, b)
	}
	waitRun(t, e, got.RunID, status("done"))
	checkTrace(t, e, id, got.RunID)
	if st, b := e.Do(http.MethodPost, fmt.Sprintf("/api/runs/%d/approve", got.RunID), admin, nil); st != http.StatusBadRequest {
		t.Fatalf("approve done run: %d %s", st, b)
	}
}

// A requester cannot decide their own approval; a denied gate follows
// its denied branch; an auto-approve timeout really fires and resumes.
func TestApprovalRulesAndAutoApprove(t *testing.T) {
	e := servertest.New(t)
	op := e.Token("operator")
	wf := map[string]any{"name": "gated", "type": "workflow", "config": map[string]any{
		"nodes": []any{
			map[string]any{"id": "g", "type": "approval_gate", "params": map[string]any{"timeout_s": 1}},
			map[string]any{"id": "yes", "type": "notification", "message": "approved"},
			map[string]any{"id": "no", "type": "notification", "message": "denied"},
		},
		"edges": []any{map[string]any{"from": "g", "to": "yes", "port": "approved"}, map[string]any{"from": "g", "to": "no", "port": "denied"}},
	}}
	id := create(t, e, "operator", wf)
	start := func() int64 {
		var res struct {
			RunID int64 `json:"run_id"`
			Graph bool  `json:"graph"`
		}
		if st, b := e.Do(http.MethodPost, "/api/automations/"+id+"/run", op, nil); st != http.StatusOK || json.Unmarshal(b, &res) != nil || !res.Graph {
			t.Fatalf("run: %d %s", st, b)
			t.Fatalf("run: %d %+v", st, res)
		}
		return res.RunID
	}
	r1 := start()
	waitRun(t, e, r1, status("pending_approval"))
	ap := pendingApproval(t, e, r1)
	var cnt struct{ Count int }
	e.JSON(http.MethodGet, "/api/approvals/count", e.Token("viewer"), nil, &cnt)
	if cnt.Count != 1 {
		t.Fatalf("count %d", cnt.Count)
	}
	if st, b := e.Do(http.MethodPost, fmt.Sprintf("/api/approvals/%d/decide", ap), op, map[string]string{"decision": "approved"}); st != http.StatusForbidden {
		t.Fatalf("self-approval: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodPost, fmt.Sprintf("/api/approvals/%d/decide", ap), e.Token("admin"), map[string]string{"decision": "maybe"}); st != http.StatusBadRequest {
		t.Fatalf("bad decision: %d", st)
	}
	if st, b := e.Do(http.MethodPost, fmt.Sprintf("/api/approvals/%d/decide", ap), e.Token("admin"), map[string]string{"decision": "denied"}); st != http.StatusOK {
		t.Fatalf("deny: %d %s", st, b)
	}
	if st, b := e.Do(http.MethodPost, fmt.Sprintf("/api/approvals/%d/decide", ap), e.Token("admin"), map[string]string{"decision": "approved"}); st != http.StatusBadRequest ||
		!strings.Contains(string(b), "Approval already denied") {
		t.Fatalf("second decision: %d %s", st, b)
	}
	waitRun(t, e, r1, status("done"))
	var tr traceOut
	e.JSON(http.MethodGet, "/api/automations/"+id+"/trace", op, nil, &tr)
	if o := outcomes(tr.Executions[0].Nodes); len(o["no"]) != 1 || len(o["yes"]) != 0 {
		t.Fatalf("denied run trace %+v", tr.Executions[0].Nodes)
	}

	// Auto-approve after timeout_s.
	r2 := start()
	waitRun(t, e, r2, status("pending_approval"))
	ap2 := pendingApproval(t, e, r2)
	time.Sleep(1100 * time.Millisecond)
	if err := e.Server.Automations().AutoApprove(context.Background()); err != nil {
		t.Fatal(err)
	}
	waitRun(t, e, r2, status("done"))
	var a struct {
		Status string `json:"status"`
	}
	e.JSON(http.MethodGet, fmt.Sprintf("/api/approvals/%d", ap2), op, nil, &a)
	if a.Status != "auto_approved" {
		t.Fatalf("approval status %s", a.Status)
	}
	if st, _ := e.Do(http.MethodGet, "/api/approvals/999", op, nil); st != http.StatusNotFound {
		t.Fatalf("missing approval: %d", st)
	}
}
