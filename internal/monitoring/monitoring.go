package monitoring

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Alerter receives the state changes of monitors: the alerts room records
// them as alert history and notifications.
type Alerter interface {
	RaiseExternal(ctx context.Context, source, key, severity, message string) error
	ResolveExternal(ctx context.Context, source, key string) error
}

// Stats gives the latest collector snapshot (the /api/stats payload).
type Stats interface {
	Latest() map[string]any
}

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// AgentChecker runs an HTTP endpoint check on an agent (command
// endpoint_check) and returns the agent's result: status_code, error,
// response_ms, status.
type AgentChecker interface {
	EndpointCheck(ctx context.Context, hostname, url, method string, timeout time.Duration) (map[string]any, error)
}

// MetricWriter stores one sample of a history metric.
type MetricWriter interface {
	WriteMetric(ctx context.Context, metric string, value float64, tags string) error
}

// SLASource gives, for the distinct rule ids among the newest alert-history
// rows, each rule's SLA percentage over the window (health score "uptime").
type SLASource interface {
	RecentSLA(ctx context.Context, rows, windowHours int) (map[string]float64, error)
}

// BackupSource reports when the last successful backup job run finished
// (health score "backup_freshness"); ok is false when there is none.
type BackupSource interface {
	LastBackup(ctx context.Context) (at time.Time, ok bool, err error)
}

// AlertSource is the source name under which monitors raise alerts.
const AlertSource = "monitoring"

// Deps are what the monitoring room is built from. Every interface may be
// nil: the room then answers its documented fallback.
type Deps struct {
	Store   Store
	Log     *slog.Logger
	Audit   Auditor
	Alerts  Alerter
	Stats   Stats
	Agents  AgentChecker
	Metrics MetricWriter
	SLA     SLASource
	Backups BackupSource
	// Settings gives the flat settings (statusPageServices fallback).
	Settings func() map[string]any
	// ListenPort is the server's own port (self-reference guard).
	ListenPort string
	// Now is the clock (tests).
	Now func() time.Time
	// Parallel bounds concurrent scheduled checks (default 10).
	Parallel int
	// Location is the time zone of the status page's calendar days.
	Location *time.Location
}

// Room is the monitoring room.
type Room struct {
	d       Deps
	checker *Checker
	locks   sync.Map // monitor id -> *sync.Mutex

	scoreMu   sync.Mutex
	lastScore map[string]any
}

// New builds the monitoring room.
func New(d Deps) *Room {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Parallel <= 0 {
		d.Parallel = 10
	}
	if d.Location == nil {
		d.Location = time.Local
	}
	return &Room{d: d, checker: NewChecker(d.ListenPort)}
}

// SetAlerter wires the alerts room after construction.
func (r *Room) SetAlerter(a Alerter) { r.d.Alerts = a }

// LastHealthScore returns the most recent /api/health-score result (nil
// before the first computation); automations trigger on it.
func (r *Room) LastHealthScore() map[string]any {
	r.scoreMu.Lock()
	defer r.scoreMu.Unlock()
	return r.lastScore
}

func (r *Room) lock(id int64) func() {
	v, _ := r.locks.LoadOrStore(id, &sync.Mutex{})
	m := v.(*sync.Mutex)
	m.Lock()
	return m.Unlock
}

func (r *Room) latest() map[string]any {
	if r.d.Stats == nil {
		return nil
	}
	return r.d.Stats.Latest()
}
