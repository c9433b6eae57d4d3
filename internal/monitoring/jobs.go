package monitoring

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/noba-go/noba/internal/jobs"
)

// CheckPeriod is how often the scheduler looks for due monitors; each
// monitor is checked every check_interval seconds (at least 30).
const CheckPeriod = 10 * time.Second

// historyRetention is how long check history and events are kept.
const historyRetention = 90 * 24 * time.Hour

// Jobs returns the endpoint scheduler and the history prune.
func (r *Room) Jobs() []jobs.Job {
	check := jobs.Every("monitoring.endpoints", CheckPeriod, r.CheckDue)
	// A tick waits for its checks; each is bounded by its own timeout (≤ 60 s).
	check.Timeout = (MaxTimeout + 15) * time.Second
	prune := jobs.Every("monitoring.prune", time.Hour, r.Prune)
	prune.Timeout = time.Minute
	return []jobs.Job{check, prune}
}

// CheckDue runs every enabled monitor whose interval has elapsed, at most
// Deps.Parallel at a time.
func (r *Room) CheckDue(ctx context.Context) error {
	ms, err := r.d.Store.ListMonitors(ctx)
	if err != nil {
		return err
	}
	now := r.d.Now().Unix()
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(r.d.Parallel)
	for _, m := range ms {
		if !m.Enabled || (m.LastChecked != nil && *m.LastChecked+int64(m.CheckInterval) > now) {
			continue
		}
		g.Go(func() error {
			if _, _, err := r.RunCheck(gctx, m.ID); err != nil && gctx.Err() == nil {
				r.d.Log.Warn("endpoint check failed", "monitor", m.Name, "err", err)
			}
			return nil
		})
	}
	return g.Wait()
}

// Prune deletes check history and events older than 90 days.
func (r *Room) Prune(ctx context.Context) error {
	n, err := r.d.Store.Prune(ctx, r.d.Now().Add(-historyRetention).Unix())
	if err == nil && n > 0 {
		r.d.Log.Info("pruned endpoint check history", "rows", n)
	}
	return err
}
