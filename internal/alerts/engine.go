package alerts

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/alerts/notify"
	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/wire"
	"github.com/noba-go/noba/internal/wire/condition"
)

// agentTTL is how long an agent report feeds the metric map.
const agentTTL = 120 * time.Second

// ObserveAgent records an agent report's metrics (events.TopicAgentReport):
// they answer the conditions' `agent_<host>.<metric>` names (wire.Metrics
// Lookup) until the report is older than 120 s. The metrics are kept as
// they are, never copied into the evaluation's metric map; the caller must
// not modify them afterwards.
func (r *Room) ObserveAgent(m *wire.Metrics) {
	if m == nil || m.Hostname == "" {
		return
	}
	key := agentPrefix(m.Hostname)
	r.mu.Lock()
	r.agents[key] = agentMetrics{at: r.d.Now(), m: m}
	r.mu.Unlock()
}

// pruneAgentsLocked forgets agents whose last report is too old.
func (r *Room) pruneAgentsLocked(now time.Time) {
	for k, a := range r.agents {
		if now.Sub(a.at) > agentTTL {
			delete(r.agents, k)
		}
	}
}

// lookupLocked resolves a metric name: the flattened snapshot, then an
// agent's report (`agent_<host>.<metric>`), then one item of the
// snapshot's agents list (`agents[i].<field>`, left out of the flat map).
func (r *Room) lookupLocked(flat map[string]float64, snap map[string]any, k string) (float64, bool) {
	if v, ok := flat[k]; ok {
		return v, true
	}
	if strings.HasPrefix(k, "agent_") {
		head, rest, ok := strings.Cut(k, ".")
		if !ok {
			return 0, false
		}
		a, found := r.agents[head]
		if !found {
			return 0, false
		}
		return a.m.Lookup(rest)
	}
	if strings.HasPrefix(k, "agents[") {
		return agentItem(snap, k)
	}
	return 0, false
}

func (r *Room) condLocked(s string) (*condition.Condition, error) {
	if c, ok := r.condCache[s]; ok {
		return c, nil
	}
	c, err := condition.Parse(s)
	if err != nil {
		return nil, err
	}
	if len(r.condCache) > 1000 {
		clear(r.condCache)
	}
	r.condCache[s] = c
	return c, nil
}

// Evaluate runs one evaluation cycle on a stats snapshot (spec 10 §5.3,
// §5.5 with the §13 fixes): every rule fires or resolves its episode,
// notifications honour each rule's cooldown and go out in the background,
// escalation tiers are sent once per episode, and the built-in threshold
// alerts are recomputed.
func (r *Room) Evaluate(ctx context.Context, snapshot map[string]any) error {
	snap := plainSnapshot(snapshot)
	now := r.d.Now()
	settings := r.d.Settings.View() // read-only: no copy per evaluation
	mt := r.maintenanceAt(ctx, now, settings)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ensureLoadedLocked(ctx)
	r.pruneAgentsLocked(now)
	flat := events.NewSnapshot(snap).Metrics()
	r.lastFlat, r.lastSnap = flat, snap
	get := func(k string) (float64, bool) { return r.lookupLocked(flat, snap, k) }

	seen := map[string]bool{}
	for _, raw := range rulesOf(settings) {
		rule := ruleOf(raw)
		if rule.ID == "" || seen[rule.ID] {
			continue
		}
		seen[rule.ID] = true
		if err := r.evalRuleLocked(ctx, rule, get, mt, now); err != nil {
			r.d.Log.Warn("alert rule evaluation failed", "rule_id", rule.ID, "err", err)
		}
	}
	for id, st := range r.rules {
		if !seen[id] && st.firing {
			r.resolveLocked(ctx, id, st, now, false)
		}
		if !seen[id] {
			delete(r.rules, id)
		}
	}
	r.builtin = r.builtinsLocked(ctx, snap, settings, mt, now)
	return nil
}

// eventMetricsLocked is the metric map handed to the healer with a firing
// rule: the snapshot's metrics and the values of the metrics its condition
// names (agent metrics included).
func (r *Room) eventMetricsLocked(cond string) map[string]float64 {
	out := maps.Clone(r.lastFlat)
	if c, err := r.condLocked(cond); err == nil {
		for _, k := range c.Metrics() {
			if v, ok := r.lookupLocked(r.lastFlat, r.lastSnap, k); ok {
				out[k] = v
			}
		}
	}
	return out
}

