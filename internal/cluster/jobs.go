package cluster

import (
	"context"

	"github.com/noba-go/noba/internal/jobs"
)

// leaderJob runs a job only while this replica leads.
type leaderJob struct {
	e   Elector
	job jobs.Job
}

// LeaderJob wraps job so that it runs only while e leads: it starts when
// leadership is gained and its context ends when it is lost; it starts
// again on the next gain.
func LeaderJob(e Elector, job jobs.Job) jobs.Job { return &leaderJob{e: e, job: job} }

// Name implements jobs.Job.
func (l *leaderJob) Name() string { return l.job.Name() }

// Inner is the wrapped job.
func (l *leaderJob) Inner() jobs.Job { return l.job }

// Run implements jobs.Job.
func (l *leaderJob) Run(ctx context.Context) error {
	for {
		lctx, cancel, err := l.e.Lead(ctx)
		if err != nil {
			return nil
		}
		err = l.job.Run(lctx)
		if ctx.Err() == nil && lctx.Err() == nil {
			// The job ended on its own while leading: it starts again
			// only with the next leadership.
			<-lctx.Done()
		}
		cancel()
		if ctx.Err() != nil {
			return err
		}
	}
}
