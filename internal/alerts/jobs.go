package alerts

import (
	"context"
	"time"

	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/jobs"
	"github.com/noba-go/noba/internal/wire"
)

// Retention of in-app notifications and resolved alert episodes.
const (
	notificationDays = 30
	historyDays      = 400
)

// Jobs are the room's background work: the evaluator (one cycle per stats
// snapshot published on the bus), the notification dispatcher and an
// hourly prune.
func (r *Room) Jobs() []jobs.Job {
	prune := jobs.Every("alerts-prune", time.Hour, r.Prune)
	prune.Timeout = time.Minute
	return []jobs.Job{jobs.Func{JobName: "alerts-evaluate", Fn: r.runEvaluator}, r.disp, prune}
}

// runEvaluator evaluates each published stats snapshot synchronously and
// records agent reports, until ctx ends.
func (r *Room) runEvaluator(ctx context.Context) error {
	if r.d.Bus == nil {
		<-ctx.Done()
		return nil
	}
	stats, cancelStats := r.d.Bus.Subscribe(events.TopicStats, 4)
	defer cancelStats()
	agents, cancelAgents := r.d.Bus.Subscribe(events.TopicAgentReport, 64)
	defer cancelAgents()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-agents:
			if !ok {
				return nil
			}
			if m, ok := ev.Data.(*wire.Metrics); ok {
				r.ObserveAgent(m)
			}
		case ev, ok := <-stats:
			if !ok {
				return nil
			}
			snap, isMap := ev.Data.(map[string]any)
			if !isMap {
				continue
			}
			c, cancel := context.WithTimeout(ctx, 30*time.Second)
			if err := r.Evaluate(c, snap); err != nil && ctx.Err() == nil {
				r.d.Log.Warn("alert evaluation failed", "err", err)
			}
			cancel()
		}
	}
}

// Prune drops in-app notifications older than 30 days and resolved
// episodes older than 400 days (the SLA window reaches back 365 days).
func (r *Room) Prune(ctx context.Context) error {
	now := r.d.Now()
	return r.d.Store.Prune(ctx, now.Add(-notificationDays*24*time.Hour).Unix(), now.Add(-historyDays*24*time.Hour).Unix())
}
