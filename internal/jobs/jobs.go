// Package jobs runs NOBA's background work. A Job is Run(ctx) error; Every
// builds the common ticker job whose single tick (Once) tests call directly.
package jobs

import (
	"context"
	"log/slog"
	"time"

	"golang.org/x/sync/errgroup"
)

// Job is background work that runs until ctx is done.
type Job interface {
	Name() string
	Run(ctx context.Context) error
}

// Unwrap returns the job a wrapper (such as a replica's leader-only job)
// runs, following wrappers that have an Inner method; j itself otherwise.
func Unwrap(j Job) Job {
	for {
		w, ok := j.(interface{ Inner() Job })
		if !ok {
			return j
		}
		j = w.Inner()
	}
}

// Ticker is a job that calls Once every Period, each call bounded by Timeout.
type Ticker struct {
	JobName string
	Period  time.Duration
	Timeout time.Duration
	// Immediate runs the first tick at start instead of after one period.
	Immediate bool
	Once      func(ctx context.Context) error
	Log       *slog.Logger
}

// Every returns a ticker job.
func Every(name string, period time.Duration, once func(ctx context.Context) error) *Ticker {
	return &Ticker{JobName: name, Period: period, Timeout: period, Once: once}
}

// Name implements Job.
func (t *Ticker) Name() string { return t.JobName }

// Run ticks until ctx is done. A failing tick is logged, never fatal.
func (t *Ticker) Run(ctx context.Context) error {
	log := t.Log
	if log == nil {
		log = slog.Default()
	}
	tick := func() {
		timeout := t.Timeout
		if timeout <= 0 {
			timeout = t.Period
		}
		c, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		if err := t.Once(c); err != nil && ctx.Err() == nil {
			log.Warn("job tick failed", "job", t.JobName, "err", err)
		}
	}
	if t.Immediate {
		tick()
	}
	tk := time.NewTicker(t.Period)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-tk.C:
			tick()
		}
	}
}

// Func adapts a function to a Job.
type Func struct {
	JobName string
	Fn      func(ctx context.Context) error
}

// Name implements Job.
func (f Func) Name() string { return f.JobName }

// Run implements Job.
func (f Func) Run(ctx context.Context) error { return f.Fn(ctx) }

// Runner runs a set of jobs until its context ends.
type Runner struct {
	jobs []Job
	log  *slog.Logger
}

// NewRunner returns a runner logging to log.
func NewRunner(log *slog.Logger) *Runner { return &Runner{log: log} }

// Add registers jobs to run.
func (r *Runner) Add(js ...Job) { r.jobs = append(r.jobs, js...) }

// Jobs lists the registered jobs.
func (r *Runner) Jobs() []Job { return r.jobs }

// Run starts every job and waits until all have returned after ctx ends.
func (r *Runner) Run(ctx context.Context) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, j := range r.jobs {
		if t, ok := j.(*Ticker); ok && t.Log == nil {
			t.Log = r.log
		}
		g.Go(func() error {
			r.log.Debug("job started", "job", j.Name())
			err := j.Run(ctx)
			r.log.Debug("job stopped", "job", j.Name(), "err", err)
			return err
		})
	}
	return g.Wait()
}
