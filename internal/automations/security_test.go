package automations_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

func sig(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// The public receiver refuses a bad HMAC, a replayed delivery, a stale
// timestamp and an oversized body; the trigger endpoint refuses a wrong
// key, a key in the query string and a bad HMAC.
func TestPublicEndpointsRefuseBadRequests(t *testing.T) {
	e := servertest.New(t)
	admin := e.Token("admin")
	id := create(t, e, "operator", map[string]any{"name": "ping", "type": "notify",
		"config": map[string]any{"message": "hi", "trigger_key": "k-123", "hmac_secret": "hs"}})
	var hook struct {
		ID     int64  `json:"id"`
		HookID string `json:"hook_id"`
		Secret string `json:"secret"`
	}
	e.JSON(http.MethodPost, "/api/webhooks", admin, map[string]any{"name": "h", "automation_id": id}, &hook)
	if len(hook.HookID) != 22 || len(hook.Secret) != 64 {
		t.Fatalf("hook %+v", hook)
	}
	post := func(path string, body []byte, h map[string]string) (int, string) {
		resp := e.Request(http.MethodPost, path, "", body, h)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	recv := "/api/webhooks/receive/" + hook.HookID
	body := []byte(`{"n":1}`)
	if st, b := post(recv, body, map[string]string{"X-Hub-Signature-256": sig("wrong", body)}); st != 401 || !strings.Contains(b, "Invalid signature") {
		t.Fatalf("bad hmac: %d %s", st, b)
	}
	if st, b := post(recv, body, nil); st != 401 {
		t.Fatalf("no signature: %d %s", st, b)
	}
	good := map[string]string{"X-Hub-Signature-256": sig(hook.Secret, body)}
	if st, b := post(recv, body, good); st != 200 || !strings.Contains(b, `"automation":"ping"`) {
		t.Fatalf("good delivery: %d %s", st, b)
	}
	if st, b := post(recv, body, good); st != 401 || !strings.Contains(b, "Replayed request") {
		t.Fatalf("replay: %d %s", st, b)
	}
	// Timestamped deliveries sign "<ts>.<body>"; a stale one is refused.
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	if st, b := post(recv, body, map[string]string{"X-Noba-Timestamp": ts, "X-Hub-Signature-256": sig(hook.Secret, []byte(ts+"."+string(body)))}); st != 200 {
		t.Fatalf("timestamped delivery: %d %s", st, b)
	}
	old := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	if st, _ := post(recv, body, map[string]string{"X-Noba-Timestamp": old, "X-Hub-Signature-256": sig(hook.Secret, []byte(old+"."+string(body)))}); st != 401 {
		t.Fatalf("stale timestamp: %d", st)
	}
	big := bytes.Repeat([]byte("x"), 1<<20+1)
	if st, _ := post(recv, big, map[string]string{"X-Hub-Signature-256": sig(hook.Secret, big)}); st != http.StatusRequestEntityTooLarge {
		t.Fatalf("oversized body: %d", st)
	}
	if st, _ := post("/api/webhooks/receive/nope", body, good); st != 404 {
		t.Fatalf("unknown hook: %d", st)
	}
	var hooks []map[string]any
	e.JSON(http.MethodGet, "/api/webhooks", admin, nil, &hooks)
	if len(hooks) != 1 || hooks[0]["trigger_count"].(float64) != 2 || hooks[0]["secret"] != nil {
		t.Fatalf("webhooks %+v", hooks)
	}

	trig := "/api/automations/" + id + "/trigger"
	tb := []byte(`{}`)
	if st, b := post(trig, tb, map[string]string{"X-Trigger-Key": "wrong", "X-Hub-Signature-256": sig("hs", tb)}); st != 401 {
		t.Fatalf("wrong key: %d %s", st, b)
	}
	if st, _ := post(trig+"?key=k-123", tb, map[string]string{"X-Hub-Signature-256": sig("hs", tb)}); st != 401 {
		t.Fatalf("key in query string accepted: %d", st)
	}
	if st, b := post(trig, tb, map[string]string{"X-Trigger-Key": "k-123", "X-Hub-Signature-256": sig("other", tb)}); st != 403 || !strings.Contains(b, "Invalid HMAC signature") {
		t.Fatalf("bad trigger hmac: %d %s", st, b)
	}
	if st, b := post(trig, tb, map[string]string{"X-Trigger-Key": "k-123", "X-Hub-Signature-256": sig("hs", tb)}); st != 200 || !strings.Contains(b, `"run_id"`) {
		t.Fatalf("trigger: %d %s", st, b)
	}
	// A viewer's credentials are not enough; an operator's are.
	if st, _ := post(trig, tb, map[string]string{"Authorization": "Bearer " + e.Token("viewer"), "X-Hub-Signature-256": sig("hs", tb)}); st != 403 {
		t.Fatalf("viewer trigger: %d", st)
	}
	if st, b := post(trig, tb, map[string]string{"Authorization": "Bearer " + e.Token("operator"), "X-Hub-Signature-256": sig("hs", tb)}); st != 200 {
		t.Fatalf("operator trigger: %d %s", st, b)
	}
	if st, _ := post("/api/automations/000000000000/trigger", tb, nil); st != 404 {
		t.Fatalf("missing automation: %d", st)
	}
	// Secrets never come back.
	st, b := e.Do(http.MethodGet, "/api/automations", admin, nil)
	if st != 200 || strings.Contains(string(b), "k-123") || strings.Contains(string(b), `"hs"`) || !strings.Contains(string(b), "********") {
		t.Fatalf("list leaks secrets: %s", b)
	}
}

// An operator cannot reach admin power: shell commands, free script
// arguments, high-risk agent commands and remediation actions are refused.
func TestOperatorCannotRunShellCommands(t *testing.T) {
	e := servertest.New(t)
	op := e.Token("operator")
	refuse := func(body map[string]any, want string) {
		t.Helper()
		st, b := e.Do(http.MethodPost, "/api/automations", op, body)
		if st != http.StatusForbidden || !strings.Contains(string(b), want) {
			t.Fatalf("operator create %v: %d %s", body["config"], st, b)
		}
	}
	refuse(map[string]any{"name": "sh", "type": "script", "config": map[string]any{"command": "id"}}, "Custom script commands require admin role")
	refuse(map[string]any{"name": "args", "type": "script", "config": map[string]any{"script": "backup", "args": "--config=/etc/shadow"}}, "requires admin role")
	refuse(map[string]any{"name": "exec", "type": "agent_command", "config": map[string]any{"hostname": "h1", "command": "exec"}}, "requires admin role")
	refuse(map[string]any{"name": "rem", "type": "remediation", "config": map[string]any{"remediation_type": "run"}}, "requires admin role")
	refuse(map[string]any{"name": "wf", "type": "workflow", "config": map[string]any{"nodes": []any{
		map[string]any{"id": "n1", "type": "action", "config": map[string]any{"type": "script", "config": map[string]any{"command": "id"}}}}}},
		"Custom script commands require admin role")
	if st, b := e.Do(http.MethodPost, "/api/run", op, map[string]any{"script": "backup", "args": "--exec=/bin/sh"}); st != http.StatusForbidden {
		t.Fatalf("operator /api/run with a path argument: %d %s", st, b)
	}
	// An admin's shell automation cannot be rewritten by an operator.
	id := create(t, e, "admin", map[string]any{"name": "sh", "type": "script", "config": map[string]any{"command": "echo hi"}})
	if st, b := e.Do(http.MethodPut, "/api/automations/"+id, op, map[string]any{"config": map[string]any{"command": "rm -rf /"}}); st != http.StatusForbidden {
		t.Fatalf("operator rewrite: %d %s", st, b)
	}
	// Operators may still do operator things.
	create(t, e, "operator", map[string]any{"name": "ok", "type": "agent_command", "config": map[string]any{"hostname": "h1", "command": "ping"}})
	create(t, e, "operator", map[string]any{"name": "ok2", "type": "script", "config": map[string]any{"script": "diskcheck", "args": "--find-large"}})
	if st, _ := e.Do(http.MethodDelete, "/api/automations/"+id, op, nil); st != http.StatusForbidden {
		t.Fatalf("operator delete: %d", st)
	}
}

// Past the concurrency cap a run answers 409; cancel ends a run.
func TestConcurrencyCapAnswers409(t *testing.T) {
	t.Setenv("NOBA_MAX_JOBS", "1")
	e := servertest.New(t)
	admin := e.Token("admin")
	id := create(t, e, "admin", map[string]any{"name": "slow", "type": "script", "config": map[string]any{"command": "sleep 30"}})
	var res struct {
		RunID int64 `json:"run_id"`
	}
	if st := e.JSON(http.MethodPost, "/api/automations/"+id+"/run", e.Token("operator"), nil, &res); st != 200 || res.RunID == 0 {
		t.Fatalf("first run: %d", st)
	}
	st, b := e.Do(http.MethodPost, "/api/automations/"+id+"/run", admin, nil)
	if st != http.StatusConflict || !strings.Contains(string(b), "Max concurrent jobs (1) reached") {
		t.Fatalf("second run: %d %s", st, b)
	}
	var rs map[string]any
	e.JSON(http.MethodGet, "/api/run-status", e.Token("viewer"), nil, &rs)
	if rs["status"] != "running" || rs["run_id"].(float64) != float64(res.RunID) {
		t.Fatalf("run-status %v", rs)
	}
	if st, _ := e.Do(http.MethodPost, fmt.Sprintf("/api/runs/%d/cancel", res.RunID), e.Token("operator"), nil); st != 200 {
		t.Fatalf("cancel: %d", st)
	}
	waitRun(t, e, res.RunID, status("cancelled"))
	if st, _ := e.Do(http.MethodPost, fmt.Sprintf("/api/runs/%d/cancel", res.RunID), admin, nil); st != 404 {
		t.Fatalf("cancel finished run: %d", st)
	}
	e.JSON(http.MethodGet, "/api/run-status", e.Token("viewer"), nil, &rs)
	if rs["status"] != "idle" {
		t.Fatalf("run-status %v", rs)
	}
}

// A timed-out job's child processes are all gone.
func TestTimedOutJobLeavesNoProcess(t *testing.T) {
	e := servertest.New(t)
	pids := filepath.Join(t.TempDir(), "pids")
	cmd := fmt.Sprintf("sleep 300 & echo $! >> %[1]s; sleep 300 & echo $! >> %[1]s; echo $$ >> %[1]s; wait", pids)
	id := create(t, e, "admin", map[string]any{"name": "hang", "type": "script", "config": map[string]any{"command": cmd, "timeout": 1}})
	var res struct {
		RunID int64 `json:"run_id"`
	}
	e.JSON(http.MethodPost, "/api/automations/"+id+"/run", e.Token("admin"), nil, &res)
	r := waitRun(t, e, res.RunID, finished)
	if r.Status != "timeout" || deref(r.Error) != "Timed out after 1s" {
		t.Fatalf("run %+v", r)
	}
	b, _ := os.ReadFile(pids)
	list := strings.Fields(string(b))
	if len(list) != 3 {
		t.Fatalf("pids %q", list)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, p := range list {
		for alive(p) {
			if time.Now().After(deadline) {
				t.Fatalf("process %s survived the timeout", p)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

func alive(pid string) bool {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}

// Outbound requests: link-local/metadata addresses refused at dial time;
// webhooks sign with the stored secret, which an update posting the mask
// keeps; the stored response is capped.
func TestOutboundHTTP(t *testing.T) {
	e := servertest.New(t)
	op := e.Token("operator")
	got := make(chan string, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got <- req.Header.Get("X-Noba-Signature")
		_, _ = w.Write(bytes.Repeat([]byte("y"), 300<<10))
	}))
	defer srv.Close()
	meta := create(t, e, "operator", map[string]any{"name": "meta", "type": "http", "config": map[string]any{"url": "http://169.254.169.254/latest/meta-data/"}})
	var res struct {
		RunID int64 `json:"run_id"`
	}
	e.JSON(http.MethodPost, "/api/automations/"+meta+"/run", op, nil, &res)
	r := waitRun(t, e, res.RunID, finished)
	if r.Status != "failed" || !strings.Contains(deref(r.Output), "destination address not allowed") {
		t.Fatalf("metadata request: %+v %q", r, deref(r.Output))
	}
	hook := create(t, e, "operator", map[string]any{"name": "hook", "type": "webhook", "config": map[string]any{"url": srv.URL, "secret": "s3", "body": map[string]any{"a": 1}}})
	if st, b := e.Do(http.MethodPut, "/api/automations/"+hook, op, map[string]any{"config": map[string]any{"url": srv.URL, "secret": "********", "body": map[string]any{"a": 1}}}); st != 200 {
		t.Fatalf("update: %d %s", st, b)
	}
	e.JSON(http.MethodPost, "/api/automations/"+hook+"/run", op, nil, &res)
	r = waitRun(t, e, res.RunID, finished)
	if want := sig("s3", []byte(`{"a":1}`)); <-got != want {
		t.Fatalf("signature not made with the stored secret")
	}
	if r.Status != "done" || !strings.Contains(deref(r.Output), "truncated]") || len(deref(r.Output)) > 257<<10 {
		t.Fatalf("webhook run %s, output %d bytes", r.Status, len(deref(r.Output)))
	}
}

// An import with one bad automation writes nothing; a good one writes all;
// export masks secrets and a masked value re-imported keeps the secret.
func TestImportIsAllOrNothing(t *testing.T) {
	e := servertest.New(t)
	admin := e.Token("admin")
	bad := `automations:
  - name: one
    type: notify
    config: {message: hi}
  - name: two
    type: webhook
    config: {method: POST}
  - name: three
    type: delay
    config: {seconds: 5}
`
	st, b := e.Do(http.MethodPost, "/api/automations/import", admin, bad)
	if st != 400 || !strings.Contains(string(b), "Automation #2") || !strings.Contains(string(b), "Webhook requires a valid 'url'") {
		t.Fatalf("bad import: %d %s", st, b)
	}
	var list []map[string]any
	e.JSON(http.MethodGet, "/api/automations", admin, nil, &list)
	if len(list) != 0 {
		t.Fatalf("bad import wrote %d automations", len(list))
	}
	good := strings.Replace(bad, "config: {method: POST}", "config: {url: 'http://127.0.0.1:9/x', secret: topsecret}", 1)
	var res struct{ Imported, Skipped int }
	if st := e.JSON(http.MethodPost, "/api/automations/import", admin, good, &res); st != 200 || res.Imported != 3 {
		t.Fatalf("good import: %d %+v", st, res)
	}
	resp := e.Request(http.MethodGet, "/api/automations/export", admin, nil, nil)
	exp, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/x-yaml" || strings.Contains(string(exp), "topsecret") || !strings.Contains(string(exp), "automations:") {
		t.Fatalf("export: %s %s", resp.Header.Get("Content-Type"), exp)
	}
	if st := e.JSON(http.MethodPost, "/api/automations/import?mode=skip", admin, string(exp), &res); st != 200 || res.Imported != 0 || res.Skipped != 3 {
		t.Fatalf("skip import: %d %+v", st, res)
	}
	if st := e.JSON(http.MethodPost, "/api/automations/import?mode=overwrite", admin, string(exp), &res); st != 200 || res.Imported != 3 {
		t.Fatalf("overwrite import: %d %+v", st, res)
	}
	for _, bad := range []string{"- a\n- b\n", "automations: 5\n", "{{{"} {
		if st, b := e.Do(http.MethodPost, "/api/automations/import", admin, bad); st != 400 {
			t.Fatalf("import %q: %d %s", bad, st, b)
		}
	}
	if st, _ := e.Do(http.MethodPost, "/api/automations/import", e.Token("operator"), good); st != 403 {
		t.Fatalf("operator import: %d", st)
	}
	_ = json.Valid
}
