package healing

import (
	"context"
	"maps"
	"strings"

	"github.com/noba-go/noba/internal/events"
)

// thresholdEvent completes a built-in threshold alert of the alerts room
// (rule ids svc_<name>, disk_crit_<mount>, cpu_crit, mem_crit: spec 30
// §6.1) with its target and condition; false when the rule id has no
// default chain.
func thresholdEvent(ev Event) (Event, bool) {
	id := ev.RuleID
	if ScenarioFor(id) == "" {
		return ev, false
	}
	ev.Source, ev.Target = "threshold", "system"
	switch {
	case strings.HasPrefix(id, "svc_"):
		ev.Target, ev.Condition = id[4:], "service_status == failed"
	case strings.HasPrefix(id, "disk_crit_"):
		ev.Target, ev.Condition = id[10:], "disk_percent >= 90"
	case id == "cpu_crit":
		ev.Condition = "cpuPercent > 90"
	case id == "mem_crit":
		ev.Condition = "memPercent > 90"
	}
	return ev, true
}

// FollowSignals feeds the pipeline from the heal events other rooms
// publish on the bus (events.HealSignals: the intelligence room's
// predictions and anomalies). It runs until ctx ends.
func (r *Room) FollowSignals(ctx context.Context) error {
	if r.d.Bus == nil {
		<-ctx.Done()
		return nil
	}
	ch, cancel := events.Subscribe(r.d.Bus, events.HealSignals, 64)
	defer cancel()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-ch:
			if !ok {
				return nil
			}
			s, ok := events.HealSignals.Of(e)
			if !ok || s.RuleID == "" {
				continue
			}
			ev := Event{Source: s.Source, RuleID: s.RuleID, Condition: s.Condition, Target: s.Target, Severity: s.Severity,
				Timestamp: s.Timestamp, Metrics: maps.Clone(s.Metrics)}
			if _, err := r.Process(ctx, ev); err != nil {
				r.d.Log.Warn("heal event", "source", ev.Source, "rule_id", ev.RuleID, "err", err)
			}
		}
	}
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
