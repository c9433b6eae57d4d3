package dashboards_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

type dash struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	Owner      string `json:"owner"`
	ConfigJSON string `json:"config_json"`
	Shared     bool   `json:"shared"`
	CreatedAt  int64  `json:"created_at"`
	UpdatedAt  int64  `json:"updated_at"`
}

type errBody struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
}

func TestDashboardsCRUD(t *testing.T) {
	env := servertest.New(t)
	admin, op, viewer := env.Token("admin"), env.Token("operator"), env.Token("viewer")
	// A second operator, to check ownership.
	if st, b := env.Do(http.MethodPost, "/api/admin/users", admin, map[string]any{"action": "add", "username": "op2",
		"password": servertest.UserPassword, "role": "operator"}); st != http.StatusOK {
		t.Fatalf("add op2: %d %s", st, b)
	}
	op2 := env.Login("op2", servertest.UserPassword)

	var list []dash
	if st := env.JSON(http.MethodGet, "/api/dashboards", viewer, nil, &list); st != http.StatusOK || len(list) != 0 {
		t.Fatalf("empty list: %d %v", st, list)
	}

	// Validation: nothing is created.
	for _, c := range []struct {
		body any
		msg  string
	}{
		{map[string]any{"name": "  ", "config_json": "{}"}, "Dashboard name is required"},
		{map[string]any{"name": "Ops"}, "Dashboard config is required"},
		{map[string]any{"name": "Ops", "config_json": ""}, "Dashboard config is required"},
		{map[string]any{"name": "Ops", "config_json": "{not json"}, "config_json must be valid JSON"},
	} {
		var e errBody
		if st := env.JSON(http.MethodPost, "/api/dashboards", op, c.body, &e); st != http.StatusBadRequest || e.Error != c.msg || e.Detail != c.msg {
			t.Errorf("create %v: %d %+v, want 400 %q", c.body, st, e, c.msg)
		}
	}
	if st, _ := env.Do(http.MethodPost, "/api/dashboards", viewer, map[string]any{"name": "V", "config_json": "{}"}); st != http.StatusForbidden {
		t.Fatalf("viewer create: %d, want 403", st)
	}

	var created struct {
		Status string `json:"status"`
		ID     int64  `json:"id"`
	}
	if st := env.JSON(http.MethodPost, "/api/dashboards", op, map[string]any{"name": " Ops ", "config_json": `{"metrics":["cpu_percent"],"range":24}`}, &created); st != http.StatusOK || created.Status != "ok" || created.ID <= 0 {
		t.Fatalf("create: %d %+v", st, created)
	}
	opsID := created.ID
	// An object config is serialised; shared makes it visible to everyone.
	if st := env.JSON(http.MethodPost, "/api/dashboards", op2, map[string]any{"name": "Shared board", "config_json": map[string]any{"cardOrder": []string{"cpu"}}, "shared": true}, &created); st != http.StatusOK {
		t.Fatalf("create shared: %d", st)
	}
	sharedID := created.ID

	if st := env.JSON(http.MethodGet, "/api/dashboards", op, nil, &list); st != http.StatusOK || len(list) != 2 {
		t.Fatalf("op list: %d %+v", st, list)
	}
	if list[0].Name != "Ops" || list[0].Owner != "t-operator" || list[0].ConfigJSON != `{"metrics":["cpu_percent"],"range":24}` || list[0].Shared || list[0].CreatedAt == 0 {
		t.Errorf("first dashboard: %+v", list[0])
	}
	if list[1].Name != "Shared board" || list[1].ConfigJSON != `{"cardOrder":["cpu"]}` || !list[1].Shared {
		t.Errorf("shared dashboard: %+v", list[1])
	}
	// The viewer sees only the shared one.
	if st := env.JSON(http.MethodGet, "/api/dashboards", viewer, nil, &list); st != http.StatusOK || len(list) != 1 || list[0].ID != sharedID {
		t.Fatalf("viewer list: %d %+v", st, list)
	}

	// Only the owner or an admin changes a dashboard.
	var e errBody
	if st := env.JSON(http.MethodPut, fmt.Sprintf("/api/dashboards/%d", opsID), op2, map[string]any{"name": "Mine"}, &e); st != http.StatusForbidden || e.Error != "Only the owner or an admin can update this dashboard" {
		t.Fatalf("non-owner update: %d %+v", st, e)
	}
	if st := env.JSON(http.MethodDelete, fmt.Sprintf("/api/dashboards/%d", opsID), op2, nil, &e); st != http.StatusForbidden || e.Error != "Only the owner or an admin can delete this dashboard" {
		t.Fatalf("non-owner delete: %d %+v", st, e)
	}
	if st := env.JSON(http.MethodPut, "/api/dashboards/999", op, map[string]any{"name": "x"}, &e); st != http.StatusNotFound || e.Error != "Dashboard not found" {
		t.Fatalf("missing update: %d %+v", st, e)
	}
	if st, _ := env.Do(http.MethodPut, "/api/dashboards/abc", op, map[string]any{"name": "x"}); st != http.StatusBadRequest {
		t.Fatalf("non-int id: %d, want 400", st)
	}
	if st := env.JSON(http.MethodPut, fmt.Sprintf("/api/dashboards/%d", opsID), op, map[string]any{"config_json": "{bad"}, &e); st != http.StatusBadRequest {
		t.Fatalf("bad config update: %d", st)
	}
	if st := env.JSON(http.MethodPut, fmt.Sprintf("/api/dashboards/%d", opsID), op, map[string]any{"name": "  "}, &e); st != http.StatusNotFound || e.Error != "Dashboard not found or no changes" {
		t.Fatalf("no-change update: %d %+v", st, e)
	}
	if st, b := env.Do(http.MethodPut, fmt.Sprintf("/api/dashboards/%d", opsID), op, map[string]any{"name": "Ops 2", "shared": true}); st != http.StatusOK || !strings.Contains(string(b), `"ok"`) {
		t.Fatalf("owner update: %d %s", st, b)
	}
	// POST is an alias of PUT (the established UI edits with POST); admins may edit any.
	if st, b := env.Do(http.MethodPost, fmt.Sprintf("/api/dashboards/%d", sharedID), admin, map[string]any{"config_json": []any{1, 2}}); st != http.StatusOK {
		t.Fatalf("admin POST alias: %d %s", st, b)
	}
	if st := env.JSON(http.MethodGet, "/api/dashboards", viewer, nil, &list); st != http.StatusOK || len(list) != 2 || list[0].Name != "Ops 2" || list[1].ConfigJSON != "[1,2]" {
		t.Fatalf("after updates: %d %+v", st, list)
	}
	if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/dashboards/%d", sharedID), viewer, nil); st != http.StatusForbidden {
		t.Fatalf("viewer delete: %d", st)
	}
	if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/dashboards/%d", sharedID), admin, nil); st != http.StatusOK {
		t.Fatalf("admin delete: %d", st)
	}
	if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/dashboards/%d", sharedID), admin, nil); st != http.StatusNotFound {
		t.Fatalf("second delete: %d", st)
	}
	// Audit trail.
	var audit []struct {
		Action  string `json:"action"`
		Details string `json:"details"`
	}
	env.JSON(http.MethodGet, "/api/audit?limit=50", admin, nil, &audit)
	seen := map[string]bool{}
	for _, a := range audit {
		seen[a.Action] = true
	}
	for _, want := range []string{"dashboard_create", "dashboard_update", "dashboard_delete"} {
		if !seen[want] {
			t.Errorf("audit lacks %s: %+v", want, audit)
		}
	}
}
