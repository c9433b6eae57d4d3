package auth_test

import (
	"context"
	"time"

	"github.com/noba-go/noba/internal/jobs"
)

// runOnce runs one tick of a ticker job.
func runOnce(j jobs.Job) error {
	t, ok := j.(*jobs.Ticker)
	if !ok {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return t.Once(ctx)
}
