package reports_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/noba-go/noba/internal/server/servertest"
)

func TestLogsRunbooksGrafana(t *testing.T) {
	env := servertest.New(t)
	admin, op, viewer := env.Token("admin"), env.Token("operator"), env.Token("viewer")
	var c struct{ Content string }
	if err := os.WriteFile(filepath.Join(env.Dir, "noba-action.log"), []byte(">> [14:32:01] Initiating: backup\n\x1b[32m[INFO]\x1b[0m done\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if st := env.JSON(http.MethodGet, "/api/log-viewer?type=action", op, nil, &c); st != http.StatusOK || !strings.Contains(c.Content, "[INFO] done") || strings.Contains(c.Content, "\x1b") {
		t.Fatalf("action log: %d %q", st, c.Content)
	}
	for typ, want := range map[string]string{"backup": "No log.", "nope": "Unknown log type."} {
		if st := env.JSON(http.MethodGet, "/api/log-viewer?type="+typ, op, nil, &c); st != http.StatusOK || c.Content != want {
			t.Errorf("log %s: %d %q", typ, st, c.Content)
		}
	}
	var lines []string
	for i := 0; i < 40; i++ {
		lines = append(lines, "line "+string(rune('a'+i%26)))
	}
	_ = os.WriteFile(filepath.Join(env.Dir, "cloud-backup.log"), []byte(strings.Join(lines, "\n")+"\n"), 0o644)
	if env.JSON(http.MethodGet, "/api/log-viewer?type=cloud", op, nil, &c); len(strings.Split(c.Content, "\n")) != 30 {
		t.Fatalf("cloud log not the last 30 lines: %q", c.Content)
	}

	var rb []map[string]any
	if st := env.JSON(http.MethodGet, "/api/runbooks", viewer, nil, &rb); st != http.StatusOK || len(rb) != 0 {
		t.Fatalf("runbooks empty: %d %v", st, rb)
	}
	env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"runbooks": []any{map[string]any{"id": "dns", "title": "DNS down", "steps": []string{"check pihole"}}, map[string]any{"title": "no id"}}})
	if st := env.JSON(http.MethodGet, "/api/runbooks", viewer, nil, &rb); st != http.StatusOK || len(rb) != 1 || rb[0]["id"] != "dns" {
		t.Fatalf("runbooks: %d %v", st, rb)
	}
	var one map[string]any
	if st := env.JSON(http.MethodGet, "/api/runbooks/dns", viewer, nil, &one); st != http.StatusOK || one["title"] != "DNS down" {
		t.Fatalf("runbook: %d %v", st, one)
	}
	var e struct{ Error string }
	if st := env.JSON(http.MethodGet, "/api/runbooks/zzz", viewer, nil, &e); st != http.StatusNotFound || e.Error != "Runbook not found" {
		t.Fatalf("missing runbook: %d %v", st, e)
	}

	var g struct {
		Dashboard struct {
			Title  string `json:"title"`
			Panels []struct {
				Title   string `json:"title"`
				Targets []struct{ Expr string }
			} `json:"panels"`
		} `json:"dashboard"`
	}
	if st := env.JSON(http.MethodGet, "/api/grafana/dashboard", viewer, nil, &g); st != http.StatusOK || len(g.Dashboard.Panels) != 5 || len(g.Dashboard.Panels[3].Targets) != 2 {
		t.Fatalf("grafana: %d %+v", st, g)
	}
	var bw map[string]any
	if st := env.JSON(http.MethodGet, "/api/reports/bandwidth", viewer, nil, &bw); st != http.StatusOK || bw["total_rx"] != "0.0B" {
		t.Fatalf("bandwidth: %d %v", st, bw)
	}
	if st, _ := env.Do(http.MethodPost, "/api/reports/custom", viewer, map[string]any{}); st != http.StatusForbidden {
		t.Fatalf("viewer custom: %d", st)
	}
	var cr map[string]any
	if st := env.JSON(http.MethodPost, "/api/reports/custom", op, map[string]any{"title": "Mine"}, &cr); st != http.StatusOK || cr["title"] != "Mine" {
		t.Fatalf("custom: %d %v", st, cr)
	}
}

func TestGraylogSearch(t *testing.T) {
	var gotAuth, gotQuery, gotHeader string
	gl := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/search/universal/relative" {
			http.NotFound(w, r)
			return
		}
		gotAuth, gotQuery, gotHeader = r.Header.Get("Authorization"), r.URL.RawQuery, r.Header.Get("X-Requested-By")
		_ = json.NewEncoder(w).Encode(map[string]any{"total_results": 1, "messages": []any{map[string]any{"message": map[string]any{
			"timestamp": "2026-01-01T00:00:00.000Z", "source": "web01", "message": strings.Repeat("m", 300), "level": 3, "facility": "nginx"}}}})
	}))
	defer gl.Close()
	env := servertest.New(t)
	admin, op, viewer := env.Token("admin"), env.Token("operator"), env.Token("viewer")
	var e struct{ Error string }
	if st := env.JSON(http.MethodGet, "/api/graylog/search", op, nil, &e); st != http.StatusNotFound || e.Error != "Graylog not configured" {
		t.Fatalf("unconfigured: %d %v", st, e)
	}
	if st, _ := env.Do(http.MethodGet, "/api/graylog/search", viewer, nil); st != http.StatusForbidden {
		t.Fatalf("viewer: %d", st)
	}
	env.Do(http.MethodPost, "/api/settings", admin, map[string]any{"graylogUrl": gl.URL, "graylogToken": "tok123"})
	var res struct {
		Total    int              `json:"total"`
		Status   string           `json:"status"`
		Query    string           `json:"query"`
		Messages []map[string]any `json:"messages"`
	}
	if st := env.JSON(http.MethodGet, "/api/graylog/search?q=level:3&hours=2", op, nil, &res); st != http.StatusOK || res.Status != "online" || res.Total != 1 || res.Query != "level:3" {
		t.Fatalf("search: %d %+v", st, res)
	}
	if len(res.Messages[0]["message"].(string)) != 200 || res.Messages[0]["source"] != "web01" {
		t.Fatalf("message: %v", res.Messages[0])
	}
	if gotAuth != "Basic "+base64.StdEncoding.EncodeToString([]byte("tok123:token")) || gotHeader != "noba" ||
		!strings.Contains(gotQuery, "range=7200") || !strings.Contains(gotQuery, "limit=50") {
		t.Fatalf("request: %q %q %q", gotAuth, gotQuery, gotHeader)
	}
	if st := env.JSON(http.MethodGet, "/api/graylog/search?hours=500", op, nil, &res); st != http.StatusOK || !strings.Contains(gotQuery, "range=604800") {
		t.Fatalf("hours not clamped to 168: %d %q", st, gotQuery)
	}
	if st, _ := env.Do(http.MethodGet, "/api/graylog/search?hours=x", op, nil); st != http.StatusBadRequest {
		t.Fatalf("bad hours: %d", st)
	}
	gl.Close()
	var off map[string]any
	if st := env.JSON(http.MethodGet, "/api/graylog/search", op, nil, &off); st != http.StatusOK || off["status"] != "offline" {
		t.Fatalf("offline: %d %v", st, off)
	}
}
