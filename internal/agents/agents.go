package agents

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/cluster"
	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/wire"
)

// Auditor records audit events (provided by the admin room).
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// History receives per-host metric samples of agent reports (provided by
// the stats room). A nil History is allowed.
type History interface {
	WriteSamples(ctx context.Context, host string, ts int64, metrics map[string]float64) error
}

// SeriesFunc reads one host metric's history (provided by the stats
// room): (unix time, value) points over the last hours, averaged into
// buckets of step seconds.
type SeriesFunc func(ctx context.Context, host, metric string, hours int, step int64) ([][2]float64, error)

// Incident is one row of the alert incidents table, as the SLA summary
// needs it.
type Incident struct {
	Source     string
	Timestamp  int64
	ResolvedAt int64
}

// Incidents lists incidents since a time (provided by the alerts room). A
// nil Incidents gives an SLA summary without downtime.
type Incidents interface {
	IncidentsSince(ctx context.Context, since int64, limit int) ([]Incident, error)
}

// IncidentsFunc adapts a function to Incidents.
type IncidentsFunc func(ctx context.Context, since int64, limit int) ([]Incident, error)

// IncidentsSince implements Incidents.
func (f IncidentsFunc) IncidentsSince(ctx context.Context, since int64, limit int) ([]Incident, error) {
	return f(ctx, since, limit)
}

// ResultHook is called with every command result of a type, whichever way
// it arrived (other rooms persist network_discover, verify_backup and
// security_scan results this way).
type ResultHook func(ctx context.Context, hostname string, result map[string]any)

// Deps are the room's dependencies.
type Deps struct {
	Store    Store
	Settings *config.Settings
	Bus      *events.Bus
	Audit    Auditor
	History  History
	// Series answers GET /api/agents/{hostname}/history (nil: empty series).
	Series SeriesFunc
	Log    *slog.Logger
	// DataDir holds transfers/ and, unless AgentDir is set, agent/ (the
	// built agent binaries served by /api/agent/update).
	DataDir  string
	AgentDir string
	// CORSOrigins are the extra origins allowed for the browser terminal.
	CORSOrigins []string
	// OnlineWindow is how recent a report must be for an agent to count as
	// online (default 120 s).
	OnlineWindow time.Duration
	// Incidents feeds /api/sla/summary (nil: no downtime data).
	Incidents Incidents
	// DeployRoot prefixes every path the SSH deploy installs to (tests
	// install below a temporary directory); "" in production.
	DeployRoot string
	// DeployAllowLoopback lets deploy hand out a loopback server URL
	// (tests, where the "remote" host is this machine).
	DeployAllowLoopback bool
	// SSHKeyFiles are the server user's private keys tried by deploy when
	// the request brings no password or key.
	SSHKeyFiles []string
	// TrustLevel gives the healing trust level of an alert rule (healing
	// room); nil means every rule is "notify" (agents only report).
	TrustLevel func(ruleID string) string
	// Now is the clock (tests); default time.Now.
	Now func() time.Time
	// Cluster carries commands, results, reports and presence between
	// replicas (nil or without peers: a single server).
	Cluster cluster.Bus
}

// Room is the agents room.
type Room struct {
	d     Deps
	log   *slog.Logger
	hub   *hub
	now   func() time.Time
	keys  keyCache
	guard keyGuard // wrong agent keys per address
	xfers *transfers

	hookMu sync.RWMutex
	hooks  map[string][]ResultHook
	// healHooks receive agent heal reports.
	healHooks []ResultHook

	healMu    sync.Mutex
	healAt    time.Time
	healCache map[string]any
}

// New builds the room and seeds the agent map from the registry table.
func New(ctx context.Context, d Deps) (*Room, error) {
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.OnlineWindow <= 0 {
		d.OnlineWindow = 120 * time.Second
	}
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.AgentDir == "" && d.DataDir != "" {
		d.AgentDir = filepath.Join(d.DataDir, "agent")
	}
	r := &Room{d: d, log: d.Log, now: d.Now, hub: newHub(), hooks: map[string][]ResultHook{}}
	r.xfers = newTransfers(filepath.Join(d.DataDir, "transfers"))
	rows, err := d.Store.ListAgents(ctx)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		r.hub.seed(row)
	}
	if err := r.restoreQueue(ctx); err != nil {
		return nil, err
	}
	r.joinCluster()
	return r, nil
}

