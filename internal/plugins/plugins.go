package plugins

import (
	"context"

	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/config"
	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/jobs"
)

//go:embed catalog
var catalogFS embed.FS

// Auditor records audit entries.
type Auditor interface {
	Record(ctx context.Context, action, username, details, ip string)
}

// Settings is the typed settings snapshot every room reads (no copy per read).
type Settings = config.Reader

// Deps are what the plugins room is built from.
type Deps struct {
	DB       *db.DB
	Settings Settings
	Audit    Auditor
	Log      *slog.Logger
	// Dir is the plugin directory (<data dir>/plugins).
	Dir string
	// HTTP fetches the remote catalog and remote plugins (bounded client when nil).
	HTTP *http.Client
	Now  func() time.Time
}

// plugin is one discovered plugin and its runtime state.
type plugin struct {
	id       string
	path     string
	manifest Manifest
	loadErr  string

	enabled bool
	config  map[string]any

	running bool
	next    time.Time
	lastRun int64
	data    any
	runErr  string
}

// Room is the plugins room.
type Room struct {
	d    Deps
	mu   sync.Mutex
	all  map[string]*plugin
	kick chan struct{}
}

// New builds the plugins room; Reload discovers the plugins.
func New(d Deps) *Room {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.Default()
	}
	if d.HTTP == nil {
		d.HTTP = &http.Client{Timeout: 30 * time.Second}
	}
	return &Room{d: d, all: map[string]*plugin{}, kick: make(chan struct{}, 1)}
}

