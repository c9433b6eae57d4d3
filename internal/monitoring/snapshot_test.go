package monitoring_test

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/noba-go/noba/internal/collect"
	"github.com/noba-go/noba/internal/monitoring"
	"github.com/noba-go/noba/internal/server"
	"github.com/noba-go/noba/internal/server/servertest"
)

// fixtureSnapshot is a collector snapshot with services, integrations,
// radar hosts and a busy host.
func fixtureSnapshot(context.Context) (map[string]any, error) {
	return map[string]any{
		"cpuPercent": 92.0, "memPercent": 50.0,
		"disks": []any{map[string]any{"mount": "/", "percent": 96.0}, map[string]any{"mount": "/data", "percent": 40.0}},
		"services": []any{
			map[string]any{"name": "nginx", "status": "active"},
			map[string]any{"name": "redis", "status": "failed"},
		},
		"plex":   map[string]any{"status": "online", "sessions": 1.0},
		"pihole": map[string]any{"status": "offline", "error": "Connection failed"},
		"radar": []any{
			map[string]any{"ip": "10.0.0.1", "status": "Up", "ms": 3.0},
			map[string]any{"ip": "10.0.0.2", "status": "Down", "ms": 0.0},
		},
	}, nil
}

func TestUptimeAndHealthFromStats(t *testing.T) {
	env := servertest.NewWith(t, servertest.Setup{Options: []server.Option{server.WithStatsSource(collect.SourceFunc(fixtureSnapshot))}})
	viewer, admin := env.Token("viewer"), env.Token("admin")

	// Before the first snapshot: nothing is invented.
	var up struct {
		Items   []monitoring.UptimeEntry `json:"items"`
		Percent float64                  `json:"percent"`
	}
	env.JSON(http.MethodGet, "/api/uptime", viewer, nil, &up)
	if len(up.Items) != 0 || up.Percent != 0 {
		t.Fatalf("uptime without stats: %+v", up)
	}
	var hs monitoring.HealthScore
	env.JSON(http.MethodGet, "/api/health-score", viewer, nil, &hs)
	if hs.Categories["capacity"].Status != "unknown" || hs.Score != nil || hs.Grade != "N/A" {
		t.Fatalf("health without stats: %+v", hs)
	}

	runJob(t, env, "stats.collect")

	env.JSON(http.MethodGet, "/api/uptime", viewer, nil, &up)
	got := map[string]string{}
	for _, it := range up.Items {
		got[it.Type+":"+it.Name] = it.Status
	}
	want := map[string]string{"service:nginx": "up", "service:redis": "down", "integration:Plex": "up",
		"integration:Pi-hole": "down", "host:10.0.0.1": "up", "host:10.0.0.2": "down"}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("uptime %s = %q, want %q (all: %v)", k, got[k], v, got)
		}
	}
	if len(up.Items) != len(want) || up.Percent != 50 {
		t.Errorf("uptime: %d items, percent %v; want %d, 50", len(up.Items), up.Percent, len(want))
	}

	env.JSON(http.MethodGet, "/api/health-score", viewer, nil, &hs)
	c := hs.Categories["capacity"]
	// CPU 92 > 90 -> 4; disk / 96 >= 95 -> 3: 10 - 7.
	if c.Score == nil || *c.Score != 3 || c.Status != "critical" || c.Detail != "CPU 92%, RAM 50%" || len(c.Recommendations) != 2 {
		t.Errorf("capacity: %+v", c)
	}
	// Without SLA history, uptime scores what is monitored now: 3 of 6 up.
	if u := hs.Categories["uptime"]; u.Score == nil || *u.Score != 5 || hs.Categories["backup_freshness"].Status != "unknown" {
		t.Errorf("uptime/backup without history: %+v %+v", u, hs.Categories["backup_freshness"])
	}
	// (3 + 5) / 20 = 40 -> D.
	if hs.ScoredCategories != 2 || hs.TotalRaw != 8 || hs.MaxRaw != 20 || hs.Grade != "D" || hs.Score == nil || *hs.Score != 40 {
		t.Errorf("totals: %+v", hs)
	}

	// Status components follow the snapshot.
	for _, c := range []map[string]any{
		{"name": "Web server", "service_key": "service:nginx"},
		{"name": "Cache", "service_key": "service:redis"},
		{"name": "Media", "service_key": "plex"},
		{"name": "DNS", "service_key": "pihole"},
		{"name": "Missing", "service_key": "nextcloud"},
	} {
		if st, b := env.Do(http.MethodPost, "/api/status/components", admin, c); st != http.StatusOK {
			t.Fatalf("component: %d %s", st, b)
		}
	}
	var ps publicStatus
	env.JSON(http.MethodGet, "/api/status/public", "", nil, &ps)
	var states []string
	for _, c := range ps.Components {
		states = append(states, c["name"].(string)+"="+c["status"].(string))
	}
	wantStates := []string{"Web server=operational", "Cache=outage", "Media=operational", "DNS=degraded", "Missing=unknown"}
	if !slices.Equal(states, wantStates) || ps.Overall != "degraded" {
		t.Errorf("components %v overall %s, want %v degraded", states, ps.Overall, wantStates)
	}
}
