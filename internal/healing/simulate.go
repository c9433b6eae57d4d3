package healing

import (
	"context"
	"fmt"
	"time"
)

// Simulate is the dry run of §6.19: no pipeline state is touched; the
// rule's registered (or default) chain and the real trust/ledger are used.
func (r *Room) Simulate(ctx context.Context, ev Event) map[string]any {
	evOut := map[string]any{"source": ev.Source, "rule_id": ev.RuleID, "condition": ev.Condition, "target": ev.Target,
		"severity": ev.Severity, "metrics": ev.Metrics}
	out := map[string]any{"event": evOut, "timestamp": float64(r.now().UnixMilli()) / 1000}
	w, _ := r.windowFor(ctx, ev.Target)
	if w != nil {
		out["suppressed"], out["suppression_reason"], out["would_correlate"] = true, "Target in maintenance window", false
		out["dependency_analysis"], out["would_select"], out["pre_flight"], out["rollback_plan"] = map[string]any{}, map[string]any{}, map[string]any{}, ""
		return out
	}
	key := ev.Target + ":" + ev.RuleID
	out["suppressed"], out["suppression_reason"], out["would_correlate"], out["correlation_key"] = false, "", true, key
	g, err := r.Graph(ctx)
	dep := map[string]any{"root_cause": ev.Target, "suppressed": []string{}}
	if err == nil {
		r.p.mu.Lock()
		active := map[string]time.Time{}
		for k, v := range r.p.active {
			active[k] = v
		}
		suspect := map[string]string{}
		for k, v := range r.p.suspect {
			suspect[k] = v
		}
		r.p.mu.Unlock()
		if root, why := g.Suppress(ev.Target, active, suspect); why != "" {
			out["suppressed"], out["suppression_reason"] = true, why
			dep["root_cause"] = root
		}
	}
	out["dependency_analysis"] = dep
	trust, _ := r.trustNoSideEffects(ctx, ev)
	out["trust_level"] = trust
	chain := ev.Chain
	if len(chain) == 0 {
		chain = []Step{{Action: "restart_container", Params: map[string]any{}}}
	}
	// A fresh planner: the first step not skipped by its success rate.
	since := r.now().Add(-720 * time.Hour).Unix()
	var plan *Plan
	for i := 0; i < min(len(chain), 6); i++ {
		rate, has, _ := r.d.Store.SuccessRate(ctx, chain[i].Action, ev.Condition, ev.Target, since)
		if has && rate < 30 {
			continue
		}
		plan = &Plan{ActionType: chain[i].Action, ActionParams: chain[i].Params, EscalationStep: i, TrustLevel: trust,
			Reason: fmt.Sprintf("Selected %s (step %d/%d)", chain[i].Action, i+1, len(chain))}
		break
	}
	if plan == nil {
		out["would_select"], out["pre_flight"], out["rollback_plan"] = map[string]any{"note": "No action selected (chain exhausted or in progress)"}, map[string]any{}, ""
		return out
	}
	if plan.ActionParams == nil {
		plan.ActionParams = map[string]any{}
	}
	a, _ := r.x.Action(plan.ActionType)
	params := injectParams(a, plan.ActionParams, ev)
	out["would_select"] = map[string]any{"action": plan.ActionType, "action_type": plan.ActionType, "action_params": params,
		"step": plan.EscalationStep, "trust_level": trust, "reason": plan.Reason}
	if a == nil {
		out["pre_flight"] = map[string]any{"passed": false, "failure_reason": "Unknown action type: " + plan.ActionType, "checks": map[string]any{}}
		out["rollback_plan"] = ""
		return out
	}
	host := r.x.hostOf(params, ev.Target)
	if host == "" {
		host = ev.Hostname
	}
	checks, ok, why := r.x.Preflight(ctx, a, host, false)
	pf := map[string]any{"passed": ok, "failure_reason": why, "checks": checks}
	if _, api := checks["note"]; !api {
		pf["resolved_handler"] = nil
		if c, ok := checks["capability_match"].(string); ok && c != "no match" {
			pf["resolved_handler"] = map[string]any{"requires": c}
		}
	}
	out["pre_flight"] = pf
	if a.Reversible() {
		out["rollback_plan"] = "Reversible — reverse action: " + a.Reverse
	} else {
		out["rollback_plan"] = "Irreversible — no rollback available"
	}
	return out
}

// trustNoSideEffects is effective trust without tripping the breaker.
func (r *Room) trustNoSideEffects(ctx context.Context, ev Event) (string, error) {
	t, ok, err := r.d.Store.Trust(ctx, ev.RuleID)
	if err != nil || !ok {
		return "notify", err
	}
	level := t.CurrentLevel
	switch ev.Source {
	case "prediction", "anomaly", "health_score":
		level = Levels[max(rank(level)-1, rank("notify"))]
	}
	n, _ := r.d.Store.UnverifiedRecent(ctx, ev.RuleID, r.now().Add(-time.Hour).Unix())
	if n >= 3 && t.CurrentLevel != "notify" {
		return "notify", nil
	}
	return level, nil
}

