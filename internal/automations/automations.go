package automations

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

// Settings is the typed settings snapshot every room reads (no copy per read).
type Settings = config.Reader

// Stats gives the latest collector snapshot (nil before the first); the
// condition type and graph condition nodes evaluate its flat metrics.
type Stats interface {
	Snapshot() *events.Snapshot
}

// Agents runs commands on agents and waits for their result: the agents
// room's Run and Online. A nil result with no error is a timeout.
type Agents interface {
	Run(ctx context.Context, host, cmd string, params map[string]any, by string, timeout time.Duration) (map[string]any, error)
	Online() []string
}

// Notifier dispatches a notification (notify automations and workflow
// notification nodes).
type Notifier interface {
	Notify(ctx context.Context, level, title, message string, channels []string) error
}

// Maintenance reports whether a maintenance window is active.
type Maintenance interface {
	InMaintenance(target string, now time.Time) bool
}

// ActionResult is the outcome of a remediation action.
type ActionResult struct {
	Success bool   `json:"success"`
	Output  string `json:"output"`
	Error   string `json:"error,omitempty"`
}

// Remediator executes remediation actions (spec 30 §6.9); the healing room
// provides it. Risk is "low", "medium" or "high".
type Remediator interface {
	Risk(action string) (risk string, ok bool)
	Execute(ctx context.Context, action string, params map[string]any, triggerType, triggerID, target, approvedBy string) ActionResult
}

// Deps are what the room is built from; every interface may be nil (the
// feature then answers its documented fallback).
type Deps struct {
	Store       *Store
	Runner      *runner.Runner
	Audit       Auditor
	Settings    Settings
	Stats       Stats
	Agents      Agents
	Notify      Notifier
	Maintenance Maintenance
	Remediator  Remediator
	Log         *slog.Logger
	Now         func() time.Time
	// ScriptDir holds the built-in scripts (NOBA_SCRIPT_DIR).
	ScriptDir string
	// RetentionDays keeps finished job runs this long (NOBA_JOB_RETENTION_DAYS, 30).
	RetentionDays int
	// HTTPClient makes the outbound requests of webhook/http automations;
	// nil builds the guarded client (timeouts, no redirects, link-local and
	// metadata addresses refused at dial time).
	HTTPClient *http.Client
}

// Room is the automations room.
type Room struct {
	d      Deps
	run    *runner.Runner
	client *http.Client

	mu      sync.Mutex
	graphs  map[int64]context.CancelFunc // workflow run id -> cancel
	failed  map[int64]bool
	live    map[int64]int
	ctxs    map[int64]context.Context
	replay  map[string]int64 // hook id + signature -> first seen
	limiter *ipLimiter

	fsMu    sync.Mutex
	fsSeen  map[string]time.Time
	rssMu   sync.Mutex
	rssSeen map[string]map[string]bool

	wg sync.WaitGroup
}

// New builds the room and seeds the playbook templates.
func New(ctx context.Context, d Deps) (*Room, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.RetentionDays <= 0 {
		d.RetentionDays = 30
	}
	r := &Room{d: d, run: d.Runner, client: d.HTTPClient, graphs: map[int64]context.CancelFunc{},
		failed: map[int64]bool{}, live: map[int64]int{}, ctxs: map[int64]context.Context{}, replay: map[string]int64{}, limiter: newIPLimiter(120, time.Minute),
		fsSeen: map[string]time.Time{}, rssSeen: map[string]map[string]bool{}}
	if r.client == nil {
		r.client = SafeClient(30*time.Second, false)
	}
	if err := d.Store.SeedPlaybooks(ctx, builtinPlaybooks()); err != nil {
		return nil, err
	}
	if err := r.run.Recover(ctx); err != nil {
		return nil, err
	}
	return r, nil
}

// Runner is the job runner (healing reuses it).
func (r *Room) Runner() *runner.Runner { return r.run }

// SetRemediator wires the healing room's action executor.
func (r *Room) SetRemediator(x Remediator) {
	r.mu.Lock()
	r.d.Remediator = x
	r.mu.Unlock()
}

func (r *Room) remediator() Remediator {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.d.Remediator
}

func (r *Room) now() time.Time { return r.d.Now() }

// Jobs are the scheduler (every minute, aligned), the approval sweep
// (auto-approve timeouts, every 10 s), the file-watch poll (5 s), the RSS
// poll (300 s) and the hourly retention sweep.
func (r *Room) Jobs() []jobs.Job {
	return []jobs.Job{
		jobs.Func{JobName: "automations-scheduler", Fn: r.schedulerLoop},
		jobs.Every("automations-approvals", 10*time.Second, func(ctx context.Context) error { return r.AutoApprove(ctx) }),
		jobs.Every("automations-fswatch", 5*time.Second, r.PollFiles),
		&jobs.Ticker{JobName: "automations-rss", Period: 300 * time.Second, Timeout: 60 * time.Second, Immediate: true, Once: r.PollFeeds},
		jobs.Every("automations-retention", time.Hour, func(ctx context.Context) error {
			_, err := r.run.Prune(ctx, r.d.RetentionDays)
			return err
		}),
	}
}

// Close stops the room: live workflow executions are cancelled (a restart
// records them failed), running jobs are cancelled and recorded.
func (r *Room) Close() {
	r.mu.Lock()
	for _, c := range r.graphs {
		c()
	}
	r.mu.Unlock()
	r.run.Shutdown()
	r.wg.Wait()
}

// schedulerLoop ticks at every minute boundary (first tick at the next one).
func (r *Room) schedulerLoop(ctx context.Context) error {
	for {
		now := time.Now()
		next := now.Truncate(time.Minute).Add(time.Minute)
		t := time.NewTimer(next.Sub(now))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		tctx, cancel := context.WithTimeout(ctx, 50*time.Second)
		if err := r.Tick(tctx, r.now()); err != nil {
			r.d.Log.Warn("scheduler tick failed", "err", err)
		}
		cancel()
	}
}

// goBG runs f in the background, tracked for shutdown.
func (r *Room) goBG(f func()) {
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		f()
	}()
}
