package automations_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

func TestCRUDAndValidation(t *testing.T) {
	e := servertest.New(t)
	op, admin := e.Token("operator"), e.Token("admin")
	cases := []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"type": "notify"}, "Name is required"},
		{map[string]any{"name": "x", "type": "bogus"}, "Type must be one of: agent_command, condition, delay, http, notify, remediation, script, service, webhook, workflow"},
		{map[string]any{"name": "x", "type": "notify", "config": "nope"}, "Config must be a JSON object"},
		{map[string]any{"name": "x", "type": "script"}, "Script automation requires 'command' or 'script' in config"},
		{map[string]any{"name": "x", "type": "webhook", "config": map[string]any{"url": "ftp://x"}}, "Webhook requires a valid 'url' in config"},
		{map[string]any{"name": "x", "type": "service", "config": map[string]any{}}, "Service automation requires 'service' in config"},
		{map[string]any{"name": "x", "type": "service", "config": map[string]any{"service": "a", "action": "kill"}}, "Service action must be start, stop, or restart"},
		{map[string]any{"name": "x", "type": "workflow", "config": map[string]any{"nodes": []any{}}}, "Workflow requires at least one node"},
		{map[string]any{"name": "x", "type": "workflow", "config": map[string]any{}}, "Workflow requires 'steps' list with at least one automation ID"},
		{map[string]any{"name": "x", "type": "condition", "config": map[string]any{}}, "Condition automation requires 'condition'"},
		{map[string]any{"name": "x", "type": "delay", "config": map[string]any{}}, "Delay requires 'seconds' or 'duration'"},
		{map[string]any{"name": "x", "type": "notify", "config": map[string]any{}}, "Notify requires 'message'"},
		{map[string]any{"name": "x", "type": "http", "config": map[string]any{"url": ""}}, "HTTP step requires a valid URL"},
		{map[string]any{"name": "x", "type": "agent_command", "config": map[string]any{"command": "ping"}}, "agent_command requires 'hostname' in config"},
		{map[string]any{"name": "x", "type": "agent_command", "config": map[string]any{"hostname": "h"}}, "agent_command requires 'command' in config"},
		{map[string]any{"name": "x", "type": "remediation", "config": map[string]any{}}, "Remediation automation requires 'remediation_type' in config"},
		{map[string]any{"name": "x", "type": "notify", "config": map[string]any{"message": "m"}, "schedule": "61 * * * *"}, "Invalid schedule"},
		{map[string]any{"name": "x", "type": "workflow", "config": map[string]any{"nodes": []any{map[string]any{"id": "a", "type": "loop"}}}}, "unknown node type 'loop'"},
	}
	for _, c := range cases {
		st, b := e.Do(http.MethodPost, "/api/automations", op, c.body)
		if st != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
			t.Errorf("create %v: %d %s, want 400 %q", c.body, st, b, c.want)
		}
	}
	id := create(t, e, "operator", map[string]any{"name": "b-note", "type": "notify", "config": map[string]any{"message": "m"}, "schedule": "*/5 * * * *"})
	create(t, e, "operator", map[string]any{"name": "a-delay", "type": "delay", "config": map[string]any{"seconds": 1}})
	var list []map[string]any
	e.JSON(http.MethodGet, "/api/automations", e.Token("viewer"), nil, &list)
	if len(list) != 2 || list[0]["name"] != "a-delay" || list[1]["schedule"] != "*/5 * * * *" || list[1]["enabled"] != true {
		t.Fatalf("list %+v", list)
	}
	e.JSON(http.MethodGet, "/api/automations?type=notify", op, nil, &list)
	if len(list) != 1 {
		t.Fatalf("type filter %+v", list)
	}
	if st, b := e.Do(http.MethodPut, "/api/automations/"+id, op, map[string]any{"enabled": false, "schedule": ""}); st != 200 {
		t.Fatalf("update: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodPut, "/api/automations/"+id, op, map[string]any{"unknown": 1}); st != 400 {
		t.Fatalf("update with nothing: %d", st)
	}
	if st, _ := e.Do(http.MethodPut, "/api/automations/"+id, op, map[string]any{"type": "nope"}); st != 400 {
		t.Fatalf("update bad type: %d", st)
	}
	if st, _ := e.Do(http.MethodPut, "/api/automations/000000000000", op, map[string]any{"name": "x"}); st != 404 {
		t.Fatalf("update missing: %d", st)
	}
	e.JSON(http.MethodGet, "/api/automations?type=notify", op, nil, &list)
	if list[0]["enabled"] != false || list[0]["schedule"] != nil {
		t.Fatalf("updated %+v", list[0])
	}
	// Manual run of a disabled automation is allowed; its run is recorded.
	var res struct {
		RunID int64 `json:"run_id"`
	}
	e.JSON(http.MethodPost, "/api/automations/"+id+"/run", op, nil, &res)
	r := waitRun(t, e, res.RunID, finished)
	if r.Status != "done" || deref(r.Output) != "Notification sent: m\n" || r.Trigger != "auto:notify:b-note" {
		t.Fatalf("run %+v %q", r, deref(r.Output))
	}
	var stats map[string]map[string]any
	e.JSON(http.MethodGet, "/api/automations/stats", op, nil, &stats)
	if stats[id]["total"].(float64) != 1 || stats[id]["ok"].(float64) != 1 {
		t.Fatalf("stats %+v", stats)
	}
	var runs []map[string]any
	e.JSON(http.MethodGet, "/api/runs?automation_id="+id+"&status=done", op, nil, &runs)
	if len(runs) != 1 || runs[0]["output"] != nil {
		t.Fatalf("runs %+v", runs)
	}
	if st, _ := e.Do(http.MethodGet, "/api/runs?limit=abc", op, nil); st != 400 {
		t.Fatalf("bad limit: %d", st)
	}
	if st, _ := e.Do(http.MethodGet, "/api/runs/99999", op, nil); st != 404 {
		t.Fatalf("missing run: %d", st)
	}
	if st, _ := e.Do(http.MethodDelete, "/api/automations/"+id, admin, nil); st != 200 {
		t.Fatalf("delete: %d", st)
	}
	if st, _ := e.Do(http.MethodDelete, "/api/automations/"+id, admin, nil); st != 404 {
		t.Fatalf("delete again: %d", st)
	}
	if st, _ := e.Do(http.MethodGet, "/api/automations/"+id+"/trace", op, nil); st != 404 {
		t.Fatalf("trace missing: %d", st)
	}
}

