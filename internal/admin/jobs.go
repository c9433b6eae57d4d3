package admin

import (
	"context"
	"time"

	"github.com/noba-go/noba/internal/jobs"
)

// PruneAudit deletes audit rows older than the retention (NOBA_AUDIT_DAYS).
func (r *Room) PruneAudit(ctx context.Context) error {
	before := r.d.Now().Add(-time.Duration(r.d.AuditDays) * 24 * time.Hour).Unix()
	n, err := r.d.Store.PruneAudit(ctx, before)
	if n > 0 {
		r.d.Log.Info("pruned audit log", "rows", n)
	}
	return err
}

// Jobs returns the room's background work: audit retention and the hourly
// copy of config.yaml (ten kept).
func (r *Room) Jobs() []jobs.Job {
	prune := jobs.Every("audit-retention", time.Hour, r.PruneAudit)
	prune.Immediate = true
	snap := jobs.Every("config-snapshot", time.Hour, func(ctx context.Context) error { return r.d.Settings.Snapshot(10) })
	return []jobs.Job{prune, snap}
}
