package intelligence

import (
	"context"
	"log/slog"
	"os"
	"time"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/intelligence/llm"
	"github.com/noba-go/noba/internal/intelligence/predict"
)

// AgentInfo is what the room needs to know of one agent.
type AgentInfo struct {
	Hostname string
	Online   bool
	CPU, Mem float64
	// Disk is the percent used of the agent's first disk (-1 unknown).
	Disk float64
}

// Agents is what the room needs of the agents room.
type Agents interface {
	// Send queues a command (WebSocket first, else the HTTP queue).
	Send(ctx context.Context, host, cmd string, params map[string]any, by string) (id string, ws bool, err error)
	// Run sends a command and waits for its result (nil on timeout).
	Run(ctx context.Context, host, cmd string, params map[string]any, by string, timeout time.Duration) (map[string]any, error)
	// List describes every known agent.
	List() []AgentInfo
}

// Alert is one alert-history row.
type Alert struct {
	ID         int64
	RuleID     string
	Severity   string
	Message    string
	Timestamp  int64
	ResolvedAt *int64
}

// Alerts is what the room needs of the alerts room.
type Alerts interface {
	// Recent lists the newest alert-history rows, newest first.
	Recent(ctx context.Context, limit int) ([]Alert, error)
	// RaiseExternal opens (or refreshes) the alert source:key.
	RaiseExternal(ctx context.Context, source, key, severity, message string) error
	// ResolveExternal closes the alert source:key.
	ResolveExternal(ctx context.Context, source, key string) error
}

// SeriesFunc reads a metric's history of this server over the last hours
// in buckets of step seconds, ascending.
type SeriesFunc func(ctx context.Context, metric string, hours float64, step int64) ([]predict.Point, error)

// Settings gives the flat settings and their masked view (a key whose
// masked value differs from its value is a secret).
type Settings interface {
	config.Reader
	Masked() map[string]any
}

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Deps are what the room is built from. Agents, Alerts and Series may be
// nil: the room then answers its documented fallback.
type Deps struct {
	Store    Store
	Agents   Agents
	Alerts   Alerts
	Series   SeriesFunc
	Settings Settings
	Audit    Auditor
	Log      *slog.Logger
	// LLM sends the assistant's requests (a default client when nil).
	LLM *llm.Client
	// Hostname names this server in the assistant's prompt.
	Hostname string
	Now      func() time.Time
	// DriftFirst and DriftEvery schedule the drift checker (30 s, 300 s).
	DriftFirst, DriftEvery time.Duration
	// DriftWait bounds how long a drift check waits for agents (20 s);
	// SetFromWait how long set-from waits for one agent (15 s).
	DriftWait, SetFromWait time.Duration

	// Bus receives the predictive cycle's heal events (nil: not published).
	Bus *events.Bus
}

// Room is the intelligence room.
type Room struct {
	d       Deps
	trigger chan struct{}
}

// New builds the room.
func New(d Deps) *Room {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.LLM == nil {
		d.LLM = &llm.Client{}
	}
	if d.Hostname == "" {
		d.Hostname, _ = os.Hostname()
	}
	if d.DriftFirst <= 0 {
		d.DriftFirst = 30 * time.Second
	}
	if d.DriftEvery <= 0 {
		d.DriftEvery = 300 * time.Second
	}
	if d.DriftWait <= 0 {
		d.DriftWait = 20 * time.Second
	}
	if d.SetFromWait <= 0 {
		d.SetFromWait = 15 * time.Second
	}
	return &Room{d: d, trigger: make(chan struct{}, 1)}
}