func (r *Room) evalRuleLocked(ctx context.Context, rule Rule, get func(string) (float64, bool), mt maintenance, now time.Time) error {
	st := r.rules[rule.ID]
	if st == nil {
		st = &ruleState{escSent: map[int]bool{}}
		r.rules[rule.ID] = st
	}
	autonomy := "execute"
	if rule.HasAutonomy {
		autonomy = rule.Autonomy
	}
	if mt.override != "" {
		autonomy = mt.override
	}
	active := false
	if autonomy != "disabled" {
		c, err := r.condLocked(rule.Condition)
		if err != nil {
			r.d.Log.Warn("alert rule has an invalid condition", "rule_id", rule.ID, "err", err)
		} else {
			active = c.Eval(get)
		}
	}
	if !active {
		if st.firing {
			r.resolveLocked(ctx, rule.ID, st, now, !mt.suppress)
		}
		return nil
	}
	st.severity, st.message, st.channels = rule.Severity, rule.Message, rule.Channels
	if !st.firing {
		if _, err := r.d.Store.OpenEpisode(ctx, rule.ID, "rule", now.Unix(), rule.Severity, rule.Message,
			&Incident{Severity: rule.Severity, Source: "alert", Title: rule.Message, Details: rule.Condition, Resolved: mt.close}); err != nil {
			return err
		}
		st.firing, st.start, st.notified = true, now.Unix(), false
		clear(st.escSent)
		r.publish("firing", rule.ID, "rule", rule.Severity, rule.Message, now)
		if h := r.healer(); rule.Action != nil && h != nil {
			ev := map[string]any{"source": "alert", "rule_id": rule.ID, "condition": rule.Condition, "target": rule.Action["target"],
				"severity": rule.Severity, "timestamp": now.Unix(), "action": clone(rule.Action), "metrics": r.eventMetricsLocked(rule.Condition)}
			if chain, ok := rule.Raw["escalation_chain"]; ok {
				ev["escalation_chain"] = clone(chain)
			}
			h.HandleAlertEvent(context.WithoutCancel(ctx), ev)
		}
	}
	if mt.suppress {
		return nil
	}
	text := rule.Message
	switch autonomy {
	case "execute", "notify":
	case "approve":
		text = "[APPROVAL NEEDED] " + text
	default:
		return nil
	}
	cool := time.Duration(rule.Cooldown) * time.Second
	if st.lastNotified.IsZero() || now.Sub(st.lastNotified) >= cool {
		event := "firing"
		if st.notified {
			event = "reminder"
		}
		st.lastNotified, st.notified = now, true
		r.notifyLocked(ctx, rule.Channels, notify.Message{Level: rule.Severity, Text: text, Event: event, RuleID: rule.ID,
			Timestamp: now.Unix()}, event == "firing")
	}
	elapsed := now.Sub(time.Unix(st.start, 0)).Minutes()
	for i, t := range rule.Escalation {
		if st.escSent[i] || len(t.Channels) == 0 || elapsed < t.DelayMinutes {
			continue
		}
		st.escSent[i] = true
		r.disp.Enqueue(t.Channels, notify.Message{Level: rule.Severity, Text: "[ESCALATED] " + rule.Message, Event: "escalated",
			RuleID: rule.ID, Timestamp: now.Unix()})
	}
	return nil
}

// resolveLocked closes a rule's episode; the resolved notice goes out
// when the firing was notified.
func (r *Room) resolveLocked(ctx context.Context, id string, st *ruleState, now time.Time, notice bool) {
	if err := r.d.Store.ResolveEpisodes(ctx, id, now.Unix()); err != nil {
		r.d.Log.Warn("alert episode not resolved", "rule_id", id, "err", err)
		return
	}
	st.firing = false
	clear(st.escSent)
	r.publish("resolved", id, "rule", st.severity, st.message, now)
	if notice && st.notified {
		r.notifyLocked(ctx, st.channels, notify.Message{Level: "info", Text: "[RESOLVED] " + st.message, Event: "resolved",
			RuleID: id, Timestamp: now.Unix()}, true)
	}
	st.notified = false
}

