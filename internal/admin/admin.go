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
//
// Entries go through one writer goroutine (auditwriter.go) that commits
// them in batches: under a login flood the audit no longer queues one
// INSERT per request for the single SQLite write connection (where they
// waited past their deadline behind agent reports and were lost). Record
// waits for its batch to commit (so an entry is readable when the request
// answers) but never longer than recordWait; an entry still queued then is
// written later. The queue is bounded; an entry refused by a full queue is
// counted, and the counts per action are written as an audit_dropped entry
// with the next batch.
type Auditor struct {
	store Store
	log   *slog.Logger
	now   func() time.Time
	w     *auditWriter
}

// NewAuditor returns the auditor over store. Close it to flush its queue.
func NewAuditor(store Store, log *slog.Logger, now func() time.Time) *Auditor {
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.Default()
	}
	a := &Auditor{store: store, log: log, now: now}
	a.w = newAuditWriter(store, log, auditQueue)
	return a
}

// Record adds an audit entry; details over 512 characters are cut with "…".
func (a *Auditor) Record(ctx context.Context, action, username, details, ip string) {
	if utf8.RuneCountInString(details) > 512 {
		details = string([]rune(details)[:512]) + "…"
	}
	// The entry outlives a cancelled request: it is not tied to ctx.
	a.w.add(Entry{Time: a.now().Unix(), Username: username, Action: action, Details: details, IP: ip}, recordWait)
}

// Dropped is the number of entries a full queue refused since the start.
func (a *Auditor) Dropped() int64 { return a.w.droppedTotal.Load() }

// Close writes what is queued and stops the writer; later entries are
// written one by one.
func (a *Auditor) Close() error {
	a.w.close()
	return nil
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
