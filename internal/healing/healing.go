package healing

import (
	"context"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/jobs"
	"github.com/noba-go/noba/internal/jobs/runner"
)

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Agents is what healing needs of the agents room.
type Agents interface {
	Run(ctx context.Context, host, cmd string, params map[string]any, by string, timeout time.Duration) (map[string]any, error)
	Send(ctx context.Context, host, cmd string, params map[string]any, by string) (id string, ws bool, err error)
	Online() []string
	Known() []string
}

// ActionRecord is one row of the remediation action audit.
type ActionRecord struct {
	TriggerType, TriggerID, ActionType, Target, Outcome, Output, ApprovedBy, Error string
	Params                                                                         map[string]any
	DurationS                                                                      float64
}

// ActionAudit writes the action audit (the automations room's).
type ActionAudit interface {
	RecordAction(ctx context.Context, a ActionRecord)
}

// Approvals queues approvals (the automations room's approval queue).
// ExpireApproval closes, as denied with reason, a queued approval the
// pipeline auto-denied, so the queue no longer offers it as pending.
type Approvals interface {
	RequestApproval(ctx context.Context, action string, params map[string]any, target, source, reason string) (int64, error)
	ExpireApproval(ctx context.Context, id int64, reason string) error
}

// AutomationRunner starts a stored automation (actions automation and
// run_playbook, spec 30 §6.9.2) through the automations room's dispatcher;
// nil refuses them. playbook requires a workflow automation (run with
// triggered_by "system"); otherwise trigger and triggered_by are
// "remediation".
type AutomationRunner interface {
	RunAutomation(ctx context.Context, id string, playbook bool) (AutomationStart, error)
}

// AutomationStart is what starting an automation reports: its name and
// the job run id (nil for a flat workflow, whose steps run as their own jobs).
type AutomationStart struct {
	Name  string
	RunID *int64
}

// Notifier sends a notification to every channel.
type Notifier interface {
	Notify(ctx context.Context, level, title, message string) error
}

// Stats gives the latest collector snapshot (nil before the first): its
// flat metrics are what conditions are re-checked and verified against,
// its timestamp what the stale-data guard judges.
type Stats interface {
	Snapshot() *events.Snapshot
}

// Settings is the typed settings snapshot every room reads (no copy per read).
type Settings = config.Reader

// Deps are what the room is built from; nil interfaces fall back.
type Deps struct {
	Store       *Store
	Audit       Auditor
	Agents      Agents
	Actions     ActionAudit
	Approvals   Approvals
	Automations AutomationRunner
	Instances   Instances
	Health      HealthScores
	Notify      Notifier
	Stats       Stats
	Settings    Settings
	Runner      *runner.Runner
	// Bus carries the heal events of other rooms (FollowSignals).
	Bus       *events.Bus
	Log       *slog.Logger
	Now       func() time.Time
	ScriptDir string
	// ResolvConf is the file failover_dns rewrites (/etc/resolv.conf).
	ResolvConf string
	HTTPClient *http.Client
	// Settle scales the settle times of §6.8 (1 = as specified; tests
	// shorten it).
	Settle float64
	// Window is the correlation window (60 s).
	Window time.Duration
	// StatsInterval is the collector's interval (5 s): a snapshot older
	// than twice it is stale and metric events are not acted on (spec 30
	// §6.13 stale-data guard).
	StatsInterval time.Duration
	// ApprovalTimeout is how long a heal approval waits for a decision
	// (1 h); undecided past it, the heal is auto-denied and never runs.
	ApprovalTimeout time.Duration
	// Sandbox refuses every action that would run on this server (local
	// handlers, local fallback chains, local snapshot probes): the isolated
	// chaos pipeline sets it so nothing it does reaches the real machine.
	Sandbox bool
}

// Room is the healing room (router 13).
type Room struct {
	d       Deps
	x       *Executor
	p       *pipeline
	wg      sync.WaitGroup
	started time.Time
	// graphSig is the last synced healingDependencies (under p.mu).
	graphSig string
	// chaos serializes live chaos runs (one at a time; see runLive).
	chaos chan struct{}
}

// New builds the room.
func New(d Deps) *Room {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Settle == 0 {
		d.Settle = 1
	}
	if d.Window == 0 {
		d.Window = 60 * time.Second
	}
	if d.ApprovalTimeout <= 0 {
		d.ApprovalTimeout = time.Hour
	}
	if d.StatsInterval <= 0 {
		d.StatsInterval = 5 * time.Second
	}
	if d.ResolvConf == "" {
		d.ResolvConf = "/etc/resolv.conf"
	}
	r := &Room{d: d, started: d.Now(), chaos: make(chan struct{}, 1)}
	r.x = newExecutor(&r.d)
	r.p = newPipeline(r)
	return r
}

// Executor is the action executor (the automations room's Remediator).
func (r *Room) Executor() *Executor { return r.x }

// SetTimings changes the settle scale and correlation window (tests).
func (r *Room) SetTimings(settle float64, window time.Duration) {
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	r.d.Settle, r.d.Window = settle, window
}

// Wait blocks until in-flight heals finish.
func (r *Room) Wait() { r.wg.Wait() }

func (r *Room) now() time.Time { return r.d.Now() }

// Jobs are the hourly learning cycle, the 30 s watchdog evaluation, the
// maintenance-window sweep (re-injects events held by queue windows) and
// the approval sweep (auto-denies heal approvals past their timeout).
func (r *Room) Jobs() []jobs.Job {
	return []jobs.Job{
		jobs.Every("healing-learning", time.Hour, r.Learn),
		jobs.Every("healing-watchdog", 30*time.Second, func(ctx context.Context) error { r.p.heartbeat("watchdog"); return nil }),
		jobs.Every("healing-maintenance", 10*time.Second, r.p.releaseHeld),
		jobs.Every("healing-approvals", 30*time.Second, r.ExpireApprovals),
		jobs.Func{JobName: "healing-signals", Fn: r.FollowSignals},
	}
}
