package healing_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

func createAutomation(t *testing.T, e *servertest.Env, body map[string]any) string {
	t.Helper()
	var res struct {
		ID string `json:"id"`
	}
	if st := e.JSON(http.MethodPost, "/api/automations", e.Token("operator"), body, &res); st != http.StatusOK || res.ID == "" {
		t.Fatalf("create automation %v: %d", body["name"], st)
	}
	return res.ID
}

func runsOf(t *testing.T, e *servertest.Env, id string) []map[string]any {
	var runs []map[string]any
	if st := e.JSON(http.MethodGet, "/api/runs?automation_id="+id, e.Token("viewer"), nil, &runs); st != http.StatusOK {
		t.Fatalf("runs: %d", st)
	}
	return runs
}

// The automation and run_playbook actions start stored automations
// through the automations room: a single type as a job (trigger and
// triggered_by "remediation"), a playbook as a flat workflow whose steps
// run as their own jobs (triggered_by "system"); a playbook that is not a
// workflow, an unknown id and a disabled automation fail.
func TestAutomationAndPlaybookActions(t *testing.T) {
	e := servertest.New(t)
	x := e.Server.Healing().Executor()
	ctx := context.Background()
	note := createAutomation(t, e, map[string]any{"name": "heal note", "type": "notify", "config": map[string]any{"message": "from healing"}})
	res := x.Execute(ctx, "automation", map[string]any{"automation_id": note}, "manual", "", "", "")
	if !res.Success || !strings.HasPrefix(res.Output, "Automation started: heal note run_id=") {
		t.Fatalf("automation: %+v", res)
	}
	waitFor(t, "remediation run", func() bool {
		r := runsOf(t, e, note)
		return len(r) == 1 && r[0]["trigger"] == "remediation" && r[0]["triggered_by"] == "remediation" && r[0]["status"] == "done"
	})

	if res := x.Execute(ctx, "run_playbook", map[string]any{"playbook_id": note}, "manual", "", "", ""); res.Success ||
		!strings.Contains(res.Error, "Playbook must be a workflow automation") {
		t.Fatalf("non-workflow playbook: %+v", res)
	}
	wf := createAutomation(t, e, map[string]any{"name": "recover", "type": "workflow", "config": map[string]any{"steps": []any{note}}})
	if res := x.Execute(ctx, "run_playbook", map[string]any{"playbook_id": wf}, "manual", "", "", ""); !res.Success || res.Output != "Playbook started: recover" {
		t.Fatalf("playbook: %+v", res)
	}
	waitFor(t, "playbook step run", func() bool {
		r := runsOf(t, e, note)
		return len(r) == 2 && r[0]["triggered_by"] == "system" && r[0]["status"] == "done"
	})

	if res := x.Execute(ctx, "automation", map[string]any{"automation_id": "nope"}, "manual", "", "", ""); res.Success || res.Error == "" {
		t.Fatalf("unknown automation: %+v", res)
	}
	if st := e.JSON(http.MethodPut, "/api/automations/"+note, e.Token("operator"), map[string]any{"enabled": false}, nil); st != http.StatusOK {
		t.Fatal(st)
	}
	if res := x.Execute(ctx, "automation", map[string]any{"automation_id": note}, "manual", "", "", ""); res.Success ||
		!strings.Contains(res.Error, "disabled") {
		t.Fatalf("disabled automation: %+v", res)
	}
	// Every call is in the action audit.
	var audit []map[string]any
	e.JSON(http.MethodGet, "/api/action-audit", e.Token("viewer"), nil, &audit)
	if len(audit) != 5 || audit[0]["outcome"] != "failure" || audit[2]["outcome"] != "success" || audit[2]["output"] != "Playbook started: recover" {
		t.Fatalf("action audit: %+v", audit)
	}
}

// driver_rollback has no unattended command on any OS: it refuses with a
// reason a user can act on, and the refusal is in the action audit.
func TestDriverRollbackRefusesClearly(t *testing.T) {
	e := servertest.New(t)
	res := e.Server.Healing().Executor().Execute(context.Background(), "driver_rollback", map[string]any{"device": "nic0"}, "manual", "", "", "")
	if res.Success || !strings.Contains(res.Error, "Roll the driver back on the host") {
		t.Fatalf("driver_rollback: %+v", res)
	}
}
