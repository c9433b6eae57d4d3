package agents

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

type hostIn struct {
	Hostname string `path:"hostname"`
}

func checkHost(h string) error {
	if !wire.ValidHostname(h) {
		return httpx.Invalid("Invalid hostname")
	}
	return nil
}

// view is the list-item shape of an agent.
func (r *Room) view(s snapshot, now time.Time) map[string]any {
	var out map[string]any
	if s.report != nil {
		out = metricsMap(s.report)
	} else {
		out = map[string]any{}
		out["platform"], out["arch"], out["agent_version"] = s.platform, s.arch, s.version
	}
	out["hostname"] = s.hostname
	out["online"] = r.online(s, now)
	age := int64(-1)
	if !s.received.IsZero() {
		age = int64(math.Max(0, now.Sub(s.received).Seconds()))
	}
	out["last_seen_s"] = age
	out["websocket"] = s.ws
	return out
}

// metricsMap is the JSON object of a report's metrics.
func metricsMap(m *wire.Metrics) map[string]any {
	disks, procs, temps := m.Disks, m.TopProcesses, m.Temperatures
	if disks == nil {
		disks = []wire.Disk{}
	}
	if procs == nil {
		procs = []wire.Process{}
	}
	if temps == nil {
		temps = map[string]float64{}
	}
	out := map[string]any{"hostname": m.Hostname, "platform": m.Platform, "arch": m.Arch, "agent_version": m.AgentVersion,
		"timestamp": m.Timestamp, "cpu_percent": m.CPUPercent, "cpu_count": m.CPUCount, "load_1m": m.Load1,
		"load_5m": m.Load5, "load_15m": m.Load15, "mem_total": m.MemTotal, "mem_used": m.MemUsed, "mem_percent": m.MemPercent,
		"disks": disks, "net_bytes_sent": m.NetBytesSent, "net_bytes_recv": m.NetBytesRecv, "temperatures": temps,
		"top_processes": procs, "uptime_s": m.UptimeS}
	if m.AgentImpl != "" {
		out["agent_impl"] = m.AgentImpl
	}
	if m.Tags != "" {
		out["tags"] = m.Tags
	}
	return out
}

type listOut struct{ Body []map[string]any }

func (r *Room) list(ctx context.Context, _ *struct{}) (*listOut, error) {
	now := r.now()
	out := &listOut{Body: []map[string]any{}}
	for _, s := range r.hub.snapshots() {
		out.Body = append(out.Body, r.view(s, now))
	}
	return out, nil
}

type historyListIn struct {
	Hostname string `query:"hostname"`
	Limit    string `query:"limit"`
}

type historyListOut struct{ Body []HistoryRow }

func (r *Room) commandHistory(ctx context.Context, in *historyListIn) (*historyListOut, error) {
	limit, err := httpx.IntParam("limit", in.Limit, 50, 1, 200)
	if err != nil {
		return nil, err
	}
	rows, err := r.d.Store.CommandHistory(ctx, strings.TrimSpace(in.Hostname), limit)
	if err != nil {
		return nil, err
	}
	return &historyListOut{Body: rows}, nil
}

type detailOut struct{ Body map[string]any }

func (r *Room) detail(ctx context.Context, in *hostIn) (*detailOut, error) {
	s, ok := r.hub.snapshot(in.Hostname)
	if !ok {
		return nil, httpx.NotFound("Agent not found")
	}
	v := r.view(s, r.now())
	res, _ := r.hub.results(in.Hostname)
	v["cmd_results"] = res
	return &detailOut{Body: v}, nil
}

type commandIn struct {
	Hostname string `path:"hostname"`
	Body     struct {
		Type   string         `json:"type"`
		Params map[string]any `json:"params"`
	}
}

type commandOut struct {
	Body struct {
		Status    string `json:"status"`
		ID        string `json:"id"`
		WebSocket bool   `json:"websocket"`
	}
}

