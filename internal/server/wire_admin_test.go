package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

// TestBackupSchedulesThroughAutomations drives the backups room's
// automations seam: the in-process adapter calls the automations routes
// (served here by a stand-in speaking their documented shapes) with the
// caller's session, and the backup routes filter and forward.
func TestBackupSchedulesThroughAutomations(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")
	var mu sync.Mutex
	var auths []string
	var created map[string]any
	// With the automations room merged in, its own routes answer: check the
	// round trip against it instead of the stand-in.
	if st, _ := env.Do(http.MethodGet, "/api/automations", admin, nil); st != http.StatusNotFound {
		var out struct{ ID, Status string }
		if st, b := env.Do(http.MethodPost, "/api/backup/schedule", admin, map[string]any{"type": "verify", "schedule": "30 4 * * 0"}); st != http.StatusOK {
			t.Fatalf("create schedule with the automations room: %d %s", st, b)
		} else {
			_ = json.Unmarshal(b, &out)
		}
		var sch []map[string]any
		env.JSON(http.MethodGet, "/api/backup/schedules", viewer, nil, &sch)
		found := false
		for _, a := range sch {
			found = found || a["name"] == "Scheduled verify"
		}
		if !found {
			t.Fatalf("created schedule %q not listed: %v", out.ID, sch)
		}
		return
	}
	mux := env.Server.Router.Mux
	mux.HandleFunc("GET /api/automations", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Query().Get("type") != "script" {
			t.Errorf("list query: %s", r.URL.RawQuery)
		}
		_ = json.NewEncoder(w).Encode([]map[string]any{
			{"id": "a1", "name": "Nightly", "type": "script", "config": map[string]any{"script": "backup"}, "schedule": "0 3 * * *", "enabled": true},
			{"id": "a2", "name": "Speed", "type": "script", "config": map[string]any{"script": "speedtest"}, "schedule": "0 * * * *", "enabled": true},
		})
	})
	mux.HandleFunc("POST /api/automations", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		auths = append(auths, r.Header.Get("Authorization"))
		_ = json.NewDecoder(r.Body).Decode(&created)
		mu.Unlock()
		_ = json.NewEncoder(w).Encode(map[string]any{"id": "abc123def456", "status": "ok"})
	})
	mux.HandleFunc("GET /api/runs", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode([]map[string]any{
			{"id": 7, "trigger": "script:backup", "started_at": 1700000000, "status": "running"},
			{"id": 8, "trigger": "schedule:a1:backup", "started_at": 1700000100, "status": "running"},
			{"id": 9, "trigger": "script:speedtest", "started_at": 1700000200, "status": "running"},
		})
	})

	var sch []map[string]any
	if st := env.JSON(http.MethodGet, "/api/backup/schedules", viewer, nil, &sch); st != http.StatusOK || len(sch) != 1 || sch[0]["id"] != "a1" {
		t.Fatalf("schedules: %d %v", st, sch)
	}
	var out struct{ ID, Status string }
	if st := env.JSON(http.MethodPost, "/api/backup/schedule", admin, map[string]any{"type": "verify", "schedule": "30 4 * * 0"}, &out); st != http.StatusOK || out.ID != "abc123def456" || out.Status != "ok" {
		t.Fatalf("create schedule: %d %+v", st, out)
	}
	mu.Lock()
	cfg, _ := created["config"].(map[string]any)
	if created["name"] != "Scheduled verify" || created["type"] != "script" || created["schedule"] != "30 4 * * 0" || cfg["script"] != "verify" || created["enabled"] != true {
		t.Errorf("created automation: %v", created)
	}
	for _, a := range auths {
		if !strings.HasPrefix(a, "Bearer ") || (a != "Bearer "+viewer && a != "Bearer "+admin) {
			t.Errorf("forwarded authorization %q is not the caller's session", a)
		}
	}
	mu.Unlock()
	var pr struct {
		Running bool `json:"running"`
		Jobs    []struct {
			RunID   int64  `json:"run_id"`
			Trigger string `json:"trigger"`
		} `json:"jobs"`
	}
	if st := env.JSON(http.MethodGet, "/api/backup/progress", viewer, nil, &pr); st != http.StatusOK || !pr.Running || len(pr.Jobs) != 2 || pr.Jobs[1].Trigger != "schedule:a1:backup" {
		t.Fatalf("progress: %d %+v", st, pr)
	}
	if st, _ := env.Do(http.MethodPost, "/api/backup/schedule", admin, map[string]any{"schedule": "not cron"}); st != http.StatusBadRequest {
		t.Fatalf("bad cron: %d", st)
	}
}
