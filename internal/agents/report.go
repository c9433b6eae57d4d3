package agents

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

// report serves POST /api/agent/report (spec 20 §4).
func (r *Room) report(w http.ResponseWriter, req *http.Request) {
	pk, kerr := r.checkKey(req, false, "Missing X-Agent-Key", false)
	if kerr != nil {
		httpx.WriteError(w, kerr.status, kerr.msg)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, wire.MaxReport))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			httpx.WriteError(w, http.StatusRequestEntityTooLarge, "Request body too large")
			return
		}
		httpx.WriteError(w, http.StatusBadRequest, "Invalid JSON")
		return
	}
	var rep map[string]any
	if err := json.Unmarshal(body, &rep); err != nil || rep == nil {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid JSON")
		return
	}
	host, _ := rep["hostname"].(string)
	if host == "" {
		host = "unknown"
	}
	if len(host) > 253 {
		host = host[:253]
	}
	if !wire.ValidHostname(host) {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid hostname")
		return
	}
	if !pk.allows(host) {
		httpx.WriteError(w, http.StatusForbidden, "Agent key not valid for hostname '"+host+"'")
		return
	}
	resp := r.ingestReport(req.Context(), host, httpx.ClientIP(req.Context()), rep)
	httpx.WriteJSON(w, http.StatusOK, resp)
}

// ingestReport applies one report (spec 20 §4.2) and returns the answer.
func (r *Room) ingestReport(ctx context.Context, host, ip string, rep map[string]any) wire.ReportResponse {
	now := r.now()
	ctx = context.WithoutCancel(ctx)

	if caps, ok := rep[wire.KeyCapabilities].(map[string]any); ok {
		r.storeCapabilities(ctx, host, caps, now)
	}
	if list, ok := rep[wire.KeyCmdResults].([]any); ok {
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				if res, ok := wire.NormalizeResult(wire.Msg(m)); ok {
					r.ingestResult(ctx, host, res)
				}
			}
		}
	}
	if sd, ok := rep[wire.KeyStreamData].(map[string]any); ok {
		for id, v := range sd {
			lines, _ := v.([]any)
			ss := make([]string, 0, len(lines))
			for _, l := range lines {
				if s, ok := l.(string); ok {
					ss = append(ss, s)
				}
			}
			if len(ss) > 0 && wire.ValidCommandID(id) {
				r.hub.appendLogs(host, id, ss)
			}
		}
	}
	if list, ok := rep[wire.KeyHealReports].([]any); ok && len(list) > 0 {
		r.hookMu.RLock()
		hs := r.healHooks
		r.hookMu.RUnlock()
		for _, e := range list {
			if m, ok := e.(map[string]any); ok {
				for _, h := range hs {
					h(ctx, host, m)
				}
			}
		}
	}
	clean := make(map[string]any, len(rep))
	for k, v := range rep {
		if !strings.HasPrefix(k, "_") {
			clean[k] = v
		}
	}
	clean["hostname"] = host
	platform, _ := clean["platform"].(string)
	arch, _ := clean["arch"].(string)
	version, _ := clean["agent_version"].(string)
	impl, _ := clean["agent_impl"].(string)

	r.hub.mu.Lock()
	if now.Sub(r.hub.lastEvict) > 10*time.Second {
		r.hub.lastEvict = now
		for h, a := range r.hub.agents {
			if h != host && !a.received.IsZero() && now.Sub(a.received) > evictAfter && a.conn == nil {
				delete(r.hub.agents, h)
			}
		}
	}
	a := r.hub.getLocked(host)
	// The registry row is written when something in it changed, and at
	// least every registryEvery: last_seen is kept in memory in between.
	persist := a.persistedAt.IsZero() || now.Sub(a.persistedAt) >= registryEvery ||
		a.ip != ip || a.platform != platform || a.arch != arch || a.version != version
	a.report, a.received, a.ip = clean, now, ip
	a.platform, a.arch, a.version, a.impl = platform, arch, version, impl
	if persist {
		a.persistedAt = now
	}
	r.hub.mu.Unlock()

	if persist {
		if err := r.d.Store.UpsertAgent(ctx, RegistryRow{Hostname: host, IP: ip, Platform: platform, Arch: arch,
			AgentVersion: version, FirstSeen: now.Unix(), LastSeen: now.Unix()}); err != nil {
			r.log.Error("agent report", "err", err)
		}
	}
	r.writeHistory(ctx, host, now, clean)
	if r.d.Bus != nil {
		r.d.Bus.Publish(events.TopicAgentReport, clean)
	}

	cmds := r.hub.drain(host)
	if expired := r.hub.expireQueuesThrottled(now); len(expired) > 0 {
		_ = r.d.Store.ExpireCommands(ctx, expired)
	}
	delivered := float64(now.UnixMilli()) / 1000
	for i := range cmds {
		cmds[i].DeliveredAt = delivered
	}
	if up := r.autoUpdate(host, version, impl, platform, arch, cmds, now); up != nil {
		cmds = append(cmds, *up)
	}
	if cmds == nil {
		cmds = []wire.QueuedCommand{}
	}
	return wire.ReportResponse{Status: "ok", Commands: cmds, HealPolicy: r.healPolicy()}
}