// restoreQueue reloads the commands a previous run left open (issue 11
// §8): queued ones young enough to run go back into their host's queue,
// sent ones may still be answered; what can no longer run is marked
// expired.
func (r *Room) restoreQueue(ctx context.Context) error {
	open, err := r.d.Store.OpenCommands(ctx)
	if err != nil {
		return err
	}
	now := r.now()
	var expired []string
	for _, c := range open {
		at := time.Unix(c.QueuedAt, 0)
		switch {
		case c.Status == "queued" && now.Sub(at) <= queueMaxAge:
			var params map[string]any
			_ = json.Unmarshal(c.Params, &params)
			if params == nil {
				params = map[string]any{}
			}
			r.hub.enqueue(c.Hostname, wire.QueuedCommand{ID: c.ID, Type: c.CmdType, Params: params, QueuedBy: c.QueuedBy, QueuedAt: c.QueuedAt})
		case c.Status == "sent" && now.Sub(at) <= sentMaxAge:
			r.hub.issue(c.Hostname, c.ID, c.QueuedAt)
		default:
			expired = append(expired, c.ID)
		}
	}
	return r.d.Store.ExpireCommands(ctx, expired)
}

// OnHealReport registers a hook called with every agent heal outcome of
// a report's _heal_reports (the healing room's ledger, correlation key
// agent:<host>:<rule_id>).
func (r *Room) OnHealReport(h ResultHook) {
	r.hookMu.Lock()
	defer r.hookMu.Unlock()
	r.healHooks = append(r.healHooks, h)
}

// OnResult registers a hook for results of command type cmd.
func (r *Room) OnResult(cmd string, h ResultHook) {
	r.hookMu.Lock()
	defer r.hookMu.Unlock()
	r.hooks[cmd] = append(r.hooks[cmd], h)
}

func (r *Room) audit(ctx context.Context, action, user, details, ip string) {
	if r.d.Audit != nil {
		r.d.Audit.Record(ctx, action, user, details, ip)
	}
}

// keyCache keeps the parsed agentKeys setting for a few seconds: reports
// arrive hundreds of times a second and the settings file rarely changes.
type keyCache struct {
	mu   sync.Mutex
	at   time.Time
	keys []agentKey
}

// agentKey is one entry of agentKeys: a bare key (any hostname) or
// "hostname:key" binding the key to one hostname (or a glob like "web-*").
type agentKey struct {
	key  string
	host string
}

func parseKeys(s string) []agentKey {
	var out []agentKey
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if h, k, ok := strings.Cut(e, ":"); ok && k != "" && validHostPattern(h) {
			out = append(out, agentKey{key: k, host: h})
			continue
		}
		out = append(out, agentKey{key: e})
	}
	return out
}

func validHostPattern(h string) bool {
	return wire.ValidHostname(strings.ReplaceAll(h, "*", "x"))
}

func (r *Room) agentKeys() []agentKey {
	r.keys.mu.Lock()
	defer r.keys.mu.Unlock()
	if r.keys.at.IsZero() || time.Since(r.keys.at) > time.Second {
		raw := ""
		if r.d.Settings != nil {
			raw = r.d.Settings.String("agentKeys")
		}
		r.keys.keys = parseKeys(raw)
		r.keys.at = time.Now()
	}
	return r.keys.keys
}

// firstKey returns the first configured unbound key (install script, deploy).
func (r *Room) firstKey() string {
	for _, k := range r.agentKeys() {
		if k.host == "" {
			return k.key
		}
	}
	if ks := r.agentKeys(); len(ks) > 0 {
		return ks[0].key
	}
	return ""
}
