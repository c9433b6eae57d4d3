package intelligence_test

import (
	"context"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/intelligence"
	"github.com/noba-go/noba/internal/intelligence/predict"
)

// series fakes the metric history: f(hoursAgo) per metric, sampled every
// step seconds up to lag seconds before now.
func series(now time.Time, lag int64, f map[string]func(hoursAgo float64) float64) intelligence.SeriesFunc {
	return func(_ context.Context, metric string, hours float64, step int64) ([]predict.Point, error) {
		g, ok := f[metric]
		if !ok {
			return nil, nil
		}
		var out []predict.Point
		end := now.Unix() - lag
		for t := end - int64(hours*3600) + step; t <= end; t += step {
			out = append(out, predict.Point{T: t, V: g(float64(now.Unix()-t) / 3600)})
		}
		return out, nil
	}
}

// The predictive cycle publishes §6.13's heal events on the bus: a disk
// full within a day is a warning prediction, memory full within three
// days an info prediction, a flat CPU with a fresh spike an anomaly; stale
// collector data publishes nothing.
func TestPredictiveCyclePublishesHealSignals(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	fns := map[string]func(float64) float64{
		"disk_percent": func(h float64) float64 { return 95 - 45*h/168 },
		"mem_percent":  func(h float64) float64 { return 85 - 55*h/168 },
		"cpu_percent": func(h float64) float64 {
			if h < 0.01 {
				return 97
			}
			return 20 + math.Sin(h*40)
		},
	}
	bus := events.New()
	ch, cancel := events.Subscribe(bus, events.HealSignals, 16)
	defer cancel()
	room := intelligence.New(intelligence.Deps{Series: series(now, 0, fns), Bus: bus, Now: func() time.Time { return now }})
	got, err := room.PredictiveCycle(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	by := map[string]events.HealSignal{}
	for range got {
		s, ok := events.HealSignals.Of(<-ch)
		if !ok {
			t.Fatal("not a heal signal on the bus")
		}
		by[s.RuleID] = s
	}
	if len(by) != 3 {
		t.Fatalf("signals: %+v", got)
	}
	d := by["prediction:disk"]
	if d.Source != "prediction" || d.Severity != "warning" || d.Target != "disk_percent" || !strings.HasPrefix(d.Condition, "disk_percent trending to 100% in 18.") ||
		d.Metrics["confidence"] != "high" || d.Metrics["full_at"] == nil {
		t.Fatalf("disk: %+v", d)
	}
	if m := by["prediction:memory"]; m.Severity != "info" || m.Target != "mem_percent" {
		t.Fatalf("memory: %+v", m)
	}
	a := by["anomaly:cpu_percent"]
	if a.Source != "anomaly" || a.Severity != "warning" || a.Target != "cpu_percent" || !strings.HasPrefix(a.Condition, "Anomaly: CPU 97.0% (above normal range ") {
		t.Fatalf("anomaly: %+v", a)
	}

	// Stale data: the last sample is ten minutes old.
	stale := intelligence.New(intelligence.Deps{Series: series(now, 600, fns), Bus: bus, Now: func() time.Time { return now }})
	if got, err := stale.PredictiveCycle(context.Background()); err != nil || len(got) != 0 {
		t.Fatalf("stale data: %+v %v", got, err)
	}
}
