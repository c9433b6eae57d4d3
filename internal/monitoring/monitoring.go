package monitoring

import (
	"context"
	"errors"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/events"
)

// Alerter receives the state changes of monitors: the alerts room records
// them as alert history and notifications.
type Alerter interface {
	RaiseExternal(ctx context.Context, source, key, severity, message string) error
	ResolveExternal(ctx context.Context, source, key string) error
}

// Stats gives the latest collector snapshot (nil before the first): typed
// metrics, and the /api/stats payload for its free-form parts.
type Stats interface {
	Snapshot() *events.Snapshot
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
	// Settings are the settings (statusPageServices fallback).
	Settings config.Reader
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

	public publicCache
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

// snapshot is the collector's latest snapshot (nil before the first).
func (r *Room) snapshot() *events.Snapshot {
	if r.d.Stats == nil {
		return nil
	}
	return r.d.Stats.Snapshot()
}

// latest is the latest /api/stats payload (nil before the first).
func (r *Room) latest() map[string]any {
	if s := r.snapshot(); s != nil {
		return s.Payload
	}
	return nil
}

// ErrNoAgentTransport is returned by an AgentChecker that has no agents
// room behind it; such checks are reported as skipped.
var ErrNoAgentTransport = errors.New("no agent transport")

// AgentCheckFunc adapts a function to an AgentChecker. A nil result with a
// nil error means the agent did not answer in time.
type AgentCheckFunc func(ctx context.Context, hostname, url, method string, timeout time.Duration) (map[string]any, error)

// EndpointCheck implements AgentChecker.
func (f AgentCheckFunc) EndpointCheck(ctx context.Context, hostname, url, method string, timeout time.Duration) (map[string]any, error) {
	return f(ctx, hostname, url, method, timeout)
}

// SLAFunc adapts a function to an SLASource.
type SLAFunc func(ctx context.Context, rows, windowHours int) (map[string]float64, error)

// RecentSLA implements SLASource.
func (f SLAFunc) RecentSLA(ctx context.Context, rows, windowHours int) (map[string]float64, error) {
	return f(ctx, rows, windowHours)
}

// ErrAgentOffline is returned by an AgentChecker whose agent is not online.
var ErrAgentOffline = errors.New("agent offline")

// AgentRunner adapts an agents room's Run (send a command to a host and
// wait for its result; nil result on timeout) to an AgentChecker that sends
// endpoint_check; online (may be nil) lists the connected agents, so that a
// check of an offline agent fails at once. A nil run gives ErrNoAgentTransport.
func AgentRunner(run func(ctx context.Context, host, cmd string, params map[string]any, by string, timeout time.Duration) (map[string]any, error),
	online func() []string) AgentChecker {
	return AgentCheckFunc(func(ctx context.Context, host, url, method string, timeout time.Duration) (map[string]any, error) {
		if run == nil {
			return nil, ErrNoAgentTransport
		}
		if online != nil && !slices.Contains(online(), host) {
			return nil, ErrAgentOffline
		}
		if method != "HEAD" {
			method = "GET"
		}
		secs := max(1, min(30, int(timeout/time.Second)))
		return run(ctx, host, "endpoint_check", map[string]any{"url": url, "method": method, "timeout": secs}, "scheduler", timeout+5*time.Second)
	})
}
