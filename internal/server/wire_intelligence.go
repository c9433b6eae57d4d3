package server

import (
	"context"
	"time"

	"github.com/noba-go/noba/internal/agents"
	"github.com/noba-go/noba/internal/alerts"
	"github.com/noba-go/noba/internal/intelligence"
	"github.com/noba-go/noba/internal/intelligence/predict"
	"github.com/noba-go/noba/internal/security"
	"github.com/noba-go/noba/internal/stats"
	"github.com/noba-go/noba/internal/wire"
)

// intelligenceRooms holds the rooms of intelligence and security (routers 11, 12). Its owner fills it in and
// wires it in wireIntelligence; rooms.go embeds it, so each group of rooms is
// wired in a file of its own.
type intelligenceRooms struct {
	intelligence *intelligence.Room
	security     *security.Room
}

// wireIntelligence builds and mounts intelligence and security (routers 11, 12). It runs after the core rooms
// (auth, admin, stats, agents, monitoring, alerts) are built.
func (rs *rooms) wireIntelligence(_ context.Context, s *Server) error {
	ag := agentSeam{rs.agents}
	alertStore := alerts.NewStore(s.DB)
	rs.intelligence = intelligence.New(intelligence.Deps{Store: intelligence.NewStore(s.DB), Agents: ag,
		Alerts: alertSeam{Room: rs.alerts, store: alertStore}, Settings: s.Settings, Audit: rs.audit,
		Log: s.Log.With("room", "intelligence"), Now: s.Opts.Now, Bus: s.Bus,
		Series: func(ctx context.Context, metric string, hours float64, step int64) ([]predict.Point, error) {
			pts, err := rs.stats.Series(ctx, stats.Selector{Metric: metric}, hours, step)
			out := make([]predict.Point, 0, len(pts))
			for _, p := range pts {
				out = append(out, predict.Point{T: p.Time, V: p.Value})
			}
			return out, err
		}})
	s.mount(rs.intelligence)

	rs.security = security.New(security.Deps{Store: security.NewStore(s.DB), Agents: ag, Audit: rs.audit,
		Log: s.Log.With("room", "security"), Now: s.Opts.Now})
	rs.agents.OnResult(wire.CmdSecurityScan, rs.security.OnScanResult)
	s.mount(rs.security)
	return nil
}

// agentSeam adapts the agents room to the intelligence and security rooms.
type agentSeam struct{ a *agents.Room }

func (g agentSeam) Send(ctx context.Context, host, cmd string, params map[string]any, by string) (string, bool, error) {
	return g.a.Send(ctx, host, cmd, params, by)
}

func (g agentSeam) Run(ctx context.Context, host, cmd string, params map[string]any, by string, timeout time.Duration) (map[string]any, error) {
	return g.a.Run(ctx, host, cmd, params, by, timeout)
}

func (g agentSeam) Online() []string { return g.a.Online() }

func (g agentSeam) Known(host string) bool {
	for _, a := range g.a.AgentList() {
		if a["hostname"] == host {
			return true
		}
	}
	return false
}

func (g agentSeam) List() []intelligence.AgentInfo {
	var out []intelligence.AgentInfo
	for _, a := range g.a.AgentList() {
		host, _ := a["hostname"].(string)
		online, _ := a["online"].(bool)
		info := intelligence.AgentInfo{Hostname: host, Online: online, CPU: wire.FloatOf(a["cpu_percent"], 0),
			Mem: wire.FloatOf(a["mem_percent"], 0), Disk: -1}
		switch ds := a["disks"].(type) {
		case []map[string]any:
			if len(ds) > 0 {
				info.Disk = wire.FloatOf(ds[0]["percent"], -1)
			}
		case []any:
			if len(ds) > 0 {
				if d, ok := ds[0].(map[string]any); ok {
					info.Disk = wire.FloatOf(d["percent"], -1)
				}
			}
		}
		out = append(out, info)
	}
	return out
}

// alertSeam adapts the alerts room (and its history) to the intelligence room.
type alertSeam struct {
	*alerts.Room
	store alerts.Store
}

func (a alertSeam) Recent(ctx context.Context, limit int) ([]intelligence.Alert, error) {
	hs, err := a.store.History(ctx, alerts.HistoryQuery{Limit: limit})
	if err != nil {
		return nil, err
	}
	out := make([]intelligence.Alert, 0, len(hs))
	for _, h := range hs {
		out = append(out, intelligence.Alert{ID: h.ID, RuleID: h.RuleID, Severity: h.Severity, Message: h.Message,
			Timestamp: h.Timestamp, ResolvedAt: h.ResolvedAt})
	}
	return out, nil
}