func fmtNum(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// builtinsLocked computes the built-in alerts of spec 10 §5.5 (threshold
// rows skipped while any maintenance window is active), notifying each
// key at most every 300 s and handing critical ones to the healing seam.
func (r *Room) builtinsLocked(ctx context.Context, snap map[string]any, settings map[string]any, mt maintenance, now time.Time) []map[string]any {
	type row struct{ level, msg, key string }
	var rows []row
	var heal []string
	if !mt.any() {
		if cpu, ok := numeric(snap["cpuPercent"]); ok {
			if cpu > 90 {
				rows = append(rows, row{"danger", fmt.Sprintf("CPU critical: %.1f%%", cpu), "cpu_crit"})
				heal = append(heal, "cpu_crit")
			} else if cpu > 75 {
				rows = append(rows, row{"warning", fmt.Sprintf("CPU high: %.1f%%", cpu), "cpu_high"})
			}
		}
		if t, ok := numeric(snap["cpuTemp"]); ok {
			ti := int(t)
			if ti > 85 {
				rows = append(rows, row{"danger", fmt.Sprintf("CPU temp critical: %d°C", ti), "temp_crit"})
			} else if ti > 70 {
				rows = append(rows, row{"warning", fmt.Sprintf("CPU temp elevated: %d°C", ti), "temp_high"})
			}
		}
		disks, _ := snap["disks"].([]any)
		for _, d := range disks {
			dm, _ := d.(map[string]any)
			p, ok := numeric(dm["percent"])
			mount := strOf(dm["mount"])
			if !ok {
				continue
			}
			if p >= 90 {
				rows = append(rows, row{"danger", fmt.Sprintf("Disk %s at %s%%", mount, fmtNum(p)), "disk_crit_" + mount})
				heal = append(heal, "disk_crit_"+mount)
			} else if p >= 80 {
				rows = append(rows, row{"warning", fmt.Sprintf("Disk %s at %s%%", mount, fmtNum(p)), "disk_high_" + mount})
			}
		}
		svcs, _ := snap["services"].([]any)
		for _, s := range svcs {
			sm, _ := s.(map[string]any)
			if strOf(sm["status"]) == "failed" {
				name := strOf(sm["name"])
				rows = append(rows, row{"danger", "Service failed: " + name, "svc_" + name})
				heal = append(heal, "svc_"+name)
			}
		}
		if mem, ok := numeric(snap["memPercent"]); ok && mem > 90 {
			heal = append(heal, "mem_crit")
		}
	}
	out := make([]map[string]any, 0, len(rows)+1)
	for _, rw := range rows {
		out = append(out, map[string]any{"level": rw.level, "severity": rw.level, "msg": rw.msg, "rule_id": rw.key, "source": "builtin"})
		k := "builtin:" + rw.key
		if last, ok := r.lastNote[k]; ok && now.Sub(last) < DefaultCooldown*time.Second {
			continue
		}
		r.lastNote[k] = now
		r.disp.Enqueue(nil, notify.Message{Level: rw.level, Text: rw.msg, Event: "firing", RuleID: rw.key, Timestamp: now.Unix()})
	}
	if h := r.healer(); h != nil {
		for _, k := range heal {
			h.HandleAlertEvent(context.WithoutCancel(ctx), map[string]any{"source": "builtin", "rule_id": k,
				"severity": "danger", "timestamp": now.Unix()})
		}
	}
	// BMC sentinel (not notified): an OS address down while its BMC answers.
	radar := map[string]string{}
	rl, _ := snap["radar"].([]any)
	for _, x := range rl {
		xm, _ := x.(map[string]any)
		radar[strOf(xm["ip"])] = strOf(xm["status"])
	}
	for _, pair := range strings.Split(strOf(settings["bmcMap"]), ",") {
		osIP, bmcIP, ok := strings.Cut(strings.TrimSpace(pair), "|")
		if !ok || osIP == "" || bmcIP == "" {
			continue
		}
		if radar[osIP] == "Down" && radar[bmcIP] == "Up" {
			out = append(out, map[string]any{"level": "danger", "severity": "danger", "source": "builtin", "rule_id": "bmc_" + osIP,
				"msg": fmt.Sprintf("BMC Sentinel: %s OS offline, BMC (%s) reachable!", osIP, bmcIP)})
		}
	}
	return out
}
