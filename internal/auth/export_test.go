package auth_test

import (
	"context"
	"fmt"
	"time"

	"github.com/noba-go/noba/internal/jobs"
)

// runOnce runs one tick of a ticker job.
func runOnce(j jobs.Job) error {
	t, ok := jobs.Unwrap(j).(*jobs.Ticker)
	if !ok {
		return fmt.Errorf("job %s is not a ticker", j.Name())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return t.Once(ctx)
}
