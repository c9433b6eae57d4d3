package monitoring_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/monitoring"
	"github.com/noba-go/noba/internal/server/servertest"
)

type publicStatus struct {
	Components      []map[string]any `json:"components"`
	Services        []map[string]any `json:"services"`
	ActiveIncidents []map[string]any `json:"active_incidents"`
	UptimeHistory   []struct {
		Date          string `json:"date"`
		Incidents     int    `json:"incidents"`
		WorstSeverity string `json:"worst_severity"`
		NoData        bool   `json:"no_data"`
	} `json:"uptime_history"`
	Overall   string `json:"overall"`
	Timestamp int64  `json:"timestamp"`
}

func TestStatusPage(t *testing.T) {
	env := servertest.New(t)
	admin, viewer := env.Token("admin"), env.Token("viewer")

	var ps publicStatus
	if st := env.JSON(http.MethodGet, "/api/status/public", "", nil, &ps); st != http.StatusOK {
		t.Fatalf("public status without auth: %d", st)
	}
	if ps.Overall != "operational" || len(ps.Components) != 0 || len(ps.UptimeHistory) != 90 {
		t.Fatalf("empty status: %+v", ps)
	}
	today := time.Now().Format("2006-01-02")
	if last := ps.UptimeHistory[89]; last.Date != today || last.WorstSeverity != "none" {
		t.Fatalf("last history day %+v, want %s", last, today)
	}

	t.Run("components", func(t *testing.T) {
		for _, c := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{}, "name is required"},
			{map[string]any{"name": "  "}, "name is required"},
			{map[string]any{"name": "x", "display_order": "first"}, "display_order must be an integer"},
			{map[string]any{"name": "x", "monitor_id": 4242}, "monitor_id 4242 does not exist"},
		} {
			if st, b := env.Do(http.MethodPost, "/api/status/components", admin, c.body); st != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
				t.Errorf("POST %v: %d %s, want 400 %q", c.body, st, b, c.want)
			}
		}
		if st, _ := env.Do(http.MethodPost, "/api/status/components", viewer, map[string]any{"name": "x"}); st != http.StatusForbidden {
			t.Errorf("viewer create: %d", st)
		}
		var out struct{ ID int64 }
		if st := env.JSON(http.MethodPost, "/api/status/components", admin, map[string]any{"name": "tmp"}, &out); st != http.StatusOK || out.ID == 0 {
			t.Fatalf("create: %d", st)
		}
		if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/status/components/%d", out.ID), admin, map[string]any{"bogus": 1}); st != http.StatusNotFound {
			t.Errorf("PUT no fields: %d, want 404", st)
		}
		if st, _ := env.Do(http.MethodPut, "/api/status/components/999", admin, map[string]any{"name": "n"}); st != http.StatusNotFound {
			t.Errorf("PUT unknown: %d, want 404", st)
		}
		if st, _ := env.Do(http.MethodPut, "/api/status/components/x", admin, map[string]any{"name": "n"}); st != http.StatusBadRequest {
			t.Errorf("PUT bad id: %d, want 400", st)
		}
		if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/status/components/%d", out.ID), admin, map[string]any{"enabled": false, "group_name": "Hidden"}); st != http.StatusOK {
			t.Errorf("PUT: %d", st)
		}
		var list struct{ Components []monitoring.StatusComponent }
		env.JSON(http.MethodGet, "/api/status/components", viewer, nil, &list)
		if len(list.Components) != 1 || list.Components[0].Enabled || list.Components[0].GroupName != "Hidden" {
			t.Fatalf("components: %+v", list.Components)
		}
		env.JSON(http.MethodGet, "/api/status/public", "", nil, &ps)
		if len(ps.Components) != 0 {
			t.Fatalf("disabled component is public: %+v", ps.Components)
		}
		if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/status/components/%d", out.ID), admin, nil); st != http.StatusOK {
			t.Errorf("DELETE: %d", st)
		}
		if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/status/components/%d", out.ID), admin, nil); st != http.StatusNotFound {
			t.Errorf("DELETE again: %d, want 404", st)
		}
	})

	t.Run("monitor-linked", func(t *testing.T) {
		up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		defer up.Close()
		webID := createMonitor(t, env, map[string]any{"name": "web", "url": up.URL})
		dbID := createMonitor(t, env, map[string]any{"name": "db", "url": "tcp://" + freePort(t), "timeout": 1})
		checkNow(t, env, webID)
		checkNow(t, env, dbID)
		for _, c := range []map[string]any{
			{"name": "Website", "group_name": "Frontend", "monitor_id": webID, "display_order": 1},
			{"name": "Database", "group_name": "Backend", "monitor_id": dbID, "display_order": 2},
			{"name": "Docs", "group_name": "Frontend", "display_order": 3},
			{"name": "Pi-hole", "group_name": "Backend", "service_key": "pihole", "display_order": 4},
		} {
			if st, b := env.Do(http.MethodPost, "/api/status/components", admin, c); st != http.StatusOK {
				t.Fatalf("create %v: %d %s", c, st, b)
			}
		}
		env.JSON(http.MethodGet, "/api/status/public", "", nil, &ps)
		got := map[string]string{}
		for _, c := range ps.Components {
			got[c["name"].(string)] = c["status"].(string)
		}
		want := map[string]string{"Website": "operational", "Database": "outage", "Docs": "operational", "Pi-hole": "unknown"}
		for k, v := range want {
			if got[k] != v {
				t.Errorf("component %s: %q, want %q", k, got[k], v)
			}
		}
		if ps.Overall != "degraded" {
			t.Errorf("overall with one component down: %s", ps.Overall)
		}
		web := ps.Components[0]
		if web["name"] != "Website" || web["uptime_percent"] != float64(100) || len(web["uptime_days"].([]any)) != 90 {
			t.Errorf("website uptime: %v", web)
		}
		lastDay := web["uptime_days"].([]any)[89].(map[string]any)
		if lastDay["date"] != today || lastDay["percent"] != float64(100) {
			t.Errorf("website today: %v", lastDay)
		}
		// Every component has its own 90-day bar; the days before this
		// server's database existed are "no data", never green.
		for _, c := range ps.Components {
			days, _ := c["uptime_days"].([]any)
			if len(days) != 90 {
				t.Fatalf("%s: %d days, want 90", c["name"], len(days))
			}
			first, last := days[0].(map[string]any), days[89].(map[string]any)
			if first["state"] != "no_data" || first["percent"] != nil {
				t.Errorf("%s 89 days ago (before the server existed): %v", c["name"], first)
			}
			if last["state"] == "no_data" {
				t.Errorf("%s today: %v", c["name"], last)
			}
		}
		if ps.UptimeHistory[0].Date == "" || !ps.UptimeHistory[0].NoData || ps.UptimeHistory[89].NoData {
			t.Errorf("history no_data: %+v %+v", ps.UptimeHistory[0], ps.UptimeHistory[89])
		}
		if st, b := env.Do(http.MethodGet, "/status", "", nil); st != http.StatusOK || strings.Count(string(b), `class="bars"`) != len(ps.Components) ||
			!strings.Contains(string(b), `class="u-none" title="`+ps.UptimeHistory[0].Date+`: no data"`) || strings.Contains(string(b), "Incidents over the last 90 days") {
			t.Errorf("status page: one bar per component with no-data days: %d %s", st, b)
		}
		if len(ps.Services) != len(ps.Components) {
			t.Errorf("services compat list differs")
		}
		// Deleting a monitor unlinks its component.
		if st, _ := env.Do(http.MethodDelete, fmt.Sprintf("/api/endpoints/%d", dbID), admin, nil); st != http.StatusOK {
			t.Fatal("delete db monitor")
		}
		env.JSON(http.MethodGet, "/api/status/public", "", nil, &ps)
		if ps.Components[1]["name"] != "Database" || ps.Components[1]["status"] != "operational" || ps.Overall != "operational" {
			t.Errorf("after monitor delete: %v %s", ps.Components[1], ps.Overall)
		}
	})

	t.Run("incidents", func(t *testing.T) {
		for _, c := range []struct {
			body map[string]any
			want string
		}{
			{map[string]any{"severity": "minor"}, "title is required"},
			{map[string]any{"title": "x", "severity": "huge"}, "severity must be minor, major, or critical"},
		} {
			if st, b := env.Do(http.MethodPost, "/api/status/incidents/create", admin, c.body); st != http.StatusBadRequest || !strings.Contains(string(b), c.want) {
				t.Errorf("create %v: %d %s", c.body, st, b)
			}
		}
		var inc struct{ ID int64 }
		if st := env.JSON(http.MethodPost, "/api/status/incidents/create", admin,
			map[string]any{"title": "Database degraded", "severity": "major", "message": "Looking into slow queries", "assigned_to": "admin"}, &inc); st != http.StatusOK {
			t.Fatalf("create incident: %d", st)
		}
		if st, b := env.Do(http.MethodPost, fmt.Sprintf("/api/status/incidents/%d/update", inc.ID), admin, map[string]any{"status": "fixed", "message": "m"}); st != http.StatusBadRequest ||
			!strings.Contains(string(b), "status must be investigating, identified, monitoring, or resolved") {
			t.Errorf("bad update status: %d %s", st, b)
		}
		if st, b := env.Do(http.MethodPost, fmt.Sprintf("/api/status/incidents/%d/update", inc.ID), admin, map[string]any{"status": "identified"}); st != http.StatusBadRequest ||
			!strings.Contains(string(b), "message is required") {
			t.Errorf("update without message: %d %s", st, b)
		}
		if st, b := env.Do(http.MethodPost, "/api/status/incidents/999/update", admin, map[string]any{"message": "m"}); st != http.StatusNotFound ||
			!strings.Contains(string(b), "Incident not found or failed to add update") {
			t.Errorf("update unknown: %d %s", st, b)
		}
		if st, _ := env.Do(http.MethodPost, fmt.Sprintf("/api/status/incidents/%d/update", inc.ID), admin, map[string]any{"status": "identified", "message": "Index missing"}); st != http.StatusOK {
			t.Fatalf("update: %d", st)
		}
		var crit struct{ ID int64 }
		env.JSON(http.MethodPost, "/api/status/incidents/create", admin, map[string]any{"title": "Everything is on fire", "severity": "critical"}, &crit)

		env.JSON(http.MethodGet, "/api/status/public", "", nil, &ps)
		if ps.Overall != "major_outage" || len(ps.ActiveIncidents) != 2 {
			t.Fatalf("with a critical incident: %s %d", ps.Overall, len(ps.ActiveIncidents))
		}
		if ps.UptimeHistory[89].Incidents != 2 || ps.UptimeHistory[89].WorstSeverity != "critical" {
			t.Errorf("today in history: %+v", ps.UptimeHistory[89])
		}
		first := ps.ActiveIncidents[1]
		if first["title"] != "Database degraded" || first["status"] != "identified" || len(first["updates"].([]any)) != 2 {
			t.Errorf("incident: %v", first)
		}
		// Usernames never reach the public endpoints (spec 20 §19.7).
		for _, p := range []string{"/api/status/public", "/api/status/incidents"} {
			_, b := env.Do(http.MethodGet, p, "", nil)
			if strings.Contains(string(b), "created_by") || strings.Contains(string(b), "assigned_to") || strings.Contains(string(b), `"admin"`) {
				t.Errorf("%s leaks usernames: %s", p, b)
			}
		}
		// An update with status resolved resolves the incident.
		if st, _ := env.Do(http.MethodPost, fmt.Sprintf("/api/status/incidents/%d/update", crit.ID), admin, map[string]any{"status": "resolved", "message": "Fire out"}); st != http.StatusOK {
			t.Fatal("resolve by update")
		}
		if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/status/incidents/%d/resolve", inc.ID), admin, nil); st != http.StatusOK {
			t.Fatal("resolve")
		}
		// Resolving again changes nothing.
		if st, _ := env.Do(http.MethodPut, fmt.Sprintf("/api/status/incidents/%d/resolve", inc.ID), admin, nil); st != http.StatusOK {
			t.Fatal("resolve again")
		}
		if st, _ := env.Do(http.MethodPut, "/api/status/incidents/999/resolve", admin, nil); st != http.StatusNotFound {
			t.Errorf("resolve unknown: %d", st)
		}
		env.JSON(http.MethodGet, "/api/status/public", "", nil, &ps)
		if ps.Overall != "operational" || len(ps.ActiveIncidents) != 0 {
			t.Fatalf("after resolving: %s %v", ps.Overall, ps.ActiveIncidents)
		}
		var list struct{ Incidents []monitoring.StatusIncident }
		env.JSON(http.MethodGet, "/api/status/incidents", "", nil, &list)
		if len(list.Incidents) != 2 {
			t.Fatalf("incidents: %+v", list.Incidents)
		}
		for _, in := range list.Incidents {
			if in.ResolvedAt == nil || in.Status != "resolved" {
				t.Errorf("not resolved: %+v", in)
			}
			if in.ID == inc.ID && len(in.Updates) != 3 {
				t.Errorf("updates after double resolve: %+v", in.Updates)
			}
		}
	})

	t.Run("html", func(t *testing.T) {
		var inc struct{ ID int64 }
		env.JSON(http.MethodPost, "/api/status/incidents/create", admin, map[string]any{"title": "Slow <b>DNS</b>", "severity": "minor", "message": "Investigating resolver latency"}, &inc)
		resp := env.Request(http.MethodGet, "/status", "", nil, nil)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		page := string(b)
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("/status: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") || strings.Contains(csp, "unsafe-inline") {
			t.Errorf("CSP %q", csp)
		}
		for _, want := range []string{"<title>NOBA Status</title>", "Partial System Degradation", "Website", "Frontend", "Backend",
			"Slow &lt;b&gt;DNS&lt;/b&gt;", "Investigating resolver latency", "Everything is on fire", "Past incidents",
			`<link rel="stylesheet" href="/status/assets/status.css">`, `name="viewport"`} {
			if !strings.Contains(page, want) {
				t.Errorf("page lacks %q", want)
			}
		}
		if strings.Contains(page, "<b>DNS</b>") {
			t.Error("incident title not escaped")
		}
		// Nothing the CSP would block: no script, no inline style.
		if regexp.MustCompile(`(?i)<script|style=|<style|javascript:|\son[a-z]+=`).MatchString(page) {
			t.Error("page has inline script or style")
		}
		// One 90-day bar per component (4 here), no page-wide bar.
		bars := strings.Count(page, `class="bars"`)
		if n := strings.Count(page, `class="sev-`) + strings.Count(page, `class="u-`); bars != 4 || n != 90*bars {
			t.Errorf("%d bars with %d days, want 4 bars of 90 days", bars, n)
		}
		css := env.Request(http.MethodGet, "/status/assets/status.css", "", nil, nil)
		cb, _ := io.ReadAll(css.Body)
		css.Body.Close()
		if css.StatusCode != http.StatusOK || !strings.HasPrefix(css.Header.Get("Content-Type"), "text/css") || !strings.Contains(string(cb), ".banner") {
			t.Fatalf("css: %d %s", css.StatusCode, css.Header.Get("Content-Type"))
		}
		etag := css.Header.Get("ETag")
		cached := env.Request(http.MethodGet, "/status/assets/status.css", "", nil, map[string]string{"If-None-Match": etag})
		cached.Body.Close()
		if etag == "" || cached.StatusCode != http.StatusNotModified {
			t.Errorf("css revalidation: etag %q status %d", etag, cached.StatusCode)
		}
	})
}

func TestStatusLegacyServices(t *testing.T) {
	env := servertest.New(t)
	if st, b := env.Do(http.MethodPost, "/api/settings", env.Token("admin"), map[string]any{"statusPageServices": "plex, pihole"}); st != http.StatusOK {
		t.Fatalf("settings: %d %s", st, b)
	}
	var ps publicStatus
	env.JSON(http.MethodGet, "/api/status/public", "", nil, &ps)
	if len(ps.Components) != 2 || ps.Components[0]["name"] != "plex" || ps.Components[1]["group_name"] != "Default" || ps.Components[0]["status"] != "unknown" {
		t.Fatalf("legacy components: %+v", ps.Components)
	}
	if _, has := ps.Components[0]["id"]; has {
		t.Errorf("legacy component has an id")
	}
}
