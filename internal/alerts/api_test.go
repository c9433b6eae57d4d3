package alerts_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/alerts"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/server/servertest"
)

type auditRow struct {
	Action, Details, Username string
}

func auditOf(t *testing.T, env *servertest.Env, action string) []auditRow {
	t.Helper()
	var rows []auditRow
	if st := env.JSON(http.MethodGet, "/api/audit?action="+action, env.Token("admin"), nil, &rows); st != http.StatusOK {
		t.Fatalf("audit: %d", st)
	}
	return rows
}

func errMsg(t *testing.T, b []byte) string {
	t.Helper()
	var e struct{ Error, Detail string }
	if err := json.Unmarshal(b, &e); err != nil || e.Error != e.Detail {
		t.Fatalf("error body %s", b)
	}
	return e.Error
}

func TestAlertRulesAPI(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")

	var rules []map[string]any
	if st := env.JSON(http.MethodGet, "/api/alert-rules", viewer, nil, &rules); st != http.StatusOK || len(rules) != 0 {
		t.Fatalf("empty list: %d %v", st, rules)
	}
	if st, _ := env.Do(http.MethodPost, "/api/alert-rules", viewer, map[string]any{"condition": "cpuPercent > 1"}); st != http.StatusForbidden {
		t.Errorf("viewer create: got %d, want 403", st)
	}

	bad := []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"condition": ">"}, "Invalid condition fragment: '>' — expected 'metric operator number' (e.g. cpuPercent > 90)"},
		{map[string]any{}, "Condition is required"},
		{map[string]any{"condition": "cpu > 1", "severity": "loud"}, "Invalid severity 'loud' — expected info, warning, danger or critical"},
		{map[string]any{"condition": "cpu > 1", "channels": []any{"pager"}}, "Unknown channel 'pager' in channels — expected email, telegram, discord, slack, pushover, gotify, ntfy, webhook"},
		{map[string]any{"condition": "cpu > 1", "cooldown": "soon"}, "cooldown must be a whole number of seconds (0 or more)"},
		{map[string]any{"condition": "cpu > 1", "escalation": []any{map[string]any{"delay_minutes": -1}}}, "escalation[0].delay_minutes must be a number of minutes (0 or more)"},
	}
	for _, b := range bad {
		st, body := env.Do(http.MethodPost, "/api/alert-rules", admin, b.body)
		if st != http.StatusBadRequest || errMsg(t, body) != b.want {
			t.Errorf("POST %v: got %d %s, want 400 %q", b.body, st, body, b.want)
		}
	}

	var created struct{ Status, ID string }
	st := env.JSON(http.MethodPost, "/api/alert-rules", admin, map[string]any{"id": "cpu", "condition": "cpuPercent > 90",
		"autonomy": "notify", "escalation_chain": []any{map[string]any{"action": "restart_service"}},
		"action": map[string]any{"type": "webhook", "params": map[string]any{"token": "hunter2-secret"}}}, &created)
	if st != http.StatusOK || created.ID != "cpu" || created.Status != "ok" {
		t.Fatalf("create: %d %+v", st, created)
	}
	if st, body := env.Do(http.MethodPost, "/api/alert-rules", admin, map[string]any{"id": "cpu", "condition": "memPercent > 1"}); st != http.StatusConflict {
		t.Errorf("duplicate id: got %d %s, want 409", st, body)
	}
	var gen struct{ ID string }
	env.JSON(http.MethodPost, "/api/alert-rules", admin, map[string]any{"condition": "memPercent > 95"}, &gen)
	if len(gen.ID) != 8 {
		t.Errorf("generated id %q, want 8 hex chars", gen.ID)
	}

	env.JSON(http.MethodGet, "/api/alert-rules", viewer, nil, &rules)
	if len(rules) != 2 {
		t.Fatalf("got %d rules, want 2", len(rules))
	}
	r0 := rules[0]
	if r0["autonomy"] != "notify" || r0["escalation_chain"] == nil || r0["severity"] != "warning" || r0["message"] != "cpuPercent > 90" ||
		r0["cooldown"] != float64(300) || r0["max_retries"] != float64(3) {
		t.Errorf("stored rule lost fields or defaults: %v", r0)
	}
	raw, _ := json.Marshal(rules)
	if strings.Contains(string(raw), "hunter2-secret") {
		t.Errorf("GET /api/alert-rules leaks a secret: %s", raw)
	}

	// Update: 404, 400, then a change; the masked secret posted back stays.
	if st, body := env.Do(http.MethodPut, "/api/alert-rules/nope", admin, map[string]any{"severity": "danger"}); st != http.StatusNotFound || errMsg(t, body) != "Rule not found" {
		t.Errorf("update missing: %d %s", st, body)
	}
	if st, body := env.Do(http.MethodPut, "/api/alert-rules/cpu", admin, map[string]any{"condition": "cpu >"}); st != http.StatusBadRequest ||
		!strings.HasPrefix(errMsg(t, body), "Invalid condition fragment: 'cpu >'") {
		t.Errorf("update bad condition: %d %s", st, body)
	}
	if st, body := env.Do(http.MethodPut, "/api/alert-rules/cpu", admin, map[string]any{"severity": "danger", "action": r0["action"]}); st != http.StatusOK {
		t.Errorf("update: %d %s", st, body)
	}
	if f := settingsFile(t, env); !strings.Contains(f, "ENC:") || strings.Contains(f, "hunter2-secret") {
		t.Errorf("the action token is not encrypted at rest")
	}
	checkSecret(t, env)

	// Batch replace: shape, per-rule message, duplicate ids.
	if st, body := env.Do(http.MethodPut, "/api/alert-rules", admin, map[string]any{"rules": "x"}); st != http.StatusBadRequest || errMsg(t, body) != "Expected {rules: [...]}" {
		t.Errorf("batch shape: %d %s", st, body)
	}
	if st, body := env.Do(http.MethodPut, "/api/alert-rules", admin, map[string]any{"rules": []any{
		map[string]any{"id": "a", "condition": "cpu > 1"}, map[string]any{"id": "b", "condition": "cpu >> 1"}}}); st != http.StatusBadRequest ||
		!strings.HasPrefix(errMsg(t, body), "Rule #2: Invalid condition fragment: 'cpu >> 1'") {
		t.Errorf("batch validation: %d %s", st, body)
	}
	if st, _ := env.Do(http.MethodPut, "/api/alert-rules", admin, map[string]any{"rules": []any{
		map[string]any{"id": "a", "condition": "cpu > 1"}, map[string]any{"id": "a", "condition": "cpu > 2"}}}); st != http.StatusConflict {
		t.Errorf("batch duplicate: got %d, want 409", st)
	}
	env.JSON(http.MethodGet, "/api/alert-rules", viewer, nil, &rules)
	batch := append(rules, map[string]any{"condition": "disk_percent > 90", "custom": "kept"})
	var bout struct {
		Status string
		Count  int
	}
	if st := env.JSON(http.MethodPut, "/api/alert-rules", admin, map[string]any{"rules": batch}, &bout); st != http.StatusOK || bout.Count != 3 {
		t.Fatalf("batch: %d %+v", st, bout)
	}
	checkSecret(t, env)
	env.JSON(http.MethodGet, "/api/alert-rules", viewer, nil, &rules)
	if len(rules) != 3 || rules[2]["custom"] != "kept" || rules[2]["id"] == nil || rules[0]["severity"] != "danger" {
		t.Errorf("after batch: %v", rules)
	}

	// Delete.
	if st, _ := env.Do(http.MethodDelete, "/api/alert-rules/cpu", admin, nil); st != http.StatusOK {
		t.Errorf("delete: %d", st)
	}
	if st, _ := env.Do(http.MethodDelete, "/api/alert-rules/cpu", admin, nil); st != http.StatusNotFound {
		t.Errorf("delete again: %d", st)
	}

	// Test endpoint: unknown id, then a known one (no snapshot yet: false).
	if st, _ := env.Do(http.MethodGet, "/api/alert-rules/test/cpu", admin, nil); st != http.StatusNotFound {
		t.Errorf("test missing: %d", st)
	}
	var tr struct {
		RuleID, Condition string
		Result            bool
		AvailableMetrics  []string `json:"available_metrics"`
	}
	if st := env.JSON(http.MethodGet, "/api/alert-rules/test/"+gen.ID, admin, nil, &tr); st != http.StatusOK || tr.Condition != "memPercent > 95" || tr.Result {
		t.Errorf("test: %d %+v", st, tr)
	}

	// Every change is in the audit log.
	for action, want := range map[string]string{"alert_rule_create": "Created rule 'cpu'", "alert_rule_update": "Updated rule 'cpu'",
		"alert_rules_batch": "Saved 3 rules", "alert_rule_delete": "Deleted rule 'cpu'"} {
		rows := auditOf(t, env, action)
		found := false
		for _, r := range rows {
			found = found || (r.Details == want && r.Username == servertest.AdminUser)
		}
		if !found {
			t.Errorf("audit %s: got %+v, want %q", action, rows, want)
		}
	}

	// SLA of a rule that never fired, history empty.
	var sla float64
	if st := env.JSON(http.MethodGet, "/api/sla/"+gen.ID, viewer, nil, &sla); st != http.StatusOK || sla != 100 {
		t.Errorf("sla: %d %v", st, sla)
	}
	if st, body := env.Do(http.MethodGet, "/api/sla/x?window=abc", viewer, nil); st != http.StatusBadRequest || errMsg(t, body) != "Invalid window parameter" {
		t.Errorf("sla bad window: %d %s", st, body)
	}
	var hist []alerts.AlertRecord
	if st := env.JSON(http.MethodGet, "/api/alert-history?limit=5", viewer, nil, &hist); st != http.StatusOK || len(hist) != 0 {
		t.Errorf("history: %d %v", st, hist)
	}
	if st, _ := env.Do(http.MethodGet, "/api/alert-history?limit=x", viewer, nil); st != http.StatusBadRequest {
		t.Errorf("history bad limit: %d", st)
	}
}