// Flat workflows: a sequential chain with a retry and a validate-workflow check.
func TestFlatWorkflowAndValidate(t *testing.T) {
	e := servertest.New(t)
	op := e.Token("operator")
	a := create(t, e, "operator", map[string]any{"name": "s1", "type": "notify", "config": map[string]any{"message": "one"}})
	b := create(t, e, "operator", map[string]any{"name": "s2", "type": "condition", "config": map[string]any{"condition": "missing_metric > 1"}})
	c := create(t, e, "operator", map[string]any{"name": "s3", "type": "notify", "config": map[string]any{"message": "three"}})
	wf := create(t, e, "operator", map[string]any{"name": "chain", "type": "workflow", "config": map[string]any{"steps": []any{a, b, c}, "retries": 1}})
	var res map[string]any
	if st := e.JSON(http.MethodPost, "/api/automations/"+wf+"/run", op, nil, &res); st != 200 || res["workflow"] != true || res["steps"].(float64) != 3 || res["mode"] != "sequential" {
		t.Fatalf("run: %d %v", st, res)
	}
	deadline := time.Now().Add(20 * time.Second)
	var runs []run
	for {
		e.JSON(http.MethodGet, "/api/runs?trigger_prefix=workflow:"+wf+":", op, nil, &runs)
		if len(runs) == 3 && finished(runs[0]) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("runs %+v", runs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond)
	e.JSON(http.MethodGet, "/api/runs?trigger_prefix=workflow:"+wf+":", op, nil, &runs)
	want := []string{"workflow:" + wf + ":step1:retry1", "workflow:" + wf + ":step1", "workflow:" + wf + ":step0"}
	if len(runs) != 3 {
		t.Fatalf("runs %+v (the chain must stop after the failed retry)", runs)
	}
	for i, w := range want {
		if runs[i].Trigger != w {
			t.Fatalf("run %d trigger %s, want %s", i, runs[i].Trigger, w)
		}
	}
	var tr struct {
		Executions []struct {
			Steps []struct {
				Step map[string]any `json:"step"`
			} `json:"steps"`
		} `json:"executions"`
	}
	e.JSON(http.MethodGet, "/api/automations/"+wf+"/trace", op, nil, &tr)
	if len(tr.Executions) != 1 || len(tr.Executions[0].Steps) != 3 || tr.Executions[0].Steps[0].Step["retry"].(float64) != 1 {
		t.Fatalf("trace %+v", tr)
	}
	var v struct {
		Valid bool             `json:"valid"`
		Steps []map[string]any `json:"steps"`
	}
	e.JSON(http.MethodPost, "/api/automations/validate-workflow", op, map[string]any{"steps": []any{a, "nope"}}, &v)
	if v.Valid || len(v.Steps) != 2 || v.Steps[0]["valid"] != true || v.Steps[1]["name"] != "" {
		t.Fatalf("validate %+v", v)
	}
	if st, _ := e.Do(http.MethodPost, "/api/automations/validate-workflow", op, map[string]any{"steps": "x"}); st != 400 {
		t.Fatalf("validate non-list: %d", st)
	}
	if st, _ := e.Do(http.MethodGet, "/api/automations/"+a+"/trace", op, nil); st != 400 {
		t.Fatalf("trace of non-workflow: %d", st)
	}
}

func TestTemplatesAndPlaybooks(t *testing.T) {
	e := servertest.New(t)
	op := e.Token("operator")
	var tpl []map[string]any
	e.JSON(http.MethodGet, "/api/automations/templates", e.Token("viewer"), nil, &tpl)
	if len(tpl) != 8 || tpl[0]["id"] != "daily-backup" || tpl[6]["schedule"] != nil {
		t.Fatalf("templates %+v", tpl)
	}
	var pbs []map[string]any
	e.JSON(http.MethodGet, "/api/playbooks", e.Token("viewer"), nil, &pbs)
	if len(pbs) != 4 || pbs[0]["category"] != "backup" {
		t.Fatalf("playbooks %+v", pbs)
	}
	if st, _ := e.Do(http.MethodGet, "/api/playbooks/nope", op, nil); st != 404 {
		t.Fatalf("missing playbook: %d", st)
	}
	var res map[string]any
	if st := e.JSON(http.MethodPost, "/api/playbooks/disk-cleanup/install", op, nil, &res); st != 200 || res["status"] != "ok" {
		t.Fatalf("install: %d %v", st, res)
	}
	if st, b := e.Do(http.MethodPost, "/api/playbooks/rolling-dns-restart/install", op, map[string]any{"name": "DNS"}); st != 200 {
		t.Fatalf("install named: %d %s", st, b)
	}
	// Updating every agent is high risk: admin only.
	if st, _ := e.Do(http.MethodPost, "/api/playbooks/update-all-agents/install", op, nil); st != 403 {
		t.Fatalf("operator installs a high-risk playbook: %d", st)
	}
	var list []map[string]any
	e.JSON(http.MethodGet, "/api/automations", op, nil, &list)
	if len(list) != 2 || list[0]["name"] != "DNS" || list[0]["enabled"] != false || list[1]["type"] != "workflow" {
		t.Fatalf("installed %+v", list)
	}
	// The installed disk-cleanup graph runs: disk_percent is unknown, so
	// the condition is false and the "Disk OK" notification ends it.
	var rr struct {
		RunID int64 `json:"run_id"`
	}
	e.JSON(http.MethodPost, "/api/automations/"+list[1]["id"].(string)+"/run", op, nil, &rr)
	r := waitRun(t, e, rr.RunID, finished)
	if r.Status != "done" || !strings.Contains(deref(r.Output), "n6 (notify): sent") {
		t.Fatalf("playbook run %+v %q", r, deref(r.Output))
	}
}

// /api/run runs built-in scripts from NOBA_SCRIPT_DIR; /api/action-log
// shows the latest output; the legacy /api/webhook calls a configured hook.
func TestRunScriptAndActionLog(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "disk-sentinel.sh"), []byte("#!/bin/sh\necho sentinel \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("NOBA_SCRIPT_DIR", dir)
	e := servertest.New(t)
	op := e.Token("operator")
	var res map[string]any
	if st := e.JSON(http.MethodPost, "/api/run", op, map[string]any{"script": "diskcheck", "args": "--find-large"}, &res); st != 200 ||
		res["success"] != true || res["script"] != "diskcheck" {
		t.Fatalf("run: %d %v", st, res)
	}
	r := waitRun(t, e, int64(res["run_id"].(float64)), finished)
	if r.Status != "done" || deref(r.Output) != "sentinel --verbose --find-large\n" {
		t.Fatalf("run %+v %q", r, deref(r.Output))
	}
	var log struct{ Content string }
	e.JSON(http.MethodGet, "/api/action-log", op, nil, &log)
	if !strings.Contains(log.Content, "Initiating: diskcheck") || !strings.Contains(log.Content, "sentinel --verbose --find-large") {
		t.Fatalf("action log %q", log.Content)
	}
	if st, b := e.Do(http.MethodPost, "/api/run", op, map[string]any{"script": "rm"}); st != 400 || !strings.Contains(string(b), "Unknown or invalid script: rm") {
		t.Fatalf("unknown script: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodPost, "/api/run", op, map[string]any{"script": "backup"}); st != 503 {
		t.Fatalf("uninstalled script: %d", st)
	}
	if st, _ := e.Do(http.MethodGet, "/api/action-log", e.Token("viewer"), nil); st != 403 {
		t.Fatalf("viewer action log: %d", st)
	}

	hits := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) { hits <- req.Method }))
	defer srv.Close()
	if st, b := e.Do(http.MethodPost, "/api/settings", e.Token("admin"), map[string]any{
		"automations": []any{map[string]any{"id": "n8n", "url": srv.URL}}}); st != 200 {
		t.Fatalf("settings: %d %s", st, b)
	}
	if st, b := e.Do(http.MethodPost, "/api/webhook", op, map[string]any{"id": "n8n"}); st != 200 || <-hits != "POST" {
		t.Fatalf("legacy webhook: %d %s", st, b)
	}
	if st, _ := e.Do(http.MethodPost, "/api/webhook", op, map[string]any{"id": "nope"}); st != 404 {
		t.Fatalf("unknown legacy webhook: %d", st)
	}
}

