package healing_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/healing"
	"github.com/noba-go/noba/internal/server/servertest"
)

type scores map[string]any

func (s scores) LastHealthScore() map[string]any { return s }

// The hourly health-score trigger (spec 30 §6.13): a category below its
// threshold is a suggestion; an actionable one at or below half of it is
// also a health_score heal event with the suggested actions as its chain;
// unknown and healthy categories are skipped.
func TestHealthScoreTriggers(t *testing.T) {
	d, err := db.Open(filepath.Join(t.TempDir(), "noba.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = d.Close() })
	if err := db.Migrate(context.Background(), d); err != nil {
		t.Fatal(err)
	}
	cat := func(score any, status string) map[string]any {
		return map[string]any{"score": score, "status": status, "detail": "Disk / at 97%"}
	}
	st := healing.NewStore(d)
	room := healing.New(healing.Deps{Store: st, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Health: scores{"categories": map[string]any{
			"capacity": cat(1.5, "critical"), "certificate_health": cat(4.0, "warning"), "backup_freshness": cat(nil, "unknown"),
			"uptime": cat(9.0, "good"), "monitoring_coverage": cat(2.0, "critical")}}})
	room.SetTimings(0.01, time.Minute)
	evs, err := room.HealthTriggers(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	room.Wait()
	if len(evs) != 1 || evs[0].RuleID != "health:capacity" || evs[0].Source != "health_score" || evs[0].Condition != "capacity_score=1.5 (threshold=4)" ||
		len(evs[0].Chain) != 3 || evs[0].Chain[0].Action != "storage_cleanup" {
		t.Fatalf("events: %+v", evs)
	}
	sg, err := st.Suggestions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]healing.Suggestion{}
	for _, s := range sg {
		got[s.Category] = s
	}
	if len(got) != 3 || got["health_capacity"].Severity != "warning" || got["health_certificates"].Severity != "info" ||
		got["health_monitoring"].Severity != "warning" ||
		got["health_capacity"].Message != "Health score category 'capacity' is degraded (score: 1.5/10, threshold: 4). Details: Disk / at 97%. Suggested actions: storage_cleanup, temp_cleanup, log_rotate." {
		t.Fatalf("suggestions: %+v", sg)
	}
	rows, err := st.Ledger(context.Background(), 10, "health:capacity", "")
	if err != nil || len(rows) != 1 || rows[0].Source != "health_score" || rows[0].ActionSuccess != nil {
		t.Fatalf("ledger: %+v %v", rows, err)
	}
}

// Heal events other rooms publish on the bus (the intelligence room's
// predictions and anomalies) reach the pipeline: a ledger row with their
// source, at notify (lowered one level for predictions, never below notify).
func TestHealSignalsFeedPipeline(t *testing.T) {
	e := servertest.NewWith(t, servertest.Setup{Jobs: true})
	var rows []map[string]any
	deadline := time.Now().Add(15 * time.Second)
	for len(rows) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no ledger row from the heal signal")
		}
		events.Publish(e.Server.Bus, events.HealSignals, events.HealSignal{Source: "prediction", RuleID: "prediction:disk", Target: "disk_percent",
			Severity: "warning", Condition: "disk_percent trending to 100% in 18.7h", Timestamp: float64(time.Now().Unix()),
			Metrics: map[string]any{"hours_until": 18.7}})
		time.Sleep(100 * time.Millisecond)
		e.JSON(http.MethodGet, "/api/healing/ledger?rule_id=prediction:disk", e.Token("viewer"), nil, &rows)
	}
	if r := rows[0]; r["source"] != "prediction" || r["target"] != "disk_percent" || r["trust_level"] != "notify" ||
		r["condition"] != "disk_percent trending to 100% in 18.7h" {
		t.Fatalf("row: %+v", r)
	}
}