func (r *Room) command(ctx context.Context, in *commandIn) (*commandOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	p := authz.Must(ctx)
	cmd := strings.TrimSpace(in.Body.Type)
	if err := commandCheck(string(p.Role), cmd, in.Body.Params); err != nil {
		return nil, err
	}
	if err := r.capabilityCheck(in.Hostname, cmd); err != nil {
		return nil, err
	}
	id, ws := r.dispatch(ctx, in.Hostname, cmd, in.Body.Params, p.Username, sendOpts{record: true})
	r.audit(ctx, "agent_command", p.Username, fmt.Sprintf("host=%s type=%s id=%s ws=%s", in.Hostname, cmd, id, boolStr(ws)), httpx.ClientIP(ctx))
	out := &commandOut{}
	out.Body.Status, out.Body.ID, out.Body.WebSocket = "queued", id, ws
	if ws {
		out.Body.Status = "sent"
	}
	return out, nil
}

type bulkIn struct {
	Body struct {
		Hostnames []string       `json:"hostnames"`
		Type      string         `json:"type"`
		Params    map[string]any `json:"params"`
	}
}

type bulkOut struct {
	Body struct {
		Status   string            `json:"status"`
		Commands map[string]string `json:"commands"`
	}
}

func (r *Room) bulkCommand(ctx context.Context, in *bulkIn) (*bulkOut, error) {
	p := authz.Must(ctx)
	cmd := strings.TrimSpace(in.Body.Type)
	if err := commandCheck(string(p.Role), cmd, in.Body.Params); err != nil {
		if strings.HasPrefix(err.Error(), "Insufficient permissions") {
			return nil, httpx.Forbidden("Insufficient permissions")
		}
		return nil, err
	}
	hosts := in.Body.Hostnames
	if len(hosts) == 0 {
		for _, s := range r.hub.snapshots() {
			hosts = append(hosts, s.hostname)
		}
	}
	if len(hosts) > 1000 {
		return nil, httpx.Invalid("Too many hostnames (max 1000)")
	}
	for _, h := range hosts {
		if err := checkHost(h); err != nil {
			return nil, httpx.Invalid("Invalid hostname '%s'", h)
		}
	}
	out := &bulkOut{}
	out.Body.Status, out.Body.Commands = "queued", map[string]string{}
	for _, h := range hosts {
		if _, dup := out.Body.Commands[h]; dup {
			continue
		}
		id, _ := r.dispatch(ctx, h, cmd, in.Body.Params, p.Username, sendOpts{record: true})
		out.Body.Commands[h] = id
	}
	r.audit(ctx, "agent_bulk_command", p.Username, fmt.Sprintf("type=%s targets=%d", cmd, len(out.Body.Commands)), httpx.ClientIP(ctx))
	return out, nil
}

type queuedOut struct {
	Body struct {
		Status string `json:"status"`
		ID     string `json:"id"`
	}
}

func (r *Room) uninstall(ctx context.Context, in *hostIn) (*queuedOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	p := authz.Must(ctx)
	id, _ := r.dispatch(ctx, in.Hostname, wire.CmdUninstallAgent, map[string]any{"confirm": true}, p.Username, sendOpts{record: true})
	r.audit(ctx, "agent_uninstall", p.Username, fmt.Sprintf("host=%s id=%s", in.Hostname, id), httpx.ClientIP(ctx))
	out := &queuedOut{}
	out.Body.Status, out.Body.ID = "queued", id
	return out, nil
}

type statusOut struct {
	Body struct {
		Status string `json:"status"`
	}
}

func (r *Room) deleteAgent(ctx context.Context, in *hostIn) (*statusOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	p := authz.Must(ctx)
	if c := r.hub.remove(in.Hostname); c != nil {
		c.close(1000, "Agent removed")
	}
	if err := r.d.Store.DeleteAgent(ctx, in.Hostname); err != nil {
		return nil, err
	}
	publish(r, ctx, chRemoved, removedMsg{Host: in.Hostname})
	r.audit(ctx, "agent_delete", p.Username, "host="+in.Hostname, httpx.ClientIP(ctx))
	out := &statusOut{}
	out.Body.Status = "ok"
	return out, nil
}

