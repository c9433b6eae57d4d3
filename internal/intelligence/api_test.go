package intelligence_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/server/servertest"
)

var jsonUnmarshal = json.Unmarshal

// TestRouteRoles is the room's route x role table.
func TestRouteRoles(t *testing.T) {
	env := servertest.New(t)
	routes := []struct{ method, path, min string }{
		{"GET", "/api/incidents", "viewer"},
		{"POST", "/api/incidents/9/resolve", "operator"},
		{"GET", "/api/incidents/9/messages", "viewer"},
		{"POST", "/api/incidents/9/messages", "operator"},
		{"PUT", "/api/incidents/9/assign", "operator"},
		{"GET", "/api/dependencies", "viewer"},
		{"POST", "/api/dependencies", "admin"},
		{"DELETE", "/api/dependencies/9", "admin"},
		{"GET", "/api/dependencies/impact/x", "viewer"},
		{"POST", "/api/dependencies/discover/nohost", "operator"},
		{"GET", "/api/baselines", "viewer"},
		{"POST", "/api/baselines", "admin"},
		{"DELETE", "/api/baselines/9", "admin"},
		{"POST", "/api/baselines/9/set-from/nohost", "admin"},
		{"POST", "/api/baselines/check", "operator"},
		{"GET", "/api/baselines/9/results", "viewer"},
		{"GET", "/api/ai/status", "viewer"},
		{"POST", "/api/ai/chat", "operator"},
		{"POST", "/api/ai/analyze-alert/9", "operator"},
		{"POST", "/api/ai/analyze-logs", "operator"},
		{"POST", "/api/ai/summarize-incident/9", "operator"},
		{"GET", "/api/predict/capacity", "viewer"},
		{"POST", "/api/ai/test", "admin"},
	}
	rank := map[string]int{"": 0, "viewer": 1, "operator": 2, "admin": 3}
	for _, r := range routes {
		for _, role := range []string{"", "viewer", "operator", "admin"} {
			tok := ""
			if role != "" {
				tok = env.Token(role)
			}
			st, b := env.Do(r.method, r.path, tok, map[string]any{})
			switch {
			case role == "" && st != http.StatusUnauthorized:
				t.Errorf("%s %s without token: %d, want 401", r.method, r.path, st)
			case role != "" && rank[role] < rank[r.min] && st != http.StatusForbidden:
				t.Errorf("%s %s as %s: %d, want 403", r.method, r.path, role, st)
			case rank[role] >= rank[r.min] && role != "" && (st == 401 || st == 403 || st >= 500):
				t.Errorf("%s %s as %s: %d %s", r.method, r.path, role, st, b)
			}
		}
	}
}

