package monitoring

import (
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/events"
)

// The stats room builds its snapshot with typed slices ([]map[string]any);
// the health score must read them as well as JSON-decoded ones: one online
// agent is a monitoring coverage of 10/10, not "no agents enrolled".
func TestHealthReadsTypedSnapshot(t *testing.T) {
	snap := map[string]any{
		"cpuPercent": 20.0, "memPercent": 40.0,
		"agents":   []map[string]any{{"hostname": "a1", "online": true}},
		"disks":    []map[string]any{{"mount": "/", "percent": 96.0}},
		"services": []map[string]any{{"name": "nginx", "status": "active"}, {"name": "redis", "status": "failed"}},
	}
	hs := computeHealth(healthInputs{snap: normalized(snap), typed: events.NewSnapshot(snap), now: time.Unix(1_700_000_000, 0)})
	cov := hs.Categories["monitoring_coverage"]
	if cov.Score == nil || *cov.Score != 10 || cov.Detail != "1/1 agents online" || !strings.HasPrefix(cov.Reason, "10/10: 1/1 agents online") {
		t.Errorf("coverage: %+v", cov)
	}
	capa := hs.Categories["capacity"]
	if capa.Score == nil || *capa.Score != 7 || !strings.Contains(capa.Reason, "Disk / at 96%") {
		t.Errorf("capacity (disk / at 96%% costs 3): %+v", capa)
	}
	up := hs.Categories["uptime"]
	if up.Score == nil || *up.Score != 5 || !strings.Contains(up.Reason, "service redis is down") {
		t.Errorf("uptime from what is monitored now: %+v", up)
	}
	if hs.Score == nil || hs.Grade == "N/A" || !strings.Contains(hs.Reason, "not scored: backup freshness") {
		t.Errorf("score %v grade %s reason %q", hs.Score, hs.Grade, hs.Reason)
	}
	if c := hs.Categories["backup_freshness"]; c.Score != nil || !strings.HasPrefix(c.Reason, "Not scored: no backup runs.") {
		t.Errorf("backup: %+v", c)
	}
	// One judgeable category is not enough for a grade.
	one := computeHealth(healthInputs{snap: map[string]any{"cpuPercent": 5.0}, typed: events.NewSnapshot(map[string]any{"cpuPercent": 5.0}), now: time.Unix(1_700_000_000, 0)})
	if one.Score != nil || one.Grade != "N/A" || !strings.HasPrefix(one.Reason, "Not enough data") {
		t.Errorf("one category: %+v", one)
	}
}
