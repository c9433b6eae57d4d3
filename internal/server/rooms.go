package server

import (
	"context"
	"net"
	"path/filepath"

	"github.com/noba-go/noba/internal/admin"
	"github.com/noba-go/noba/internal/agents"
	"github.com/noba-go/noba/internal/alerts"
	"github.com/noba-go/noba/internal/auth"
	"github.com/noba-go/noba/internal/integrations"
	"github.com/noba-go/noba/internal/monitoring"
	"github.com/noba-go/noba/internal/stats"
)

// rooms holds every built room. Each room is wired here, one block each:
// its dependencies come from the server or from other rooms through the
// small interfaces the room declares.
type rooms struct {
	audit *admin.Auditor
	auth  *auth.Room
	admin *admin.Room
	// agents (router 4)
	agents *agents.Room

	monitoring *monitoring.Room
	// stats (router 1 metrics, operations system views)
	stats *stats.Room
	// integrations (router 9; today the integration blocks of the stats payload)
	integrations *integrations.Room
	// alerts (router 1 alert rules, SLA, history, notifications; router 8 maintenance windows)
	alerts *alerts.Room

	// The later groups of rooms, each wired in its own wire_<group>.go.
	automationsRooms
	infraRooms
	integrationsRooms
	intelligenceRooms
	adminRooms
	healingRooms
}