func TestIncidentsWarRoom(t *testing.T) {
	env := servertest.New(t)
	op, viewer := env.Token("operator"), env.Token("viewer")
	now := time.Now().Unix()
	old := insertIncident(t, env, now-30*3600, "warning", "Disk filling")
	id := insertIncident(t, env, now-60, "critical", "CPU high")

	var list []map[string]any
	if st := env.JSON("GET", "/api/incidents", viewer, nil, &list); st != 200 || len(list) != 1 || list[0]["id"] != float64(id) {
		t.Fatalf("list 24 h: %d %v", st, list)
	}
	for _, k := range []string{"id", "timestamp", "severity", "source", "title", "details", "resolved_at"} {
		if _, ok := list[0][k]; !ok {
			t.Errorf("incident lacks %q", k)
		}
	}
	if st := env.JSON("GET", "/api/incidents?hours=48", viewer, nil, &list); st != 200 || len(list) != 2 || list[1]["id"] != float64(old) {
		t.Errorf("list 48 h: %d %v", st, list)
	}
	if st, b := env.Do("GET", "/api/incidents?hours=abc", viewer, nil); st != 400 || errMsg(b) != "Invalid hours parameter" {
		t.Errorf("bad hours: %d %s", st, b)
	}

	// War room: validation, messages oldest first, 404 for missing incidents.
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"message": "  "}, "message is required"},
		{map[string]any{"message": "x", "msg_type": "shout"}, "msg_type must be comment, system, action, or note"},
	} {
		if st, b := env.Do("POST", fmt.Sprintf("/api/incidents/%d/messages", id), op, tc.body); st != 400 || errMsg(b) != tc.want {
			t.Errorf("post %v: %d %s", tc.body, st, b)
		}
	}
	if st, b := env.Do("POST", "/api/incidents/99999/messages", op, map[string]any{"message": "hi"}); st != 404 || errMsg(b) != "Incident not found" {
		t.Errorf("post to missing: %d %s", st, b)
	}
	var posted map[string]any
	if st := env.JSON("POST", fmt.Sprintf("/api/incidents/%d/messages", id), op, map[string]any{"message": " Looking at it "}, &posted); st != 200 || posted["status"] != "ok" {
		t.Fatalf("post: %d %v", st, posted)
	}
	if st := env.JSON("POST", fmt.Sprintf("/api/incidents/%d/messages", id), op, map[string]any{"message": "restarted nginx", "msg_type": "action"}, nil); st != 200 {
		t.Fatal(st)
	}
	if st, b := env.Do("PUT", fmt.Sprintf("/api/incidents/%d/assign", id), op, map[string]any{"assigned_to": ""}); st != 400 || errMsg(b) != "assigned_to is required" {
		t.Errorf("assign empty: %d %s", st, b)
	}
	var asg map[string]any
	if st := env.JSON("PUT", fmt.Sprintf("/api/incidents/%d/assign", id), op, map[string]any{"assigned_to": "alice"}, &asg); st != 200 || asg["assigned_to"] != "alice" {
		t.Fatalf("assign: %d %v", st, asg)
	}
	var msgs struct {
		IncidentID int64            `json:"incident_id"`
		Messages   []map[string]any `json:"messages"`
	}
	if st := env.JSON("GET", fmt.Sprintf("/api/incidents/%d/messages", id), viewer, nil, &msgs); st != 200 || msgs.IncidentID != id || len(msgs.Messages) != 3 {
		t.Fatalf("messages: %d %+v", st, msgs)
	}
	got := []string{}
	for _, m := range msgs.Messages {
		got = append(got, m["msg_type"].(string)+":"+m["author"].(string)+":"+m["message"].(string))
	}
	want := []string{"comment:t-operator:Looking at it", "action:t-operator:restarted nginx", "system:t-operator:Assigned incident to alice"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("messages = %v, want %v", got, want)
	}

	// Resolve: 404 when missing [fix], then resolved_at set and the assignee listed.
	if st, b := env.Do("POST", "/api/incidents/99999/resolve", op, nil); st != 404 || errMsg(b) != "Incident not found" {
		t.Errorf("resolve missing: %d %s", st, b)
	}
	if st := env.JSON("POST", fmt.Sprintf("/api/incidents/%d/resolve", id), op, nil, nil); st != 200 {
		t.Fatal(st)
	}
	env.JSON("GET", "/api/incidents", viewer, nil, &list)
	if list[0]["resolved_at"].(float64) < float64(now) || list[0]["assigned_to"] != "alice" {
		t.Errorf("after resolve: %v", list[0])
	}
	var audit []map[string]any
	env.JSON("GET", "/api/audit?limit=50", env.Token("admin"), nil, &audit)
	actions := map[string]bool{}
	for _, a := range audit {
		actions[fmt.Sprint(a["action"])] = true
	}
	for _, a := range []string{"incident_message", "incident_assign", "incident_resolved"} {
		if !actions[a] {
			t.Errorf("no audit row %q", a)
		}
	}
	// A viewer posts nothing.
	if st, _ := env.Do("POST", fmt.Sprintf("/api/incidents/%d/messages", id), viewer, map[string]any{"message": "x"}); st != 403 {
		t.Errorf("viewer post: %d", st)
	}
}