// checkSecret asserts the cpu rule's action token survived masked round trips.
func checkSecret(t *testing.T, env *servertest.Env) {
	t.Helper()
	l, _ := env.Server.Settings.Get()["alertRules"].([]any)
	for _, x := range l {
		m, _ := x.(map[string]any)
		if m["id"] != "cpu" {
			continue
		}
		a, _ := m["action"].(map[string]any)
		p, _ := a["params"].(map[string]any)
		if p["token"] != "hunter2-secret" {
			t.Errorf("stored secret after a masked round trip: %v", m["action"])
		}
		return
	}
	t.Errorf("rule cpu not stored")
}

func settingsFile(t *testing.T, env *servertest.Env) string {
	t.Helper()
	b, err := os.ReadFile(env.Server.Settings.Path())
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestNotificationsPerUserReadState(t *testing.T) {
	env := servertest.New(t)
	admin, viewer, op := env.Token("admin"), env.Token("viewer"), env.Token("operator")
	st := alerts.NewStore(env.Server.DB)
	ctx := context.Background()
	now := time.Now().Unix()
	bid, _ := st.AddNotification(ctx, now-10, "", "warning", "Broadcast", "for everyone")
	vid, _ := st.AddNotification(ctx, now-5, "t-viewer", "info", "Mine", "viewer only")
	if _, err := st.AddNotification(ctx, now, "t-operator", "info", "Theirs", "operator only"); err != nil {
		t.Fatal(err)
	}
	type list struct {
		Notifications []alerts.InAppNotification
		Unread        int `json:"unread_count"`
	}
	var l list
	env.JSON(http.MethodGet, "/api/notifications", viewer, nil, &l)
	if len(l.Notifications) != 2 || l.Unread != 2 || l.Notifications[0].ID != vid || l.Notifications[1].Username != nil {
		t.Fatalf("viewer list: %+v", l)
	}
	// Reading the broadcast as viewer leaves it unread for the operator (§13 F12).
	if s, _ := env.Do(http.MethodPost, fmt.Sprintf("/api/notifications/%d/read", bid), viewer, nil); s != http.StatusOK {
		t.Fatalf("read: %d", s)
	}
	env.JSON(http.MethodGet, "/api/notifications?unread=1", viewer, nil, &l)
	if len(l.Notifications) != 1 || l.Notifications[0].ID != vid || l.Unread != 1 {
		t.Errorf("viewer unread: %+v", l)
	}
	env.JSON(http.MethodGet, "/api/notifications", op, nil, &l)
	if l.Unread != 2 || len(l.Notifications) != 2 {
		t.Errorf("operator: %+v", l)
	}
	// Marking someone else's row does nothing; a bad id is 400.
	env.Do(http.MethodPost, fmt.Sprintf("/api/notifications/%d/read", vid), op, nil)
	env.JSON(http.MethodGet, "/api/notifications?limit=1", viewer, nil, &l)
	if l.Unread != 1 || len(l.Notifications) != 1 || l.Notifications[0].Read {
		t.Errorf("viewer after operator read: %+v", l)
	}
	if s, body := env.Do(http.MethodPost, "/api/notifications/abc/read", viewer, nil); s != http.StatusBadRequest || errMsg(t, body) != "Invalid notif_id" {
		t.Errorf("bad id: %d %s", s, body)
	}
	env.Do(http.MethodPost, "/api/notifications/read-all", viewer, nil)
	env.JSON(http.MethodGet, "/api/notifications", viewer, nil, &l)
	if l.Unread != 0 || !l.Notifications[0].Read || !l.Notifications[1].Read {
		t.Errorf("after read-all: %+v", l)
	}
	env.JSON(http.MethodGet, "/api/notifications", admin, nil, &l)
	if l.Unread != 1 || len(l.Notifications) != 1 {
		t.Errorf("admin sees only the broadcast, unread: %+v", l)
	}

	// No channel configured: the test endpoint says so.
	var tn struct{ Status, Message string }
	if s := env.JSON(http.MethodPost, "/api/notifications/test", admin, nil, &tn); s != http.StatusOK || tn.Message != "No notification channels configured" {
		t.Errorf("test notification: %d %+v", s, tn)
	}
}

func TestMaintenanceWindowsAPI(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")
	now := time.Now().Unix()
	bad := []struct {
		body map[string]any
		want string
	}{
		{map[string]any{"schedule": "* * * * *"}, "name is required"},
		{map[string]any{"name": "x", "schedule": "61 * * * *"}, "Invalid schedule '61 * * * *'"},
		{map[string]any{"name": "x"}, "Provide a cron schedule or one_off_start and one_off_end"},
		{map[string]any{"name": "x", "one_off_start": now}, "one_off_start and one_off_end must be given together"},
		{map[string]any{"name": "x", "one_off_start": now, "one_off_end": now - 5}, "one_off_end must not be before one_off_start"},
		{map[string]any{"name": "x", "schedule": "0 3 * * *", "override_autonomy": "yolo"}, "override_autonomy must be execute, notify, approve, disabled or null"},
		{map[string]any{"name": "x", "schedule": "0 3 * * *", "duration_min": 0}, "duration_min must be a whole number of minutes between 1 and 525600"},
	}
	for _, b := range bad {
		st, body := env.Do(http.MethodPost, "/api/maintenance-windows", admin, b.body)
		if st != http.StatusBadRequest || !strings.HasPrefix(errMsg(t, body), b.want) {
			t.Errorf("POST %v: %d %s, want %q", b.body, st, body, b.want)
		}
	}
	if st, _ := env.Do(http.MethodPost, "/api/maintenance-windows", viewer, map[string]any{"name": "x"}); st != http.StatusForbidden {
		t.Errorf("viewer create: %d", st)
	}
	var c1, c2, c3 struct {
		ID     int64
		Status string
	}
	env.JSON(http.MethodPost, "/api/maintenance-windows", admin, map[string]any{"name": "now", "one_off_start": now - 60, "one_off_end": now + 3600}, &c1)
	env.JSON(http.MethodPost, "/api/maintenance-windows", admin, map[string]any{"name": "always", "schedule": "* * * * *", "duration_min": 5,
		"suppress_alerts": false, "override_autonomy": "approve"}, &c2)
	env.JSON(http.MethodPost, "/api/maintenance-windows", admin, map[string]any{"name": "past", "one_off_start": now - 7200, "one_off_end": now - 3600}, &c3)
	if c1.ID == 0 || c2.ID == 0 || c3.ID == 0 || c1.Status != "ok" {
		t.Fatalf("create: %+v %+v %+v", c1, c2, c3)
	}
	var ws []alerts.MaintenanceWindow
	env.JSON(http.MethodGet, "/api/maintenance-windows", viewer, nil, &ws)
	if len(ws) != 3 || ws[0].ID != c3.ID || !ws[2].SuppressAlerts || ws[1].SuppressAlerts || ws[2].CreatedBy != servertest.AdminUser || !ws[0].Enabled {
		t.Errorf("list: %+v", ws)
	}
	env.JSON(http.MethodGet, "/api/maintenance-windows/active", viewer, nil, &ws)
	if len(ws) != 2 {
		t.Errorf("active: got %d windows, want 2: %+v", len(ws), ws)
	}
	// Disable one; unknown ids and empty updates.
	if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/maintenance-windows/%d", c2.ID), admin, map[string]any{"enabled": false, "bogus": 1}); st != http.StatusOK {
		t.Errorf("update: %d", st)
	}
	env.JSON(http.MethodGet, "/api/maintenance-windows/active", viewer, nil, &ws)
	if len(ws) != 1 || ws[0].ID != c1.ID {
		t.Errorf("active after disable: %+v", ws)
	}
	if st, body := env.Do(http.MethodPut, "/api/maintenance-windows/999", admin, map[string]any{"enabled": true}); st != http.StatusNotFound || errMsg(t, body) != "Window not found" {
		t.Errorf("update missing: %d %s", st, body)
	}
	if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/maintenance-windows/%d", c1.ID), admin, map[string]any{"bogus": 1}); st != http.StatusBadRequest {
		t.Errorf("update with no field: %d", st)
	}
	if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/maintenance-windows/%d", c3.ID), admin, nil); st != http.StatusOK {
		t.Errorf("delete: %d", st)
	}
	if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/maintenance-windows/%d", c3.ID), admin, nil); st != http.StatusNotFound {
		t.Errorf("delete again: %d", st)
	}
	if st, _ := env.Do(http.MethodDelete, "/api/maintenance-windows/x", admin, nil); st != http.StatusBadRequest {
		t.Errorf("delete bad id: %d", st)
	}
	for _, a := range []string{"maintenance_window_create", "maintenance_window_update", "maintenance_window_delete"} {
		if len(auditOf(t, env, a)) == 0 {
			t.Errorf("no audit %s", a)
		}
	}
}

// writeConfig returns a servertest config edit that writes config.yaml.
func writeConfig(yaml string) servertest.Config {
	return func(c *config.Config) {
		if err := os.WriteFile(c.ConfigPath, []byte(yaml), 0o600); err != nil {
			panic(err)
		}
	}
}