// File-watch and RSS triggers fire their automation.
func TestFileAndFeedTriggers(t *testing.T) {
	dir := t.TempDir()
	watched := filepath.Join(dir, "watched.txt")
	if err := os.WriteFile(watched, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	items := `<rss><channel><item><guid>1</guid></item></channel></rss>`
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { fmt.Fprint(w, items) }))
	defer feed.Close()
	e := servertest.New(t)
	id := create(t, e, "operator", map[string]any{"name": "n", "type": "notify", "config": map[string]any{"message": "changed"}})
	if st, b := e.Do(http.MethodPost, "/api/settings", e.Token("admin"), map[string]any{
		"fsTriggers":  []any{map[string]any{"path": watched, "automation_id": id}},
		"rssTriggers": []any{map[string]any{"url": feed.URL, "automation_id": id}}}); st != 200 {
		t.Fatalf("settings: %d %s", st, b)
	}
	room := e.Server.Automations()
	ctx := context.Background()
	count := func(prefix string) int {
		var runs []run
		e.JSON(http.MethodGet, "/api/runs?trigger_prefix="+prefix, e.Token("viewer"), nil, &runs)
		return len(runs)
	}
	_ = room.PollFiles(ctx)
	_ = room.PollFeeds(ctx)
	if count("fs-trigger:") != 0 || count("rss:") != 0 {
		t.Fatal("first poll fired")
	}
	later := time.Now().Add(2 * time.Second)
	if err := os.Chtimes(watched, later, later); err != nil {
		t.Fatal(err)
	}
	items = `<feed xmlns="http://www.w3.org/2005/Atom"><entry><id>1</id></entry><entry><id>2</id></entry></feed>`
	_ = room.PollFiles(ctx)
	_ = room.PollFeeds(ctx)
	if count("fs-trigger:"+watched) != 1 || count("rss:"+feed.URL) != 1 {
		t.Fatalf("triggers did not fire: fs %d rss %d", count("fs-trigger:"), count("rss:"))
	}
	_ = json.Valid
}