// Learn is the hourly learning cycle (§6.5 promotions, §6.12 ledger
// analysis, §6.14 co-failure discovery).
func (r *Room) Learn(ctx context.Context) error {
	now := r.now().Unix()
	rows, err := r.d.Store.RecentLedger(ctx, 1000)
	if err != nil {
		return err
	}
	type agg struct {
		exec, verified int
		action         string
	}
	groups := map[[2]string]*agg{}
	for i, l := range rows {
		if i >= 500 {
			break
		}
		k := [2]string{l.RuleID, l.Target}
		g := groups[k]
		if g == nil {
			g = &agg{action: l.ActionType}
			groups[k] = g
		}
		if l.ActionSuccess != nil {
			g.exec++
			g.verified += l.Verified
		}
	}
	for k, g := range groups {
		rid := k[0]
		if g.exec >= 10 {
			_ = r.d.Store.UpsertSuggestion(ctx, Suggestion{Category: "recurring_issue", Severity: "warning", RuleID: &rid,
				Message: fmt.Sprintf("Target '%s' healed %d times for rule '%s'. Consider investigating root cause.", k[1], g.exec, rid)}, now)
		}
		if g.exec >= 5 && float64(g.verified)/float64(g.exec) < 0.3 {
			_ = r.d.Store.UpsertSuggestion(ctx, Suggestion{Category: "low_effectiveness", Severity: "warning", RuleID: &rid,
				Message: fmt.Sprintf("Action '%s' has %.0f%% success rate for rule '%s' on '%s'.", g.action,
					float64(g.verified)*100/float64(g.exec), rid, k[1])}, now)
		}
	}
	trusts, err := r.d.Store.TrustList(ctx)
	if err != nil {
		return err
	}
	for _, t := range trusts {
		if rank(t.CurrentLevel) >= rank(t.Ceiling) {
			continue
		}
		last := int64(0)
		for _, v := range []*int64{t.PromotedAt, t.DemotedAt, t.LastEvaluated} {
			if v != nil && *v > last {
				last = *v
			}
		}
		if now-last < 7*86400 {
			continue
		}
		rs, err := r.d.Store.Ledger(ctx, 200, t.RuleID, "")
		if err != nil {
			return err
		}
		n, exec, ver := 0, 0, 0
		for _, l := range rs {
			if l.TrustLevel == t.CurrentLevel {
				n++
				if l.ActionSuccess != nil {
					exec++
					ver += l.Verified
				}
			}
		}
		next := ""
		switch {
		case n < 10:
		case t.CurrentLevel == "notify":
			next = "approve"
		case t.CurrentLevel == "approve" && exec >= 10 && float64(ver)/float64(exec) >= 0.85:
			next = "execute"
		}
		if next == "" {
			continue
		}
		rid := t.RuleID
		sa, ev := jsonText(map[string]any{"promote_to": next}), jsonText(map[string]any{"total_outcomes": n})
		_ = r.d.Store.UpsertSuggestion(ctx, Suggestion{Category: "trust_promotion", Severity: "info", RuleID: &rid, SuggestedAction: &sa,
			Evidence: &ev, Message: fmt.Sprintf("Rule '%s' eligible for promotion: %s -> %s", rid, t.CurrentLevel, next)}, now)
	}
	for _, c := range coFailures(rows) {
		sa := jsonText(map[string]any{"action": "add_dependency", "source": c.a, "depends_on": c.b})
		ev := jsonText(map[string]any{"targets": []string{c.a, c.b}, "count": c.n, "percentage": c.pct})
		_ = r.d.Store.UpsertSuggestion(ctx, Suggestion{Category: "dependency_candidate", Severity: "info", SuggestedAction: &sa, Evidence: &ev,
			Message: fmt.Sprintf("'%s' and '%s' co-fail %.1f%% of the time (%d occurrences within 2-minute window). Consider adding a dependency relationship.",
				c.a, c.b, c.pct, c.n)}, now)
	}
	if _, err := r.HealthTriggers(ctx); err != nil {
		r.d.Log.Warn("health-score triggers", "err", err)
	}
	r.p.heartbeat("learning")
	return nil
}

type cofail struct {
	a, b string
	n    int
	pct  float64
}

func coFailures(rows []LedgerRow) []cofail {
	times := map[string][]int64{}
	var order []string
	for _, l := range rows {
		if _, ok := times[l.Target]; !ok {
			order = append(order, l.Target)
		}
		times[l.Target] = append(times[l.Target], l.CreatedAt)
	}
	var out []cofail
	for i := range order {
		for j := i + 1; j < len(order); j++ {
			a, b := order[i], order[j]
			n := 0
			for _, ta := range times[a] {
				for _, tb := range times[b] {
					if ta-tb <= 120 && tb-ta <= 120 {
						n++
						break
					}
				}
			}
			if n >= 3 {
				x, y := a, b
				if y < x {
					x, y = y, x
				}
				out = append(out, cofail{a: x, b: y, n: n, pct: round(float64(n)*100/float64(len(times[a])), 1)})
			}
		}
	}
	return out
}
