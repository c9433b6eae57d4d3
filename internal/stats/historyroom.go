package stats

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// History is the metric history of every host: the sample queue and its
// flusher, the rollup tiers and retention, and the series reads. It is
// built before the rooms that write into it (the agents room) and the
// stats room, so that the server connects them without a cycle.
type History struct {
	store Store
	now   func() time.Time
	log   *slog.Logger
	days  int // retention of the 1-hour tier

	qmu      sync.Mutex
	queue    []Sample
	flushing bool // the flusher job runs
}

// HistoryDeps are what History is built from.
type HistoryDeps struct {
	Store Store
	// Days is the retention of the 1-hour tier (NOBA_HISTORY_DAYS; default 30).
	Days int
	Now  func() time.Time
	Log  *slog.Logger
}

// NewHistory builds the history over its store.
func NewHistory(d HistoryDeps) *History {
	if d.Days <= 0 {
		d.Days = 30
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &History{store: d.Store, now: d.Now, log: d.Log, days: d.Days}
}

// WriteSamples stores one host's samples (see History.WriteSamples).
func (r *Room) WriteSamples(ctx context.Context, host string, ts int64, metrics map[string]float64) error {
	return r.hist.WriteSamples(ctx, host, ts, metrics)
}

// Flush writes every pending sample in one transaction.
func (r *Room) Flush(ctx context.Context) error { return r.hist.Flush(ctx) }

// Rollup brings the rollup tiers up to date (see History.Rollup).
func (r *Room) Rollup(ctx context.Context) error { return r.hist.Rollup(ctx) }

// Prune enforces retention on every tier.
func (r *Room) Prune(ctx context.Context) error { return r.hist.Prune(ctx) }

// Series returns bucket averages of the selected series (see History.Series).
func (r *Room) Series(ctx context.Context, sel Selector, rangeHours float64, resolution int64) ([]Point, error) {
	return r.hist.Series(ctx, sel, rangeHours, resolution)
}

// WriteMetric stores one sample of this server's series metric with the
// label tags, now (the monitoring room's endpoint timings).
func (r *Room) WriteMetric(ctx context.Context, metric string, value float64, tags string) error {
	return r.hist.WriteMetric(ctx, metric, value, tags)
}