func buildRooms(ctx context.Context, s *Server) (*rooms, error) {
	rs := &rooms{}
	adminStore := admin.NewStore(s.DB)
	rs.audit = admin.NewAuditor(adminStore, s.Log.With("room", "audit"), s.Opts.Now)
	s.closers = append(s.closers, rs.audit.Close) // flushes the audit queue before the database closes

	// auth
	a, err := auth.New(ctx, auth.Deps{Store: auth.NewStore(s.DB), Settings: s.Settings, Audit: rs.audit,
		Log: s.Log.With("room", "auth"), PwMinLen: s.Cfg.PwMinLen, AuthorizedKeys: s.Cfg.AuthorizedKeys, Now: s.Opts.Now,
		Iterations: s.Opts.PasswordIterations, Cluster: s.Cluster.Bus})
	if err != nil {
		return nil, err
	}
	if s.Opts.SkipBootstrap {
	} else if err := a.Bootstrap(ctx, s.Cfg.AdminUser, s.Cfg.AdminPassword, filepath.Join(s.Cfg.DataDir, "users.conf")); err != nil {
		return nil, err
	}
	rs.auth = a
	s.mount(a)

	// admin
	rs.admin = admin.New(admin.Deps{Store: adminStore, Settings: s.Settings, Audit: rs.audit,
		Log: s.Log.With("room", "admin"), AuditDays: s.Cfg.AuditDays, Now: s.Opts.Now})
	s.mount(rs.admin)

	// The core rooms are built in dependency order, each from rooms built
	// before it: no room is connected after its construction.

	// integrations: the integration blocks (pihole, plex, truenas, ...) of
	// the stats payload, asked once per stats collection.
	rs.integrations = integrations.New(integrations.Deps{Settings: s.Settings, Log: s.Log.With("room", "integrations")})

	// alerts (router 1 alert rules/SLA/history/notifications, router 3
	// notification test, router 8 maintenance windows). Evaluates every
	// snapshot the stats room publishes on the bus. Heal is a nil-safe seam
	// for the healing room; other rooms reach alerts through rs.alerts
	// (Active, RaiseExternal, ResolveExternal, InMaintenance, AddNotification).
	rs.alerts = alerts.New(alerts.Deps{Store: alerts.NewStore(s.DB), Settings: s.Settings, Bus: s.Bus, Audit: rs.audit,
		Log: s.Log.With("room", "alerts"), Now: s.Opts.Now})

	// The metric history (samples, rollups, series) comes before the rooms
	// that write into it (agents) and read it (stats, agents).
	statsStore, err := stats.NewStore(ctx, s.DB)
	if err != nil {
		return nil, err
	}
	history := stats.NewHistory(stats.HistoryDeps{Store: statsStore, Days: s.Cfg.HistoryDays, Now: s.Opts.Now,
		Log: s.Log.With("room", "stats")})

	// agents (router 4). History/Series come from the metric history, SLA
	// incidents from the alerts room; other rooms reach agents through
	// rs.agents (Send, Run, Online, Capabilities, OnResult, AgentMetrics).
	rs.agents, err = agents.New(ctx, agents.Deps{Store: agents.NewStore(s.DB), Settings: s.Settings, Bus: s.Bus,
		Audit: rs.audit, Log: s.Log.With("room", "agents"), DataDir: s.Cfg.DataDir, CORSOrigins: s.Cfg.CORSOrigins,
		OnlineWindow: s.Opts.AgentOnlineWindow, Now: s.Opts.Now, History: history, Cluster: s.Cluster.Bus,
		DeployRoot: s.Opts.AgentDeployRoot, DeployAllowLoopback: s.Opts.AgentDeployLoopback, TrustLevel: s.Opts.AgentHealTrust,
		SSHKeyFiles: []string{filepath.Join(s.Cfg.DataDir, "id_ed25519"), filepath.Join(s.Cfg.DataDir, "id_rsa")},
		Series: func(ctx context.Context, host, metric string, hours int, step int64) ([][2]float64, error) {
			pts, err := history.Series(ctx, stats.Selector{Host: host, Metric: metric}, float64(hours), step)
			out := make([][2]float64, 0, len(pts))
			for _, p := range pts {
				out = append(out, [2]float64{float64(p.Time), p.Value})
			}
			return out, err
		},
		// SLA summary downtime: alert episodes.
		Incidents: agents.IncidentsFunc(func(ctx context.Context, since int64, limit int) ([]agents.Incident, error) {
			eps, err := rs.alerts.EpisodesSince(ctx, since, limit)
			out := make([]agents.Incident, 0, len(eps))
			for _, e := range eps {
				inc := agents.Incident{Source: e.Source, Timestamp: e.Timestamp}
				if e.ResolvedAt != nil {
					inc.ResolvedAt = *e.ResolvedAt
				}
				out = append(out, inc)
			}
			return out, err
		})})
	if err != nil {
		return nil, err
	}

	// stats (router 1: live metrics, SSE, history, Prometheus; ops system
	// views). Plugins is a nil-safe seam for its room.
	rs.stats = stats.New(stats.Deps{Store: statsStore, History: history, Bus: s.Bus, Settings: s.Settings,
		Source: s.Opts.StatsSource, Interval: s.Opts.StatsInterval, HistoryDays: s.Cfg.HistoryDays, Now: s.Opts.Now,
		Log: s.Log.With("room", "stats"), Integrations: rs.integrations, Alerts: rs.alerts, Agents: rs.agents,
		Plugins: &rs.pluginCards})

	// monitoring (router 6). Backups is a nil-safe seam for its room.
	_, listenPort, _ := net.SplitHostPort(s.Cfg.Listen)
	rs.monitoring = monitoring.New(monitoring.Deps{Store: monitoring.NewStore(s.DB), Log: s.Log.With("room", "monitoring"),
		Audit: rs.audit, Settings: s.Settings, ListenPort: listenPort, Now: s.Opts.Now, Stats: rs.stats, Metrics: rs.stats,
		Agents: monitoring.AgentRunner(rs.agents.Run, rs.agents.Online), Alerts: rs.alerts, SLA: rs.alerts})

	// Mounted in the order the routes were always registered.
	for _, room := range []Room{rs.stats, rs.agents, rs.monitoring, rs.alerts} {
		s.mount(room)
	}

	// The later groups, in dependency order (healing last: it uses the
	// approvals of automations and the agents).
	for _, wire := range []func(context.Context, *Server) error{
		rs.wireAutomations,
		rs.wireInfra,
		rs.wireIntegrations,
		rs.wireIntelligence,
		rs.wireAdmin,
		rs.wireHealing,
	} {
		if err := wire(ctx, s); err != nil {
			return nil, err
		}
	}
	return rs, nil
}

// mount adds a room's routes and jobs.
func (s *Server) mount(r Room) {
	r.Routes(s.Router)
	if jr, ok := r.(JobRoom); ok {
		s.Jobs.Add(jr.Jobs()...)
	}
}
