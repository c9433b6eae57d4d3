package admin

import (
	"context"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/noba-go/noba/internal/config"
)

// Auditor records audit entries for every room. Errors are logged and
// swallowed: auditing never fails a request.
type Auditor struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
}

// NewAuditor returns the auditor over store.
func NewAuditor(store Store, log *slog.Logger, now func() time.Time) *Auditor {
	if now == nil {
		now = time.Now
	}
	return &Auditor{store: store, log: log, now: now}
}

// Record adds an audit entry; details over 512 characters are cut with "…".
func (a *Auditor) Record(ctx context.Context, action, username, details, ip string) {
	if utf8.RuneCountInString(details) > 512 {
		details = string([]rune(details)[:512]) + "…"
	}
	// The entry outlives a cancelled request: it is written on its own context.
	c, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := a.store.AddAudit(c, Entry{Time: a.now().Unix(), Username: username, Action: action, Details: details, IP: ip}); err != nil {
		a.log.Error("audit write failed", "action", action, "err", err)
	}
}

// Deps are what the admin room is built from.
type Deps struct {
	Store     Store
	Settings  *config.Settings
	Audit     *Auditor
	Log       *slog.Logger
	AuditDays int
	Now       func() time.Time
}

// Room is the admin room.
type Room struct{ d Deps }

// New builds the admin room.
func New(d Deps) *Room {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AuditDays <= 0 {
		d.AuditDays = 90
	}
	return &Room{d: d}
}
