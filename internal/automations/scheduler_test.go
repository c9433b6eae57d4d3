package automations_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

// The scheduler starts enabled automations whose schedule matches the
// minute (server local time), skips disabled ones and non-matching
// schedules, and starts nothing while a maintenance window is active.
func TestSchedulerTick(t *testing.T) {
	e := servertest.New(t)
	now := time.Date(2026, 3, 2, 10, 30, 20, 0, time.Local) // a Monday
	on := create(t, e, "operator", map[string]any{"name": "on", "type": "notify", "schedule": "30 10 * * 1", "config": map[string]any{"message": "x"}})
	create(t, e, "operator", map[string]any{"name": "off", "type": "notify", "schedule": "* * * * *", "enabled": false, "config": map[string]any{"message": "x"}})
	create(t, e, "operator", map[string]any{"name": "other", "type": "notify", "schedule": "31 10 * * *", "config": map[string]any{"message": "x"}})
	room := e.Server.Automations()
	if err := room.Tick(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	var runs []run
	e.JSON(http.MethodGet, "/api/runs?trigger_prefix=schedule:", e.Token("viewer"), nil, &runs)
	if len(runs) != 1 || runs[0].Trigger != "schedule:30 10 * * 1" || runs[0].TriggeredBy != "scheduler" {
		t.Fatalf("scheduled runs %+v", runs)
	}
	waitRun(t, e, runs[0].ID, status("done"))
	_ = on

	every := create(t, e, "operator", map[string]any{"name": "every", "type": "notify", "schedule": "* * * * *", "config": map[string]any{"message": "x"}})
	start := time.Now().Add(-time.Minute).Unix()
	if st, b := e.Do(http.MethodPost, "/api/maintenance-windows", e.Token("admin"), map[string]any{"name": "mw",
		"one_off_start": start, "one_off_end": start + 3600}); st != http.StatusOK {
		t.Fatalf("window: %d %s", st, b)
	}
	if err := room.Tick(context.Background(), time.Now().Truncate(time.Minute).Add(time.Second)); err != nil {
		t.Fatal(err)
	}
	e.JSON(http.MethodGet, "/api/runs?trigger_prefix=schedule:", e.Token("viewer"), nil, &runs)
	if len(runs) != 1 {
		t.Fatalf("a run started during a maintenance window: %+v", runs)
	}
	// Without the window the same tick starts it.
	var ws []map[string]any
	e.JSON(http.MethodGet, "/api/maintenance-windows", e.Token("admin"), nil, &ws)
	e.Do(http.MethodDelete, "/api/maintenance-windows/"+jsonNum(ws[0]["id"]), e.Token("admin"), nil)
	if err := room.Tick(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	e.JSON(http.MethodGet, "/api/runs?trigger_prefix=schedule:&automation_id="+every, e.Token("viewer"), nil, &runs)
	if len(runs) != 1 {
		t.Fatalf("runs of every-minute automation: %+v", runs)
	}
}

func jsonNum(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}

// Another room starts an automation through the room's dispatcher.
func TestStartAutomationForOtherRooms(t *testing.T) {
	e := servertest.New(t)
	id := create(t, e, "operator", map[string]any{"name": "n", "type": "notify", "config": map[string]any{"message": "from healing"}})
	room := e.Server.Automations()
	runID, err := room.StartAutomation(context.Background(), id, "remediation", "remediation")
	if err != nil || runID == nil {
		t.Fatalf("start: %v %v", runID, err)
	}
	if r := waitRun(t, e, *runID, finished); r.Status != "done" || r.Trigger != "remediation" {
		t.Fatalf("run %+v", r)
	}
	e.Do(http.MethodPut, "/api/automations/"+id, e.Token("operator"), map[string]any{"enabled": false})
	if _, err := room.StartAutomation(context.Background(), id, "remediation", "remediation"); err == nil {
		t.Fatal("a disabled automation started")
	}
}
