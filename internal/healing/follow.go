package healing

import (
	"context"
	"fmt"
)

// AlertTopic is the alerts room's bus topic (alerts.TopicAlert).
const AlertTopic = "alerts.event"

// FollowAlerts feeds the pipeline from alert transitions on the bus: a
// firing alert rule with an action (from the alertRules setting) becomes
// an alert HealEvent; a firing built-in threshold alert with a default
// chain (svc_, disk_crit_, cpu_crit, mem_crit) a threshold event. It runs
// until ctx ends.
func (r *Room) FollowAlerts(ctx context.Context) error {
	if r.d.Bus == nil {
		<-ctx.Done()
		return nil
	}
	ch, cancel := r.d.Bus.Subscribe(AlertTopic, 64)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-ch:
			if !ok {
				return nil
			}
			m, _ := e.Data.(map[string]any)
			if m == nil || str(m, "event") != "firing" {
				continue
			}
			if ev, ok := r.eventFromAlert(m); ok {
				if _, err := r.Process(ctx, ev); err != nil {
					r.d.Log.Warn("heal event", "rule_id", ev.RuleID, "err", err)
				}
			}
		}
	}
}

func (r *Room) eventFromAlert(m map[string]any) (Event, bool) {
	id := str(m, "rule_id")
	metrics := map[string]any{}
	if r.d.Stats != nil {
		metrics = flatten(r.d.Stats.Latest())
	}
	if str(m, "source") == "rule" && r.d.Settings != nil {
		rules, _ := r.d.Settings.View()["alertRules"].([]any) // shared: read only
		for _, x := range rules {
			rule, _ := x.(map[string]any)
			if rule == nil || fmt.Sprint(rule["id"]) != id {
				continue
			}
			act, _ := rule["action"].(map[string]any)
			if act == nil {
				return Event{}, false
			}
			raw := map[string]any{"source": "alert", "rule_id": id, "condition": rule["condition"], "target": act["target"],
				"severity": m["severity"], "timestamp": m["timestamp"], "action": act, "metrics": metrics}
			if chain, ok := rule["escalation_chain"]; ok {
				raw["escalation_chain"] = chain
			}
			return EventFrom(raw), true
		}
		return Event{}, false
	}
	if ScenarioFor(id) == "" {
		return Event{}, false
	}
	target, cond := "system", ""
	switch {
	case len(id) > 4 && id[:4] == "svc_":
		target, cond = id[4:], "service_status == failed"
	case len(id) > 10 && id[:10] == "disk_crit_":
		target, cond = id[10:], "disk_percent >= 90"
	case id == "cpu_crit":
		cond = "cpuPercent > 90"
	case id == "mem_crit":
		cond = "memPercent > 90"
	}
	ev := EventFrom(map[string]any{"source": "threshold", "rule_id": id, "condition": cond, "target": target,
		"severity": m["severity"], "metrics": metrics})
	return ev, true
}

// RecordAgentReport writes an agent's own heal outcome to the ledger
// (source agent, §6.17).
func (r *Room) RecordAgentReport(ctx context.Context, host string, rep map[string]any) {
	rule := str(rep, "rule_id")
	if rule == "" {
		return
	}
	succ := b2i(rep["success"] == true)
	params, _ := rep["action_params"].(map[string]any)
	dur, _ := num(rep["duration_s"])
	if _, err := r.d.Store.InsertLedger(ctx, LedgerRow{CorrelationKey: "agent:" + host + ":" + rule, RuleID: rule,
		Condition: str(rep, "condition"), Target: host, ActionType: orDefault(str(rep, "action_type"), "unknown"), ActionParams: jsonText(params),
		ActionSuccess: &succ, Verified: b2i(rep["verified"] == true), DurationS: dur, MetricsBefore: jsonText(rep["metrics_before"]),
		MetricsAfter: jsonText(rep["metrics_after"]), TrustLevel: orDefault(str(rep, "trust_level"), "execute"), Source: "agent",
		CreatedAt: r.now().Unix()}); err != nil {
		r.d.Log.Warn("agent heal report", "host", host, "err", err)
	}
}
