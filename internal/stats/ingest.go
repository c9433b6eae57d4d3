package stats

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/jobs"
)

// maxQueue bounds the samples waiting for the flusher; beyond it writers
// flush themselves (back-pressure instead of unbounded memory).
const maxQueue = 200_000

// ParseMetricKey splits "name{label}" into name and label ("" when the
// key has no braces).
func ParseMetricKey(k string) (name, label string) {
	if strings.HasSuffix(k, "}") {
		if i := strings.IndexByte(k, '{'); i > 0 {
			return k[:i], k[i+1 : len(k)-1]
		}
	}
	return k, ""
}

// WriteSamples stores one host's samples taken at ts (Unix seconds). host
// "" is this server; agents pass their hostname, so every host keeps its
// own series under the same metric names. A key "name{label}" stores the
// series with that label (a mount, an interface...). Samples are batched:
// the flusher job writes every pending sample in one transaction per
// second; without it running the call writes synchronously.
func (r *History) WriteSamples(ctx context.Context, host string, ts int64, metrics map[string]float64) error {
	if len(host) > 253 {
		return fmt.Errorf("write samples: host name too long")
	}
	batch := make([]Sample, 0, len(metrics))
	for k, v := range metrics {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		name, label := ParseMetricKey(k)
		if name == "" || len(name) > 200 || len(label) > 200 {
			continue
		}
		batch = append(batch, Sample{Host: host, Metric: name, Label: label, TS: ts, Value: v})
	}
	if len(batch) == 0 {
		return nil
	}
	r.qmu.Lock()
	r.queue = append(r.queue, batch...)
	n, running := len(r.queue), r.flushing
	r.qmu.Unlock()
	if !running || n >= maxQueue {
		return r.Flush(ctx)
	}
	return nil
}

// Flush writes every pending sample in one transaction.
func (r *History) Flush(ctx context.Context) error {
	r.qmu.Lock()
	batch := r.queue
	r.queue = nil
	r.qmu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := r.store.WriteBatch(ctx, batch); err != nil {
		r.qmu.Lock()
		if len(r.queue)+len(batch) <= maxQueue {
			r.queue = append(batch, r.queue...)
		}
		r.qmu.Unlock()
		return err
	}
	return nil
}

// flusher writes queued samples every second and once more at shutdown.
type flusher struct{ r *History }

// Name implements jobs.Job.
func (flusher) Name() string { return "stats.flush" }

// Run implements jobs.Job.
func (f flusher) Run(ctx context.Context) error {
	f.r.qmu.Lock()
	f.r.flushing = true
	f.r.qmu.Unlock()
	defer func() {
		f.r.qmu.Lock()
		f.r.flushing = false
		f.r.qmu.Unlock()
		c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		if err := f.r.Flush(c); err != nil {
			f.r.log.Error("final sample flush failed", "err", err)
		}
	}()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := f.r.Flush(ctx); err != nil && ctx.Err() == nil {
				f.r.log.Warn("sample flush failed", "err", err)
			}
		}
	}
}

// rawKeep, minuteKeep are the retention of the raw and 1-minute tiers;
// the hourly tier keeps HistoryDays.
const (
	rawKeep    = 24 * time.Hour
	minuteKeep = 7 * 24 * time.Hour
)

func (r *History) keep(t Tier) int64 {
	days := time.Duration(r.days) * 24 * time.Hour
	switch t {
	case TierRaw:
		return int64(min(rawKeep, days).Seconds())
	case Tier1m:
		return int64(min(minuteKeep, days).Seconds())
	}
	return int64(days.Seconds())
}

// rollupGrace is how long a bucket stays open after its end for samples
// still queued (the flusher writes every second).
const rollupGrace = 5

// Rollup brings the 1-minute tier up to the last bucket that ended at
// least rollupGrace seconds ago, and the 1-hour tier up to the 1-minute
// tier's progress. Each run reads only the buckets it adds; after downtime
// it catches up from what retention kept.
func (r *History) Rollup(ctx context.Context) error {
	now := r.now().Unix()
	limit := (now - rollupGrace) / 60 * 60
	for _, t := range []Tier{Tier1m, Tier1h} {
		size := int64(60)
		if t == Tier1h {
			size = 3600
		}
		to := limit / size * size
		upto, err := r.store.RollupState(ctx, t)
		if err != nil {
			return err
		}
		from := upto
		if floor := (now - r.keep(t-1)) / size * size; upto == 0 || from < floor {
			from = floor
		}
		if to > upto || upto == 0 {
			if err := r.store.Rollup(ctx, t, from, to); err != nil {
				return err
			}
		}
		limit = max(to, upto)
	}
	return nil
}

// Prune enforces retention on every tier.
func (r *History) Prune(ctx context.Context) error {
	now := r.now().Unix()
	for _, t := range []Tier{TierRaw, Tier1m, Tier1h} {
		n, err := r.store.Prune(ctx, t, now-r.keep(t))
		if err != nil {
			return err
		}
		if n > 0 {
			r.log.Debug("history pruned", "tier", tierName(t), "rows", n)
		}
	}
	return nil
}

// Jobs implements the server's JobRoom: collection, sample flushing,
// rollups and retention.
func (r *Room) Jobs() []jobs.Job {
	collectJob := jobs.Every("stats.collect", r.interval, r.Collect)
	collectJob.Immediate = true
	collectJob.Timeout = max(r.interval, 10*time.Second)
	rollup := jobs.Every("stats.rollup", time.Minute, r.Rollup)
	rollup.Immediate = true // catch up after downtime
	prune := jobs.Every("stats.retention", time.Hour, r.Prune)
	prune.Immediate = true
	prune.Timeout = 10 * time.Minute
	return []jobs.Job{collectJob, flusher{r.hist}, rollup, prune}
}

// WriteMetric stores one sample of this server's series metric with the
// label tags, now (the monitoring room's endpoint timings).
func (r *History) WriteMetric(ctx context.Context, metric string, value float64, tags string) error {
	if metric == "" || math.IsNaN(value) || math.IsInf(value, 0) {
		return nil
	}
	key := metric
	if tags != "" {
		key += "{" + tags + "}"
	}
	return r.WriteSamples(ctx, "", r.now().Unix(), map[string]float64{key: value})
}