func TestDependencyGraphAndImpact(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"source": "web"}, "Both 'source' and 'target' are required"},
		{map[string]any{"source": "db", "target": " db "}, "A service cannot depend on itself"},
		{map[string]any{"source": "web", "target": "db", "type": "sometimes"}, "Invalid dependency type"},
	} {
		if st, b := env.Do("POST", "/api/dependencies", admin, tc.body); st != 400 || errMsg(b) != tc.want {
			t.Errorf("%v: %d %s", tc.body, st, b)
		}
	}
	ids := map[string]float64{}
	for _, e := range [][3]string{{"app", "api", ""}, {"api", "db", "requires"}, {"worker", "db", "optional"}, {"db", "storage", "network"}, {"cron", "app", ""}} {
		var out map[string]any
		if st := env.JSON("POST", "/api/dependencies", admin, map[string]any{"source": e[0], "target": e[1], "type": e[2]}, &out); st != 200 || out["status"] != "ok" {
			t.Fatalf("create %v: %d %v", e, st, out)
		}
		ids[e[0]+">"+e[1]] = out["id"].(float64)
	}
	var g struct {
		Nodes        []map[string]any `json:"nodes"`
		Edges        []map[string]any `json:"edges"`
		Dependencies []map[string]any `json:"dependencies"`
	}
	if st := env.JSON("GET", "/api/dependencies", viewer, nil, &g); st != 200 || len(g.Nodes) != 6 || len(g.Edges) != 5 || len(g.Dependencies) != 5 {
		t.Fatalf("graph: %d %+v", st, g)
	}
	if g.Nodes[0]["id"] != "api" || g.Nodes[0]["health"] != "unknown" || g.Edges[0]["type"] != "requires" || g.Edges[0]["auto_discovered"] != false {
		t.Errorf("graph head: %v %v", g.Nodes[0], g.Edges[0])
	}
	impact := func(svc string) []any {
		var out map[string]any
		if st := env.JSON("GET", "/api/dependencies/impact/"+svc, viewer, nil, &out); st != 200 || out["service"] != svc || int(out["count"].(float64)) != len(out["affected"].([]any)) {
			t.Fatalf("impact %s: %d %v", svc, st, out)
		}
		return out["affected"].([]any)
	}
	if got := impact("db"); !reflect.DeepEqual(got, []any{"api", "app", "cron", "worker"}) {
		t.Errorf("impact(db) = %v", got)
	}
	if got := impact("storage"); len(got) != 5 {
		t.Errorf("impact(storage) = %v", got)
	}
	if got := impact("cron"); len(got) != 0 {
		t.Errorf("impact(cron) = %v", got)
	}
	// A cycle terminates and reaches the start again.
	env.JSON("POST", "/api/dependencies", admin, map[string]any{"source": "storage", "target": "cron"}, nil)
	if got := impact("cron"); !reflect.DeepEqual(got, []any{"api", "app", "cron", "db", "storage", "worker"}) {
		t.Errorf("impact(cron) with a cycle = %v", got)
	}
	if st, _ := env.Do("DELETE", fmt.Sprintf("/api/dependencies/%d", int(ids["api>db"])), admin, nil); st != 200 {
		t.Errorf("delete: %d", st)
	}
	if st, b := env.Do("DELETE", fmt.Sprintf("/api/dependencies/%d", int(ids["api>db"])), admin, nil); st != 404 || errMsg(b) != "Dependency not found" {
		t.Errorf("delete again: %d %s", st, b)
	}
	if got := impact("db"); !reflect.DeepEqual(got, []any{"worker"}) {
		t.Errorf("impact(db) after delete = %v", got)
	}
	if st, b := env.Do("POST", "/api/dependencies/discover/ghost", env.Token("operator"), nil); st != 404 || !strings.Contains(errMsg(b), "ghost") {
		t.Errorf("discover unknown host: %d %s", st, b)
	}
}

