package auth

import (
	"time"

	"github.com/noba-go/noba/internal/jobs"
)

// Jobs returns the room's background work: the session purge every 5 minutes.
func (r *Room) Jobs() []jobs.Job {
	return []jobs.Job{jobs.Every("auth-purge", 5*time.Minute, r.Purge)}
}
