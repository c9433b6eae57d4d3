// Package runner is NOBA's job runner (spec 30 §1.3): a bounded number of
// concurrent jobs (past it Submit fails with ErrBusy, which routes answer
// 409), each with a timeout; command jobs run in a process group of their
// own that is killed as a whole (SIGTERM, then SIGKILL) on cancel or
// timeout and after the job's main process exits, so no job leaves
// processes behind; stdout and stderr are merged and capped. Every job is
// a row of job_runs. The automations room uses it, and healing reuses it.
package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"sort"
	"sync"
	"syscall"
	"time"
)

// The states of a run (spec 30 §1.3.1).
const (
	StatusRunning         = "running"
	StatusDone            = "done"
	StatusFailed          = "failed"
	StatusTimeout         = "timeout"
	StatusCancelled       = "cancelled"
	StatusPendingApproval = "pending_approval"
	StatusQueued          = "queued"
)

// ErrBusy is returned by Submit when the concurrency cap is reached; the
// error's text is the user-facing message.
var ErrBusy = errors.New("too many concurrent jobs")

// BusyError carries the cap in its message ("Max concurrent jobs (3) reached").
type BusyError struct{ Max int }

func (e *BusyError) Error() string { return fmt.Sprintf("Max concurrent jobs (%d) reached", e.Max) }

// Is makes errors.Is(err, ErrBusy) hold.
func (e *BusyError) Is(target error) bool { return target == ErrBusy }

// userError is an error whose text is the run's stored, user-facing error.
type userError string

func (e userError) Error() string { return string(e) }

// Command is an external process: Argv[0] is looked up in PATH.
type Command struct {
	Argv []string
	Dir  string
	Env  []string
}

// Func is in-process work (HTTP requests, agent commands...). It writes
// its output to out and returns the exit code (0 = done). ctx is
// cancelled on cancel or timeout; a cancelled Func's result is discarded.
type Func func(ctx context.Context, out io.Writer) (exitCode int, err error)

// Spec describes a job to submit. Exactly one of Command and Func is set;
// neither records a failed run ("Command could not be constructed").
type Spec struct {
	AutomationID string
	Trigger      string
	TriggeredBy  string
	Command      *Command
	Func         Func
	// Timeout overrides the runner's default when positive and shorter.
	Timeout time.Duration
	// Wait makes Submit wait for a free slot instead of failing with
	// ErrBusy (steps of workflows that already started).
	Wait bool
	// OnDone is called after the run's row is final.
	OnDone func(id int64, status string)
}

// Config tunes a runner.
type Config struct {
	// Max is the number of concurrent jobs (NOBA_MAX_JOBS, default 3).
	Max int
	// Timeout bounds every job (NOBA_JOB_TIMEOUT, default 300 s).
	Timeout time.Duration
	// OutputCap bounds the stored output (default 256 KiB).
	OutputCap int
	// Grace is how long a process group has between SIGTERM and SIGKILL (default 5 s).
	Grace time.Duration
	Now   func() time.Time
	Log   *slog.Logger
}

// Active describes a job that is running.
type Active struct {
	ID           int64
	AutomationID string
	Trigger      string
	TriggeredBy  string
	Started      time.Time
}

type entry struct {
	Active
	cancel    context.CancelFunc
	cancelled bool
	out       *capBuffer
	done      chan struct{}
	status    string
}

// Runner runs jobs.
type Runner struct {
	st  *Store
	cfg Config

	mu     sync.Mutex
	active map[int64]*entry
	freed  chan struct{} // closed and replaced whenever a slot frees
	closed bool
	wg     sync.WaitGroup
}

