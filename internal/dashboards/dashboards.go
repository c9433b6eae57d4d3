package dashboards

import (
	"context"
	"log/slog"
	"time"

	"github.com/noba-go/noba/internal/db"
)

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Deps are what the dashboards room is built from.
type Deps struct {
	DB    *db.DB
	Audit Auditor
	Log   *slog.Logger
	Now   func() time.Time
}

// Room is the dashboards room.
type Room struct {
	d     Deps
	store *store
}

// New builds the dashboards room.
func New(d Deps) *Room {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	return &Room{d: d, store: &store{db: d.DB}}
}
