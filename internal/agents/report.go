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
	"time"

	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/wire"
)

// report serves POST /api/agent/report (spec 20 §4).
func (r *Room) report(w http.ResponseWriter, req *http.Request) {
	pk, kerr := r.checkKey(req, false, "Missing X-Agent-Key", false)
	if kerr != nil {
		kerr.write(w)
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
	rep, err := wire.DecodeReport(body)
	if err != nil {
		httpx.WriteError(w, http.StatusBadRequest, "Invalid JSON")
		return
	}
	host := rep.Hostname
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
	rep.Hostname = host
	resp := r.ingestReport(req.Context(), host, httpx.ClientIP(req.Context()), rep)
	httpx.WriteJSON(w, http.StatusOK, resp)
}

// Bounds of what one report may hand over (spec 20 §4.2 with the
// hardening of issue 11 §6).
const (
	maxResultsPerReport = 100
	maxHealPerReport    = 100
	maxStreamsPerReport = 16
	maxLinesPerReport   = 2000
	maxLineBytes        = 4 << 10
	maxDisks            = 64
	maxProcesses        = 10
	maxTemperatures     = 64
)

// trimMetrics bounds the lists of a report's metrics.
func trimMetrics(m *wire.Metrics) {
	if len(m.Disks) > maxDisks {
		m.Disks = m.Disks[:maxDisks]
	}
	if len(m.TopProcesses) > maxProcesses {
		m.TopProcesses = m.TopProcesses[:maxProcesses]
	}
	if len(m.Temperatures) > maxTemperatures {
		n := 0
		for k := range m.Temperatures {
			if n++; n > maxTemperatures {
				delete(m.Temperatures, k)
			}
		}
	}
	m.Tags = wire.Truncate(m.Tags, 1024)
	m.Platform, m.Arch = wire.Truncate(m.Platform, 64), wire.Truncate(m.Arch, 64)
	m.AgentVersion, m.AgentImpl = wire.Truncate(m.AgentVersion, 64), wire.Truncate(m.AgentImpl, 32)
	for i := range m.Disks {
		m.Disks[i].Mount, m.Disks[i].FSType = wire.Truncate(m.Disks[i].Mount, 512), wire.Truncate(m.Disks[i].FSType, 64)
	}
	for i := range m.TopProcesses {
		m.TopProcesses[i].Name = wire.Truncate(m.TopProcesses[i].Name, 256)
	}
}

// ingestReport applies one report (spec 20 §4.2) and returns the answer.
func (r *Room) ingestReport(ctx context.Context, host, ip string, rep *wire.Report) wire.ReportResponse {
	now := r.now()
	ctx = context.WithoutCancel(ctx)

	if len(rep.Capabilities) > 0 {
		r.storeCapabilities(ctx, host, rep.Capabilities, now)
	}
	for i, m := range rep.CmdResults {
		if i >= maxResultsPerReport {
			break
		}
		if res, ok := wire.NormalizeResult(m); ok {
			r.ingestResult(ctx, host, res)
		}
	}
	kept := 0
	for id, lines := range rep.StreamData {
		if kept >= maxStreamsPerReport {
			break
		}
		if len(lines) == 0 || !wire.ValidCommandID(id) {
			continue
		}
		if len(lines) > maxLinesPerReport {
			lines = lines[len(lines)-maxLinesPerReport:]
		}
		for i, l := range lines {
			if len(l) > maxLineBytes {
				lines[i] = wire.Truncate(l, maxLineBytes)
			}
		}
		if r.hub.appendLogs(host, id, lines) {
			kept++
			publish(r, ctx, chLines, linesMsg{Host: host, ID: id, Lines: lines})
		}
	}
	if len(rep.HealReports) > 0 {
		r.hookMu.RLock()
		hs := r.healHooks
		r.hookMu.RUnlock()
		for i, m := range rep.HealReports {
			if i >= maxHealPerReport {
				break
			}
			for _, h := range hs {
				h(ctx, host, map[string]any(m))
			}
		}
	}
	m := &rep.Metrics
	m.Hostname = host
	trimMetrics(m)
	platform, arch, version, impl := m.Platform, m.Arch, m.AgentVersion, m.AgentImpl

	r.hub.mu.Lock()
	if now.Sub(r.hub.lastEvict) > 10*time.Second {
		r.hub.lastEvict = now
		for h, a := range r.hub.agents {
			if h != host && !a.received.IsZero() && now.Sub(a.received) > evictAfter && a.conn == nil {
				r.hub.removeLocked(h)
			}
		}
	}
	a := r.hub.getLocked(host)
	// The registry row is written by the registry job (every few seconds,
	// all changed rows in one transaction), never on the report's path:
	// thousands of agents would queue behind one writer.
	a.report, a.received, a.ip = m, now, ip
	a.platform, a.arch, a.version, a.impl = platform, arch, version, impl
	r.hub.mu.Unlock()

	r.writeHistory(ctx, host, now, m)
	publish(r, ctx, chReport, reportMsg{Host: host, IP: ip, At: now.UnixMilli(), Metrics: m})
	if r.d.Bus != nil {
		// Subscribers get the typed metrics; they must not modify them.
		r.d.Bus.Publish(events.TopicAgentReport, m)
	}

	cmds := r.hub.drain(host)
	if len(cmds) > 0 {
		ids := make([]string, len(cmds))
		for i, c := range cmds {
			ids[i] = c.ID
		}
		if err := r.d.Store.MarkDelivered(ctx, ids); err != nil {
			r.log.Warn("mark delivered", "err", err)
		}
		publish(r, ctx, chDrained, drainedMsg{Host: host, IDs: ids})
	}
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
	if len(rows) == 0 {
		return nil
	}
	if err := r.d.Store.UpsertAgents(ctx, rows); err != nil {
		// Written again by the next flush.
		r.hub.mu.Lock()
		for _, row := range rows {
			if a := r.hub.agents[row.Hostname]; a != nil {
				a.persistedAt = time.Time{}
			}
		}
		r.hub.mu.Unlock()
		return err
	}
	return nil
}

func (r *Room) writeHistory(ctx context.Context, host string, now time.Time, m *wire.Metrics) {
	if r.d.History == nil {
		return
	}
	if err := r.d.History.WriteSamples(ctx, host, now.Unix(), m.Series()); err != nil {
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
		out[s.hostname] = s.report.Series()
	}
	return out
}

// AgentList returns the "agents" array of the stats payload: every known
// agent with its headline metrics.
func (r *Room) AgentList() []map[string]any {
	now := r.now()
	snaps := r.hub.snapshots()
	out := make([]map[string]any, 0, len(snaps))
	for _, s := range snaps {
		age := int64(-1)
		if !s.received.IsZero() {
			age = int64(max(0, now.Sub(s.received).Seconds()))
		}
		item := map[string]any{"hostname": s.hostname, "online": r.online(s, now), "last_seen_s": age,
			"platform": s.platform, "arch": s.arch, "agent_version": s.version,
			"cpu_percent": nil, "mem_percent": nil, "uptime_s": nil, "disks": nil, "top_processes": nil}
		if m := s.report; m != nil {
			item["cpu_percent"], item["mem_percent"], item["uptime_s"] = m.CPUPercent, m.MemPercent, m.UptimeS
			disks, procs := m.Disks, m.TopProcesses
			if disks == nil {
				disks = []wire.Disk{}
			}
			if procs == nil {
				procs = []wire.Process{}
			}
			item["disks"], item["top_processes"] = disks, procs
		}
		out = append(out, item)
	}
	return out
}

func (r *Room) storeCapabilities(ctx context.Context, host string, raw json.RawMessage, now time.Time) {
	var caps struct {
		Capabilities map[string]struct {
			Available *bool `json:"available"`
		} `json:"capabilities"`
	}
	if err := json.Unmarshal(raw, &caps); err != nil {
		return
	}
	var degraded []string
	for name, c := range caps.Capabilities {
		if c.Available != nil && !*c.Available {
			degraded = append(degraded, name)
		}
	}
	sort.Strings(degraded)
	if degraded == nil {
		degraded = []string{}
	}
	db, _ := json.Marshal(degraded)
	if err := r.d.Store.UpsertCapabilities(ctx, host, raw, now.Unix(), db); err != nil {
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
