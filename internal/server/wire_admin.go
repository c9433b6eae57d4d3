package server

import (
	"context"
	"encoding/json"
	"errors"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/noba-go/noba/internal/alerts/notify"
	"github.com/noba-go/noba/internal/backups"
	"github.com/noba-go/noba/internal/dashboards"
	"github.com/noba-go/noba/internal/jobs/runner"
	"github.com/noba-go/noba/internal/plugins"
	"github.com/noba-go/noba/internal/reports"
	"github.com/noba-go/noba/internal/stats"
)

// adminRooms holds the rooms of admin remainder, custom dashboards and single sign-on (routers 2, 3, 14). Its owner fills it in and
// wires it in wireAdmin; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type adminRooms struct {
	// dashboards (router 14)
	dashboards *dashboards.Room
	// backups (router 3: status, explorer, restic, schedules, health)
	backups *backups.Room
	// plugins (router 3): external executables, docs/plugins.md
	plugins *plugins.Room
	// pluginCards feeds the plugins' cards into the stats payload (the
	// stats room is built before the plugins room).
	pluginCards pluginCards
	// reports (router 3: logs, reports, Grafana template, runbooks, Graylog)
	reports *reports.Room
}

// pluginCards is the stats room's PluginSource: the cards of the plugins
// room once it is built, none before.
type pluginCards struct{ p atomic.Pointer[plugins.Room] }

// Cards implements stats.PluginSource.
func (c *pluginCards) Cards() []map[string]any {
	if p := c.p.Load(); p != nil {
		return p.Cards()
	}
	return nil
}

// reportHistory reads history for the reports room from the stats room.
type reportHistory struct{ st *stats.Room }

func (h reportHistory) Series(ctx context.Context, metric string, hours float64, step int64, bands bool) ([]reports.Point, error) {
	pts, err := h.st.Series(ctx, stats.Selector{Metric: metric}, hours, step)
	if err != nil {
		return nil, err
	}
	out := make([]reports.Point, 0, len(pts))
	if bands {
		for _, p := range stats.Bands(pts) {
			out = append(out, reports.Point{Time: p.Time, Value: p.Value, UpperBand: p.UpperBand, LowerBand: p.LowerBand, Anomaly: p.Anomaly})
		}
		return out, nil
	}
	for _, p := range pts {
		out = append(out, reports.Point{Time: p.Time, Value: p.Value})
	}
	return out, nil
}

// emailSender sends text to the e-mail notification channel.
type emailSender struct{ s *Server }

func (e emailSender) SendEmail(ctx context.Context, subject, text string) error {
	cfg, _ := e.s.Settings.View()["notifications"].(map[string]any) // shared: read only
	res := (&notify.Sender{}).Send(ctx, cfg, []string{"email"}, notify.Message{Level: "info", Text: subject + "\n\n" + text,
		Event: "report", RuleID: "backup_report", Timestamp: time.Now().Unix()})
	for _, r := range res {
		if !r.OK {
			return errors.New(r.Error)
		}
	}
	return nil
}

// wireAdmin builds and mounts admin remainder, custom dashboards and single sign-on (routers 2, 3, 14). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireAdmin(ctx context.Context, s *Server) error {
	// dashboards (router 14): custom saved dashboards.
	rs.dashboards = dashboards.New(dashboards.Deps{DB: s.DB, Audit: rs.audit, Log: s.Log.With("room", "dashboards"), Now: s.Opts.Now})
	s.mount(rs.dashboards)

	// backups: restic (resticRepo) or snapshot directories (backupDest).
	// Schedules and progress come from the automations room's routes.
	rs.backups = backups.New(backups.Deps{Settings: s.Settings, Audit: rs.audit, Log: s.Log.With("room", "backups"),
		DataDir: s.Cfg.DataDir, Mailer: emailSender{s}, Automations: automationsAPI{rs}, Now: s.Opts.Now})
	s.mount(rs.backups)

	// plugins: discovered now; the collection loop is a job.
	rs.plugins = plugins.New(plugins.Deps{DB: s.DB, Settings: s.Settings, Audit: rs.audit, Log: s.Log.With("room", "plugins"),
		Dir: filepath.Join(s.Cfg.DataDir, "plugins"), Now: s.Opts.Now})
	if _, err := rs.plugins.Reload(ctx); err != nil {
		s.Log.Warn("plugin discovery failed", "err", err)
	}
	rs.pluginCards.p.Store(rs.plugins)
	s.mount(rs.plugins)

	// reports: history from the stats room.
	rs.reports = reports.New(reports.Deps{Settings: s.Settings, History: reportHistory{rs.stats}, Log: s.Log.With("room", "reports"),
		DataDir: s.Cfg.DataDir, Now: s.Opts.Now})
	s.mount(rs.reports)
	return nil
}

// automationsAPI gives the backups room the automations room's Go API
// (rooms never import each other). A server without the automations room
// answers backups.ErrNoAutomations: backups then answers its fallback.
type automationsAPI struct{ rs *rooms }

func (a automationsAPI) ListAutomations(ctx context.Context) ([]map[string]any, error) {
	if a.rs.automations == nil {
		return nil, backups.ErrNoAutomations
	}
	list, err := a.rs.automations.Automations(ctx, "script")
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(list)
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	return out, json.Unmarshal(b, &out)
}

func (a automationsAPI) CreateAutomation(ctx context.Context, name, typ string, config map[string]any, schedule string) (string, error) {
	if a.rs.automations == nil {
		return "", backups.ErrNoAutomations
	}
	return a.rs.automations.CreateAutomation(ctx, map[string]any{"name": name, "type": typ, "config": config,
		"schedule": schedule, "enabled": true})
}

func (a automationsAPI) ActiveRuns(ctx context.Context) ([]backups.Run, error) {
	if a.rs.automations == nil {
		return nil, backups.ErrNoAutomations
	}
	runs, err := a.rs.automations.Runs(ctx, runner.Filter{Status: "running", Limit: 100})
	if err != nil {
		return nil, err
	}
	out := make([]backups.Run, 0, len(runs))
	for _, r := range runs {
		out = append(out, backups.Run{RunID: r.ID, Trigger: r.Trigger, StartedAt: r.StartedAt, Status: r.Status})
	}
	return out, nil
}