var fileRe = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}(\.[a-z0-9]{1,5})?$`)

func idOf(filename string) string { return strings.TrimSuffix(filename, filepath.Ext(filename)) }

type savedState struct {
	enabled bool
	config  map[string]any
}

func (r *Room) loadState(ctx context.Context) (map[string]savedState, error) {
	rows, err := r.d.DB.R.QueryContext(ctx, `SELECT id, enabled, config_json FROM plugin_state`)
	if err != nil {
		return nil, fmt.Errorf("plugin state: %w", err)
	}
	defer rows.Close()
	out := map[string]savedState{}
	for rows.Next() {
		var id, js string
		var en int
		if err := rows.Scan(&id, &en, &js); err != nil {
			return nil, fmt.Errorf("plugin state: %w", err)
		}
		cfg := map[string]any{}
		_ = json.Unmarshal([]byte(js), &cfg)
		out[id] = savedState{enabled: en != 0, config: cfg}
	}
	return out, rows.Err()
}

func (r *Room) saveState(ctx context.Context, id string, enabled *bool, cfg map[string]any) error {
	var js *string
	if cfg != nil {
		b, err := json.Marshal(cfg)
		if err != nil {
			return err
		}
		s := string(b)
		js = &s
	}
	var en *int
	if enabled != nil {
		v := 0
		if *enabled {
			v = 1
		}
		en = &v
	}
	_, err := r.d.DB.W.ExecContext(ctx, `INSERT INTO plugin_state (id, enabled, config_json, updated_at) VALUES (?, COALESCE(?, 0), COALESCE(?, '{}'), ?)
		ON CONFLICT(id) DO UPDATE SET enabled = COALESCE(?, plugin_state.enabled), config_json = COALESCE(?, plugin_state.config_json), updated_at = ?`,
		id, en, js, r.d.Now().Unix(), en, js, r.d.Now().Unix())
	if err != nil {
		return fmt.Errorf("save plugin state %s: %w", id, err)
	}
	return nil
}

// Reload rediscovers the plugin directory and returns how many plugins are enabled.
func (r *Room) Reload(ctx context.Context) (int, error) {
	if err := os.MkdirAll(r.d.Dir, 0o755); err != nil {
		return 0, fmt.Errorf("plugin dir: %w", err)
	}
	des, err := os.ReadDir(r.d.Dir)
	if err != nil {
		return 0, fmt.Errorf("plugin dir: %w", err)
	}
	state, err := r.loadState(ctx)
	if err != nil {
		return 0, err
	}
	found := map[string]*plugin{}
	for _, de := range des {
		name := de.Name()
		p := filepath.Join(r.d.Dir, name)
		if strings.HasPrefix(name, ".") || !fileRe.MatchString(name) || !executable(p) {
			continue
		}
		id := idOf(name)
		if _, dup := found[id]; dup {
			continue
		}
		pl := &plugin{id: id, path: p}
		m, err := describe(ctx, p)
		if err != nil {
			pl.loadErr = err.Error()
		}
		if m.Name == "" {
			m.Name = id
		}
		if m.Version == "" {
			m.Version = "0.0.0"
		}
		if m.Icon == "" {
			m.Icon = "fa-puzzle-piece"
		}
		if m.Interval <= 0 {
			m.Interval = 10
		}
		pl.manifest = m
		if st, ok := state[id]; ok {
			pl.enabled, pl.config = st.enabled, st.config
		}
		found[id] = pl
	}
	r.mu.Lock()
	// Keep the last result of plugins that are still there.
	for id, pl := range found {
		if old, ok := r.all[id]; ok {
			pl.lastRun, pl.data, pl.runErr = old.lastRun, old.data, old.runErr
		}
	}
	r.all = found
	n := 0
	for _, pl := range found {
		if pl.enabled {
			n++
		}
	}
	r.mu.Unlock()
	r.wake()
	return n, nil
}

func (r *Room) wake() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Jobs runs the collection loop: every enabled plugin every interval.
func (r *Room) Jobs() []jobs.Job {
	return []jobs.Job{jobs.Func{JobName: "plugins", Fn: r.loop}}
}

func (r *Room) loop(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		r.runDue(ctx, &wg)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-r.kick:
		}
	}
}

func (r *Room) runDue(ctx context.Context, wg *sync.WaitGroup) {
	now := r.d.Now()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, pl := range r.all {
		if !pl.enabled || pl.loadErr != "" || pl.running || now.Before(pl.next) {
			continue
		}
		pl.running = true
		interval := time.Duration(pl.manifest.Interval) * time.Second
		pl.next = now.Add(interval)
		timeout := interval
		if timeout < 5*time.Second {
			timeout = 5 * time.Second
		}
		cfg := withDefaults(pl.manifest.ConfigSchema, pl.config)
		path, id := pl.path, pl.id
		wg.Add(1)
		go func() {
			defer wg.Done()
			data, err := collect(ctx, path, cfg, timeout)
			r.mu.Lock()
			defer r.mu.Unlock()
			pl.running = false
			if ctx.Err() != nil {
				return
			}
			pl.lastRun = r.d.Now().Unix()
			if err != nil {
				pl.runErr = err.Error()
				r.d.Log.Warn("plugin collect failed", "plugin", id, "err", err)
				return
			}
			pl.data, pl.runErr = data, ""
		}()
	}
}

// Managed is one entry of GET /api/plugins/managed.
type Managed struct {
	ID           string           `json:"id"`
	Name         string           `json:"name"`
	Version      string           `json:"version"`
	Icon         string           `json:"icon"`
	Description  string           `json:"description"`
	Interval     int              `json:"interval"`
	Enabled      bool             `json:"enabled"`
	Error        *string          `json:"error"`
	Path         string           `json:"path"`
	HasConfig    bool             `json:"has_config"`
	ConfigSchema map[string]Field `json:"config_schema"`
	LastRun      *int64           `json:"last_run"`
	Data         any              `json:"data"`
}

func (r *Room) managed() []Managed {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Managed, 0, len(r.all))
	for _, pl := range r.all {
		m := Managed{ID: pl.id, Name: pl.manifest.Name, Version: pl.manifest.Version, Icon: pl.manifest.Icon,
			Description: pl.manifest.Description, Interval: pl.manifest.Interval, Enabled: pl.enabled, Path: pl.path,
			HasConfig: len(pl.manifest.ConfigSchema) > 0, ConfigSchema: pl.manifest.ConfigSchema, Data: pl.data}
		if e := pl.loadErr + pl.runErr; e != "" {
			m.Error = &e
		}
		if pl.lastRun != 0 {
			lr := pl.lastRun
			m.LastRun = &lr
		}
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// Cards are the enabled plugins' latest data (the stats payload's
// "plugins" block; stats.PluginSource).
func (r *Room) Cards() []map[string]any {
	out := []map[string]any{}
	for _, m := range r.managed() {
		if m.Enabled {
			out = append(out, map[string]any{"id": m.ID, "name": m.Name, "icon": m.Icon, "data": m.Data, "error": m.Error})
		}
	}
	return out
}

var errUnknown = errors.New("unknown plugin")

// setEnabled flips a plugin's state; it takes effect at once.
func (r *Room) setEnabled(ctx context.Context, id string, on bool) error {
	r.mu.Lock()
	pl, ok := r.all[id]
	r.mu.Unlock()
	if !ok {
		return errUnknown
	}
	if err := r.saveState(ctx, id, &on, nil); err != nil {
		return err
	}
	r.mu.Lock()
	pl.enabled = on
	pl.next = time.Time{}
	r.mu.Unlock()
	r.wake()
	return nil
}
