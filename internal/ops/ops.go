package ops

import (
	"context"
	"log/slog"
	"os"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/runcmd"
)

// Settings is the typed settings snapshot every room reads (no copy per read).
type Settings = config.Reader

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Stats gives the latest collector snapshot (nil before the first); the
// site map reads its integration blocks from the payload.
type Stats interface {
	Snapshot() *events.Snapshot
}

// Agents is what the exports and backup verification need of the agents
// room: the known agents, and commands sent (Send) or run to completion (Run).
type Agents interface {
	AgentList() []map[string]any
	Send(ctx context.Context, host, cmd string, params map[string]any, by string) (id string, ws bool, err error)
	Run(ctx context.Context, host, cmd string, params map[string]any, by string, timeout time.Duration) (map[string]any, error)
}

// Deps are what the operations room is built from.
type Deps struct {
	DB       *db.DB
	Settings Settings
	Audit    Auditor
	Stats    Stats
	Agents   Agents
	Runner   runcmd.Runner
	Log      *slog.Logger
	Now      func() time.Time
	// Root prefixes /sys (tests).
	Root string
	// Version is the server version.
	Version string
	// RepoDir is the git checkout the server was built from (update check); empty: a binary install.
	RepoDir string
	// Root user: smartctl and systemctl run directly; otherwise through sudo -n.
	IsRoot bool
}

// Room is the operations room.
type Room struct {
	d     Deps
	store *Store

	smartMu  sync.Mutex
	smartAt  time.Time
	smartRes []map[string]any

	discMu sync.Mutex
	disc   map[string]*discovered // hostname -> latest discovery results
}

// New builds the operations room.
func New(d Deps) *Room {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Runner == nil {
		d.Runner = runcmd.Exec{}
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	return &Room{d: d, store: &Store{db: d.DB}, disc: map[string]*discovered{}}
}

// IsRoot reports whether the server runs as root.
func IsRoot() bool { return os.Geteuid() == 0 }

// settings is the flat settings dict in force, shared by every reader:
// read it, never modify it (no copy per read).
func (r *Room) settings() map[string]any {
	if r.d.Settings == nil {
		return map[string]any{}
	}
	return r.d.Settings.View()
}

// typed is the typed settings in force (read only; empty without settings).
func (r *Room) typed() *config.Values {
	if r.d.Settings == nil {
		return &config.Values{}
	}
	return r.d.Settings.Current()
}

func (r *Room) audit(ctx context.Context, action, details string) {
	if r.d.Audit == nil {
		return
	}
	r.d.Audit.Record(ctx, action, authz.Must(ctx).Username, details, httpx.ClientIP(ctx))
}

// privileged runs a tool as root: directly when the server is root, else
// through sudo -n (never prompting).
func (r *Room) privileged(name string, args ...string) runcmd.Cmd {
	if r.d.IsRoot {
		return runcmd.Cmd{Name: name, Args: args}
	}
	return runcmd.Cmd{Name: "sudo", Args: append([]string{"-n", name}, args...)}
}

// unitRe is the unit/service name rule of the operations routes.
var unitRe = regexp.MustCompile(`^[a-zA-Z0-9@._-]{1,256}$`)

// ValidUnit reports whether s is a safe systemd unit name (no "..", no
// leading "-" that systemctl would read as an option).
func ValidUnit(s string) bool {
	return unitRe.MatchString(s) && !strings.Contains(s, "..") && !strings.HasPrefix(s, "-")
}

var ansiRe = regexp.MustCompile(`\x1b\[[0-9;?]*[ -/]*[@-~]`)
