package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/noba-go/noba/internal/alerts/notify"
	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/backups"
	"github.com/noba-go/noba/internal/dashboards"
	"github.com/noba-go/noba/internal/httpx"
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
		DataDir: s.Cfg.DataDir, Mailer: emailSender{s}, Automations: automationsAPI{s}, Now: s.Opts.Now})
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

// automationsAPI gives the backups room the automations room through its
// own routes, called in-process with the caller's session: rooms never
// import each other, and the automations room offers no Go API for
// creating automations. A server without those routes (404/405) has no
// automations: backups then answers its fallback.
type automationsAPI struct{ s *Server }

func (a automationsAPI) call(ctx context.Context, method, path string, body any, out any) error {
	p, ok := authz.From(ctx)
	if !ok || p.Token == "" {
		return backups.ErrNoAutomations
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req := httptest.NewRequestWithContext(ctx, method, path, rd)
	req.Header.Set("Authorization", "Bearer "+p.Token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	a.s.Router.Mux.ServeHTTP(rec, req)
	var e struct {
		Error string `json:"error"`
	}
	if rec.Code/100 != 2 {
		_ = json.Unmarshal(rec.Body.Bytes(), &e)
	}
	switch {
	case rec.Code == http.StatusNotFound && (e.Error == "" || e.Error == "API route not found"), rec.Code == http.StatusMethodNotAllowed:
		return backups.ErrNoAutomations
	case rec.Code/100 != 2 && rec.Code < 500 && e.Error != "":
		return &httpx.Error{Kind: httpx.ErrInvalid, Msg: e.Error}
	case rec.Code/100 != 2:
		return fmt.Errorf("%s %s: %d", method, path, rec.Code)
	}
	return json.Unmarshal(rec.Body.Bytes(), out)
}

func (a automationsAPI) ListAutomations(ctx context.Context) ([]map[string]any, error) {
	var out []map[string]any
	err := a.call(ctx, http.MethodGet, "/api/automations?type=script", nil, &out)
	return out, err
}

func (a automationsAPI) CreateAutomation(ctx context.Context, name, typ string, config map[string]any, schedule string) (string, error) {
	var out struct {
		ID any `json:"id"`
	}
	err := a.call(ctx, http.MethodPost, "/api/automations", map[string]any{"name": name, "type": typ, "config": config,
		"schedule": schedule, "enabled": true}, &out)
	return fmt.Sprint(out.ID), err
}

func (a automationsAPI) ActiveRuns(ctx context.Context) ([]backups.Run, error) {
	var runs []struct {
		ID        int64  `json:"id"`
		Trigger   string `json:"trigger"`
		StartedAt int64  `json:"started_at"`
		Status    string `json:"status"`
	}
	if err := a.call(ctx, http.MethodGet, "/api/runs?status=running&limit=100", nil, &runs); err != nil {
		return nil, err
	}
	out := make([]backups.Run, 0, len(runs))
	for _, r := range runs {
		out = append(out, backups.Run{RunID: r.ID, Trigger: r.Trigger, StartedAt: r.StartedAt, Status: r.Status})
	}
	return out, nil
}
