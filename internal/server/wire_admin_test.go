package server_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/noba-go/noba/internal/jobs/runner"
	"github.com/noba-go/noba/internal/server/servertest"
)

// TestBackupSchedulesThroughAutomations drives the backups room's
// automations seam against the real automations room: a schedule created
// through the backup route is an automation the automations routes list,
// the backup schedules list filters it out of the other scripts, and a
// running backup job of the automations runner shows in the progress.
func TestBackupSchedulesThroughAutomations(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")
	var out struct{ ID, Status string }
	if st := env.JSON(http.MethodPost, "/api/backup/schedule", admin, map[string]any{"type": "verify", "schedule": "30 4 * * 0"}, &out); st != http.StatusOK ||
		out.ID == "" || out.Status != "ok" {
		t.Fatalf("create schedule: %d %+v", st, out)
	}
	if st := env.JSON(http.MethodPost, "/api/automations", admin, map[string]any{"name": "Speed", "type": "script",
		"config": map[string]any{"script": "speedtest"}, "schedule": "0 * * * *"}, nil); st != http.StatusOK {
		t.Fatalf("other automation: %d", st)
	}
	var all []map[string]any
	env.JSON(http.MethodGet, "/api/automations", viewer, nil, &all)
	var got map[string]any
	for _, a := range all {
		if a["id"] == out.ID {
			got = a
		}
	}
	cfg, _ := got["config"].(map[string]any)
	if got["name"] != "Scheduled verify" || got["type"] != "script" || got["schedule"] != "30 4 * * 0" || cfg["script"] != "verify" || got["enabled"] != true {
		t.Fatalf("created automation: %v (all %v)", got, all)
	}
	var sch []map[string]any
	if st := env.JSON(http.MethodGet, "/api/backup/schedules", viewer, nil, &sch); st != http.StatusOK || len(sch) != 1 || sch[0]["id"] != out.ID {
		t.Fatalf("schedules: %d %v", st, sch)
	}
	// The automations room's validation answers through the backup route.
	if st, _ := env.Do(http.MethodPost, "/api/backup/schedule", admin, map[string]any{"schedule": "not cron"}); st != http.StatusBadRequest {
		t.Fatalf("bad cron: %d", st)
	}
	if st, _ := env.Do(http.MethodPost, "/api/backup/schedule", viewer, map[string]any{"type": "backup"}); st != http.StatusForbidden {
		t.Fatalf("viewer schedule: %d", st)
	}

	var pr struct {
		Running bool `json:"running"`
		Jobs    []struct {
			RunID   int64  `json:"run_id"`
			Trigger string `json:"trigger"`
		} `json:"jobs"`
	}
	if st := env.JSON(http.MethodGet, "/api/backup/progress", viewer, nil, &pr); st != http.StatusOK || pr.Running || len(pr.Jobs) != 0 {
		t.Fatalf("idle progress: %d %+v", st, pr)
	}
	run := env.Server.Automations().Runner()
	id, err := run.Submit(context.Background(), runner.Spec{Trigger: "script:backup", TriggeredBy: "admin",
		Command: &runner.Command{Argv: []string{"sleep", "30"}}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := run.Submit(context.Background(), runner.Spec{Trigger: "script:speedtest", TriggeredBy: "admin",
		Command: &runner.Command{Argv: []string{"sleep", "30"}}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Cancel(id); run.Cancel(other) })
	if st := env.JSON(http.MethodGet, "/api/backup/progress", viewer, nil, &pr); st != http.StatusOK || !pr.Running || len(pr.Jobs) != 1 ||
		pr.Jobs[0].RunID != id || pr.Jobs[0].Trigger != "script:backup" {
		t.Fatalf("progress: %d %+v", st, pr)
	}
}