// FlushRegistry writes the registry rows whose last report is newer than
// their last write.
func (r *Room) FlushRegistry(ctx context.Context) error {
	var rows []RegistryRow
	r.hub.mu.Lock()
	for h, a := range r.hub.agents {
		if a.report != nil && a.received.After(a.persistedAt) {
			rows = append(rows, RegistryRow{Hostname: h, IP: a.ip, Platform: a.platform, Arch: a.arch,
				AgentVersion: a.version, FirstSeen: a.received.Unix(), LastSeen: a.received.Unix()})
			a.persistedAt = a.received
		}
	}
	r.hub.mu.Unlock()
	for _, row := range rows {
		if err := r.d.Store.UpsertAgent(ctx, row); err != nil {
			return err
		}
	}
	return nil
}

// metricsOf extracts the numeric series of a report written to history.
func metricsOf(rep map[string]any) map[string]float64 {
	m := map[string]float64{
		"cpu": wire.FloatOf(rep["cpu_percent"], 0),
		"mem": wire.FloatOf(rep["mem_percent"], 0),
	}
	if disks, ok := rep["disks"].([]any); ok && len(disks) > 0 {
		if d, ok := disks[0].(map[string]any); ok {
			m["disk"] = wire.FloatOf(d["percent"], 0)
		}
	}
	for _, k := range []string{"load_1m", "load_5m", "load_15m", "uptime_s", "net_bytes_sent", "net_bytes_recv", "cpu_count"} {
		if v, ok := rep[k]; ok {
			m[k] = wire.FloatOf(v, 0)
		}
	}
	return m
}

func (r *Room) writeHistory(ctx context.Context, host string, now time.Time, rep map[string]any) {
	if r.d.History == nil {
		return
	}
	if err := r.d.History.WriteSamples(ctx, host, now.Unix(), metricsOf(rep)); err != nil {
		r.log.Warn("agent history", "hostname", host, "err", err)
	}
}

// AgentMetrics returns the latest metrics of every online agent (hostname ->
// metric -> value) for the Prometheus exposition.
func (r *Room) AgentMetrics() map[string]map[string]float64 {
	now := r.now()
	out := map[string]map[string]float64{}
	for _, s := range r.hub.snapshots() {
		if s.report == nil || !r.online(s, now) {
			continue
		}
		out[s.hostname] = metricsOf(s.report)
	}
	return out
}

// AgentList returns the "agents" array of the stats payload: every known
// agent with its headline metrics.
func (r *Room) AgentList() []map[string]any {
	now := r.now()
	out := []map[string]any{}
	for _, s := range r.hub.snapshots() {
		v := r.view(s, now)
		item := map[string]any{}
		for _, k := range []string{"hostname", "cpu_percent", "mem_percent", "online", "last_seen_s", "platform", "uptime_s",
			"disks", "top_processes", "arch", "agent_version"} {
			item[k] = v[k]
		}
		out = append(out, item)
	}
	return out
}

func (r *Room) storeCapabilities(ctx context.Context, host string, caps map[string]any, now time.Time) {
	b, err := json.Marshal(caps)
	if err != nil {
		return
	}
	var degraded []string
	if cs, ok := caps["capabilities"].(map[string]any); ok {
		for name, v := range cs {
			if m, ok := v.(map[string]any); ok {
				if avail, ok := m["available"].(bool); ok && !avail {
					degraded = append(degraded, name)
				}
			}
		}
	}
	sort.Strings(degraded)
	if degraded == nil {
		degraded = []string{}
	}
	db, _ := json.Marshal(degraded)
	if err := r.d.Store.UpsertCapabilities(ctx, host, b, now.Unix(), db); err != nil {
		r.log.Warn("capabilities", "err", err)
	}
}

// Capabilities returns the stored capability manifest of host (for the
// healing room).
func (r *Room) Capabilities(ctx context.Context, host string) (map[string]any, int64, error) {
	b, probed, err := r.d.Store.Capabilities(ctx, host)
	if err != nil {
		return nil, 0, err
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m, probed, nil
}

// healPolicy builds the agent heal policy from the alertRules setting
// (spec 20 §4.4). Rules run on the agent only with trust level "execute";
// without a healing trust source every rule is "notify".
func (r *Room) healPolicy() map[string]any {
	r.healMu.Lock()
	defer r.healMu.Unlock()
	if r.healAt.IsZero() || time.Since(r.healAt) > 5*time.Second {
		r.healCache = r.buildHealPolicy()
		r.healAt = time.Now()
	}
	return r.healCache
}

func (r *Room) buildHealPolicy() map[string]any {
	rules := []any{}
	if r.d.Settings != nil {
		list, _ := r.d.Settings.Value("alertRules").([]any)
		for _, e := range list {
			rule, ok := e.(map[string]any)
			if !ok {
				continue
			}
			id, _ := rule["id"].(string)
			cond, _ := rule["condition"].(string)
			chain, _ := rule["escalation_chain"].([]any)
			for _, st := range chain {
				step, ok := st.(map[string]any)
				if !ok {
					continue
				}
				act, _ := step["action"].(string)
				switch act {
				case "restart_container", "restart_service", "clear_cache", "flush_dns":
				default:
					continue
				}
				params, _ := step["params"].(map[string]any)
				if params == nil {
					params = map[string]any{}
				}
				trust := "notify"
				if r.d.TrustLevel != nil {
					if t := r.d.TrustLevel(id); t != "" {
						trust = t
					}
				}
				rules = append(rules, map[string]any{"rule_id": id, "condition": cond, "action_type": act,
					"action_params": params, "max_retries": 3, "cooldown_s": 300, "trust_level": trust, "fallback_mode": nil})
			}
		}
	}
	b, _ := json.Marshal(rules)
	sum := sha256.Sum256(b)
	return map[string]any{"rules": rules, "version": hex.EncodeToString(sum[:])[:12], "fallback_mode": "queue_for_server"}
}