type resultsOut struct{ Body []wire.Msg }

func (r *Room) results(ctx context.Context, in *hostIn) (*resultsOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	res, _ := r.hub.results(in.Hostname)
	return &resultsOut{Body: res}, nil
}

type agentHistoryIn struct {
	Hostname string `path:"hostname"`
	Metric   string `query:"metric"`
	Hours    string `query:"hours"`
}

type point struct {
	Time  int64   `json:"time"`
	Value float64 `json:"value"`
}

type agentHistoryOut struct{ Body []point }

func (r *Room) history(ctx context.Context, in *agentHistoryIn) (*agentHistoryOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	hours, err := httpx.IntParam("hours", in.Hours, 24, 1, 168)
	if err != nil {
		return nil, err
	}
	metric := in.Metric
	if metric == "" {
		metric = "cpu"
	}
	switch metric {
	case "cpu", "mem", "disk":
	default:
		return nil, httpx.Invalid("Invalid metric parameter: use cpu, mem or disk")
	}
	out := &agentHistoryOut{Body: []point{}}
	if r.d.Series == nil {
		return out, nil
	}
	pts, err := r.d.Series(ctx, in.Hostname, metric, hours, 120)
	if err != nil {
		return nil, err
	}
	for _, p := range pts {
		out.Body = append(out.Body, point{Time: int64(p[0]), Value: math.Round(p[1]*100) / 100})
	}
	return out, nil
}

type netStatsOut struct{ Body map[string]any }

func (r *Room) networkStats(ctx context.Context, in *hostIn) (*netStatsOut, error) {
	if err := checkHost(in.Hostname); err != nil {
		return nil, err
	}
	s, ok := r.hub.snapshot(in.Hostname)
	if !ok || !r.online(s, r.now()) && !s.ws {
		return nil, httpx.NotFound("Agent '%s' not found or offline", in.Hostname)
	}
	if err := r.capabilityCheck(in.Hostname, wire.CmdNetworkStats); err != nil {
		return nil, err
	}
	p := authz.Must(ctx)
	id := wire.NewID(8)
	ch, cancel := r.hub.waiter(in.Hostname, id)
	defer cancel()
	_, ws := r.dispatch(ctx, in.Hostname, wire.CmdNetworkStats, map[string]any{}, p.Username, sendOpts{id: id, record: true})
	if ws {
		if m, ok := r.hub.wait(ctx, ch, 5*time.Second); ok {
			r.storeNetStats(ctx, in.Hostname, m)
			r.audit(ctx, "agent_network_stats", p.Username, fmt.Sprintf("host=%s id=%s", in.Hostname, id), httpx.ClientIP(ctx))
			return &netStatsOut{Body: m}, nil
		}
	}
	r.audit(ctx, "agent_network_stats", p.Username, fmt.Sprintf("host=%s id=%s ws=%s", in.Hostname, id, boolStr(ws)), httpx.ClientIP(ctx))
	return &netStatsOut{Body: map[string]any{"status": "queued", "id": id, "message": "Command queued; check results endpoint."}}, nil
}

// storeNetStats writes per-interface rates to history as
// net_if_<iface>_rx/_tx of the host.
func (r *Room) storeNetStats(ctx context.Context, host string, m wire.Msg) {
	if r.d.History == nil {
		return
	}
	ifs, _ := m["interfaces"].([]any)
	metrics := map[string]float64{}
	for _, e := range ifs {
		i, ok := e.(map[string]any)
		if !ok {
			continue
		}
		name, _ := i["name"].(string)
		name = strings.ReplaceAll(name, ".", "_")
		if name == "" {
			continue
		}
		metrics["net_if_"+name+"_rx"] = wire.FloatOf(i["rx_rate"], 0)
		metrics["net_if_"+name+"_tx"] = wire.FloatOf(i["tx_rate"], 0)
	}
	if len(metrics) > 0 {
		_ = r.d.History.WriteSamples(ctx, host, r.now().Unix(), metrics)
	}
}