func TestBaselineValidation(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")
	hash := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"expected_hash": hash}, "File path is required"},
		{map[string]any{"path": "/etc/hosts.allow"}, "Expected hash is required"},
		{map[string]any{"path": "/etc/hosts.allow", "expected_hash": "abc"}, "Expected hash must be a SHA-256 hex digest (64 hex characters)"},
		{map[string]any{"path": "etc/x", "expected_hash": hash}, "File path must be absolute"},
		{map[string]any{"path": "/etc/../etc/passwd", "expected_hash": hash}, "Path traversal ('..') is not allowed"},
		{map[string]any{"path": "/etc/x", "expected_hash": hash, "agent_group": "good,bad host"}, "Invalid host 'bad host' in agent_group"},
	} {
		if st, b := env.Do("POST", "/api/baselines", admin, tc.body); st != 400 || errMsg(b) != tc.want {
			t.Errorf("%v: %d %s", tc.body, st, b)
		}
	}
	var out map[string]any
	if st := env.JSON("POST", "/api/baselines", admin, map[string]any{"path": "/etc/nginx/nginx.conf", "expected_hash": strings.ToUpper(hash)}, &out); st != 200 {
		t.Fatalf("create: %d %v", st, out)
	}
	id := int(out["id"].(float64))
	var list []map[string]any
	if st := env.JSON("GET", "/api/baselines", viewer, nil, &list); st != 200 || len(list) != 1 || list[0]["status"] != "pending" ||
		list[0]["agent_group"] != "__all__" || list[0]["expected_hash"] != hash || list[0]["agent_count"] != 0.0 {
		t.Fatalf("list: %d %v", st, list)
	}
	var res map[string]any
	if st := env.JSON("GET", fmt.Sprintf("/api/baselines/%d/results", id), viewer, nil, &res); st != 200 || len(res["results"].([]any)) != 0 {
		t.Errorf("results: %d %v", st, res)
	}
	if st, b := env.Do("GET", "/api/baselines/999/results", viewer, nil); st != 404 || errMsg(b) != "Baseline not found" {
		t.Errorf("results missing: %d %s", st, b)
	}
	if st, b := env.Do("POST", "/api/baselines/999/set-from/h", admin, nil); st != 404 || errMsg(b) != "Baseline not found" {
		t.Errorf("set-from missing: %d %s", st, b)
	}
	var chk map[string]any
	if st := env.JSON("POST", "/api/baselines/check", env.Token("operator"), nil, &chk); st != 200 || chk["message"] != "Drift check started" {
		t.Errorf("check: %d %v", st, chk)
	}
	if st, _ := env.Do("DELETE", fmt.Sprintf("/api/baselines/%d", id), admin, nil); st != 200 {
		t.Errorf("delete: %d", st)
	}
	if st, b := env.Do("DELETE", fmt.Sprintf("/api/baselines/%d", id), admin, nil); st != 404 || errMsg(b) != "Baseline not found" {
		t.Errorf("delete again: %d %s", st, b)
	}
}

// TestDriftHistoryPrune: a check prunes rows older than 30 days but keeps
// the latest row of each baseline and host.
func TestDriftHistoryPrune(t *testing.T) {
	env := servertest.NewWith(t, servertest.Setup{Jobs: true})
	var out map[string]any
	env.JSON("POST", "/api/baselines", env.Token("admin"), map[string]any{"path": "/etc/x.conf", "expected_hash": strings.Repeat("c", 64)}, &out)
	bid := int64(out["id"].(float64))
	old := time.Now().Add(-40 * 24 * time.Hour).Unix()
	for i, h := range []string{"h1", "h1", "h2"} {
		if _, err := env.Server.DB.W.Exec(`INSERT INTO drift_checks (baseline_id, hostname, actual_hash, status, checked_at) VALUES (?, ?, NULL, 'timeout', ?)`, bid, h, old+int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	env.JSON("POST", "/api/baselines/check", env.Token("operator"), nil, nil)
	count := func() int {
		var n int
		_ = env.Server.DB.R.QueryRow(`SELECT COUNT(*) FROM drift_checks`).Scan(&n)
		return n
	}
	waitFor(t, 20*time.Second, "old drift rows pruned", func() bool { return count() == 2 })
	var res driftResults
	env.JSON("GET", fmt.Sprintf("/api/baselines/%d/results", bid), env.Token("viewer"), nil, &res)
	if len(res.Results) != 2 {
		t.Errorf("latest rows after prune: %v", res.Results)
	}
}

// A drift baseline of the files admins watch most (sshd_config, /etc/hosts)
// is accepted (file_checksum only reads); credentials are still refused.
func TestBaselineReadRules(t *testing.T) {
	env := servertest.New(t)
	admin := env.Token("admin")
	hash := strings.Repeat("ab", 32)
	for _, p := range []string{"/etc/ssh/sshd_config", "/etc/hosts", "/etc/passwd"} {
		if st, b := env.Do("POST", "/api/baselines", admin, map[string]any{"path": p, "expected_hash": hash}); st != 200 {
			t.Errorf("baseline of %s: %d %s", p, st, b)
		}
	}
	for p, want := range map[string]string{
		"/etc/shadow":                   "Path '/etc/shadow' is on the denylist",
		"/root/.ssh/id_ed25519":         "Path '/root/.ssh/id_ed25519' holds secrets and is never read",
		"/etc/ssh/ssh_host_ed25519_key": "Path '/etc/ssh/ssh_host_ed25519_key' holds secrets and is never read",
	} {
		if st, b := env.Do("POST", "/api/baselines", admin, map[string]any{"path": p, "expected_hash": hash}); st != 400 || errMsg(b) != want {
			t.Errorf("baseline of %s: %d %s", p, st, b)
		}
	}
}