// New returns a runner persisting to st.
func New(st *Store, cfg Config) *Runner {
	if cfg.Max <= 0 {
		cfg.Max = 3
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 300 * time.Second
	}
	if cfg.OutputCap <= 0 {
		cfg.OutputCap = 256 << 10
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Runner{st: st, cfg: cfg, active: map[int64]*entry{}, freed: make(chan struct{})}
}

// Store returns the runner's store.
func (r *Runner) Store() *Store { return r.st }

// Max is the concurrency cap.
func (r *Runner) Max() int { return r.cfg.Max }

// Submit inserts the run row (status running) and starts the job. The
// capacity check and the insert are atomic; past the cap it returns a
// *BusyError unless spec.Wait, in which case it waits for a slot (or ctx).
func (r *Runner) Submit(ctx context.Context, spec Spec) (int64, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return 0, errors.New("job runner is shutting down")
		}
		if len(r.active) < r.cfg.Max {
			break
		}
		freed := r.freed
		r.mu.Unlock()
		if !spec.Wait {
			return 0, &BusyError{Max: r.cfg.Max}
		}
		select {
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-freed:
		}
	}
	defer r.mu.Unlock()
	now := r.cfg.Now()
	id, err := r.st.Insert(context.WithoutCancel(ctx), spec.AutomationID, spec.Trigger, StatusRunning, spec.TriggeredBy, now.Unix())
	if err != nil {
		return 0, err
	}
	timeout := r.cfg.Timeout
	if spec.Timeout > 0 && spec.Timeout < timeout {
		timeout = spec.Timeout
	}
	jctx, cancel := context.WithTimeout(context.Background(), timeout)
	e := &entry{Active: Active{ID: id, AutomationID: spec.AutomationID, Trigger: spec.Trigger, TriggeredBy: spec.TriggeredBy, Started: now},
		cancel: cancel, out: newCapBuffer(r.cfg.OutputCap), done: make(chan struct{})}
	r.active[id] = e
	r.wg.Add(1)
	go r.run(jctx, e, spec, timeout)
	return id, nil
}

// Cancel cancels an active run; false when it is not active.
func (r *Runner) Cancel(id int64) bool {
	r.mu.Lock()
	e, ok := r.active[id]
	if ok {
		e.cancelled = true
	}
	r.mu.Unlock()
	if ok {
		e.cancel()
	}
	return ok
}

// ActiveRuns lists the running jobs, oldest first.
func (r *Runner) ActiveRuns() []Active {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Active, 0, len(r.active))
	for _, e := range r.active {
		out = append(out, e.Active)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// LiveOutput returns the output so far of an active run.
func (r *Runner) LiveOutput(id int64) (string, bool) {
	r.mu.Lock()
	e, ok := r.active[id]
	r.mu.Unlock()
	if !ok {
		return "", false
	}
	return e.out.String(), true
}

// Wait blocks until run id is no longer active and returns its final
// status (from the store when it already finished).
func (r *Runner) Wait(ctx context.Context, id int64) (string, error) {
	r.mu.Lock()
	e, ok := r.active[id]
	r.mu.Unlock()
	if ok {
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-e.done:
			return e.status, nil
		}
	}
	run, err := r.st.Get(ctx, id)
	if err != nil {
		return "", err
	}
	return run.Status, nil
}

