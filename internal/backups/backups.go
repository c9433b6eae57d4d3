package backups

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/httpx"
)

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Settings is the typed settings snapshot every room reads (no copy per read).
type Settings = config.Reader

// Mailer sends text to the e-mail notification channel.
type Mailer interface {
	SendEmail(ctx context.Context, subject, text string) error
}

// Run is an active job run of the automations room.
type Run struct {
	RunID     int64  `json:"run_id"`
	Trigger   string `json:"trigger"`
	StartedAt int64  `json:"started_at"`
	Status    string `json:"status"`
}

// Automations is the automations room, for backup schedules and progress.
type Automations interface {
	// ListAutomations returns the automation objects
	// ({id,name,type,config,schedule,enabled,created_at,updated_at}).
	ListAutomations(ctx context.Context) ([]map[string]any, error)
	// CreateAutomation creates an enabled automation and returns its id.
	CreateAutomation(ctx context.Context, name, typ string, config map[string]any, schedule string) (string, error)
	// ActiveRuns returns the job runs in progress.
	ActiveRuns(ctx context.Context) ([]Run, error)
}

// ErrNoAutomations is what an Automations answers when the server has no
// automations room (the routes then answer their fallback).
var ErrNoAutomations = errors.New("automations are not available")

// Deps are what the backups room is built from. Mailer and Automations may
// be nil: the routes then answer their documented fallback.
type Deps struct {
	Settings    Settings
	Audit       Auditor
	Log         *slog.Logger
	DataDir     string
	Restic      string // the restic binary (default "restic" on PATH)
	Mailer      Mailer
	Automations Automations
	Now         func() time.Time
}

// Room is the backups room.
type Room struct {
	d Deps
}

// New builds the backups room.
func New(d Deps) *Room {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Restic == "" {
		d.Restic = "restic"
	}
	return &Room{d: d}
}

func (r *Room) stateFile(name string) string { return filepath.Join(r.d.DataDir, name) }

// Routes mounts the backup routes of router 3.
func (r *Room) Routes(rt *httpx.Router) {
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/status", authz.Read, "NAS and cloud backup status"), r.status)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/backup/report", authz.Admin, "Email backup status report"), r.report)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/history", authz.Read, "List backup snapshots"), r.history)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/snapshots/{name}/browse", authz.Read, "Browse snapshot directory tree"), r.browse)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/snapshots/diff", authz.Read, "Diff two snapshots"), r.diff)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/file-versions", authz.Read, "File versions across snapshots"), r.fileVersions)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/backup/restore", authz.Admin, "Restore a file from a snapshot"), r.restore)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/restic", authz.Read, "Restic repository status"), r.resticStatus)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/schedules", authz.Read, "List backup-related automations"), r.schedules)
	httpx.Register(rt, httpx.Op(http.MethodPost, "/api/backup/schedule", authz.Admin, "Create a backup schedule"), r.createSchedule)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/progress", authz.Read, "Running backup job progress"), r.progress)
	httpx.Register(rt, httpx.Op(http.MethodGet, "/api/backup/health", authz.Read, "Backup destination health check"), r.health)
}