// Shutdown cancels every active job and waits for them to be recorded.
func (r *Runner) Shutdown() {
	r.mu.Lock()
	r.closed = true
	for _, e := range r.active {
		e.cancel()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

func (r *Runner) run(ctx context.Context, e *entry, spec Spec, timeout time.Duration) {
	defer r.wg.Done()
	defer e.cancel()
	var (
		exit    *int
		errText string
		status  string
	)
	code, runErr := -1, error(nil)
	switch {
	case spec.Command != nil && len(spec.Command.Argv) > 0:
		code, runErr = r.runCommand(ctx, spec.Command, e.out)
	case spec.Func != nil:
		code, runErr = r.runFunc(ctx, spec.Func, e.out)
	default:
		runErr = userError("Command could not be constructed")
	}
	r.mu.Lock()
	cancelled := e.cancelled
	r.mu.Unlock()
	switch {
	case cancelled:
		status = StatusCancelled
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		status = StatusTimeout
		errText = fmt.Sprintf("Timed out after %ds", int(timeout.Seconds()))
		e.out.Append(fmt.Sprintf("\n[ERROR] Job timed out after %ds\n", int(timeout.Seconds())))
	case runErr != nil:
		status, errText = StatusFailed, runErr.Error()
	case code == 0:
		status = StatusDone
		exit = &code
	default:
		status, errText = StatusFailed, fmt.Sprintf("Exit code %d", code)
		exit = &code
	}
	if status != StatusDone && status != StatusFailed && code >= 0 && exit == nil && runErr == nil {
		exit = &code
	}
	dctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	if err := r.st.Finish(dctx, e.ID, status, exit, e.out.String(), errText, r.cfg.Now().Unix()); err != nil {
		r.cfg.Log.Error("record job run", "id", e.ID, "err", err)
	}
	cancel()
	r.mu.Lock()
	e.status = status
	delete(r.active, e.ID)
	close(r.freed)
	r.freed = make(chan struct{})
	r.mu.Unlock()
	close(e.done)
	if spec.OnDone != nil {
		spec.OnDone(e.ID, status)
	}
}

// runCommand starts the process in its own group, copies its merged
// output, and on cancel or timeout signals the whole group: SIGTERM, then
// SIGKILL after the grace period. When the main process has exited, what
// is left of its group is killed too.
func (r *Runner) runCommand(ctx context.Context, c *Command, out *capBuffer) (int, error) {
	cmd := exec.Command(c.Argv[0], c.Argv[1:]...)
	cmd.Dir = c.Dir
	if c.Env != nil {
		cmd.Env = c.Env
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	pr, pw, err := os.Pipe()
	if err != nil {
		return -1, fmt.Errorf("pipe: %w", err)
	}
	cmd.Stdout, cmd.Stderr = pw, pw
	if err := cmd.Start(); err != nil {
		_ = pr.Close()
		_ = pw.Close()
		return -1, fmt.Errorf("start %s: %w", c.Argv[0], err)
	}
	_ = pw.Close()
	pgid := cmd.Process.Pid
	readDone := make(chan struct{})
	go func() {
		_, _ = io.Copy(out, pr)
		out.Flush()
		close(readDone)
	}()
	waitDone := make(chan error, 1)
	go func() { waitDone <- cmd.Wait() }()
	var werr error
	select {
	case werr = <-waitDone:
	case <-ctx.Done():
		_ = syscall.Kill(-pgid, syscall.SIGTERM)
		grace := r.cfg.Grace
		r.mu.Lock()
		if r.closed && grace > time.Second {
			grace = time.Second // the server is stopping: it has 10 s in all
		}
		r.mu.Unlock()
		select {
		case werr = <-waitDone:
		case <-time.After(grace):
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			select {
			case werr = <-waitDone:
			case <-time.After(3 * time.Second):
			}
		}
	}
	// Nothing of the job outlives it: what remains of the group is killed.
	_ = syscall.Kill(-pgid, syscall.SIGKILL)
	select {
	case <-readDone:
	case <-time.After(2 * time.Second):
		_ = pr.Close()
		<-readDone
	}
	_ = pr.Close()
	if cmd.ProcessState != nil {
		return cmd.ProcessState.ExitCode(), nil
	}
	if werr != nil {
		return -1, fmt.Errorf("wait: %w", werr)
	}
	return -1, nil
}

// runFunc runs f; on cancel or timeout it gives f the grace period to
// return and then records the run without its result.
func (r *Runner) runFunc(ctx context.Context, f Func, out *capBuffer) (int, error) {
	type res struct {
		code int
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				r.cfg.Log.Error("job panicked", "panic", p)
				ch <- res{-1, userError("Internal execution error")}
			}
		}()
		c, err := f(ctx, out)
		ch <- res{c, err}
	}()
	select {
	case v := <-ch:
		out.Flush()
		return v.code, v.err
	case <-ctx.Done():
		select {
		case <-ch:
		case <-time.After(r.cfg.Grace):
		}
		out.Flush()
		return -1, ctx.Err()
	}
}

// Recover marks runs a previous process left running as failed.
func (r *Runner) Recover(ctx context.Context) error {
	n, err := r.st.Recover(ctx, r.cfg.Now().Unix())
	if n > 0 {
		r.cfg.Log.Info("job runs interrupted by a restart marked failed", "count", n)
	}
	return err
}

// Prune deletes runs that finished more than days ago.
func (r *Runner) Prune(ctx context.Context, days int) (int64, error) {
	if days <= 0 {
		days = 30
	}
	return r.st.Prune(ctx, r.cfg.Now().Add(-time.Duration(days)*24*time.Hour).Unix())
}
