package healing

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/wire/condition"
)

// Event is a HealEvent (spec 30 §6.1).
type Event struct {
	Source    string         `json:"source"`
	RuleID    string         `json:"rule_id"`
	Condition string         `json:"condition"`
	Target    string         `json:"target"`
	Severity  string         `json:"severity"`
	Timestamp float64        `json:"timestamp"`
	Metrics   map[string]any `json:"metrics"`
	// Hostname is the agent the target lives on (when known).
	Hostname string `json:"hostname,omitempty"`
	Chain    []Step `json:"-"`
}

// Step is one escalation chain step.
type Step struct {
	Action string         `json:"action"`
	Params map[string]any `json:"params"`
}

// Plan is a selected step.
type Plan struct {
	ActionType     string           `json:"action_type"`
	ActionParams   map[string]any   `json:"action_params"`
	EscalationStep int              `json:"escalation_step"`
	TrustLevel     string           `json:"trust_level"`
	Reason         string           `json:"reason"`
	Skipped        []map[string]any `json:"skipped_actions"`
}

type pipeline struct {
	r *Room

	mu         sync.Mutex
	window     map[string]time.Time // correlation key -> expiry
	active     map[string]time.Time // failing targets (TTL 300 s)
	escalating map[string]int       // correlation key -> step
	heals      map[string]bool      // targets being healed
	suspect    map[string]string    // site -> reason
	held       map[int64][]Event    // queue windows -> held events
	approvals  map[int64]pending    // approval id -> event and plan
	beats      map[string]time.Time
	sem        chan struct{}

	counts map[string]int // outcome counters (health)
}

type pending struct {
	ev   Event
	plan Plan
}

func newPipeline(r *Room) *pipeline {
	return &pipeline{r: r, window: map[string]time.Time{}, active: map[string]time.Time{}, escalating: map[string]int{},
		heals: map[string]bool{}, suspect: map[string]string{}, held: map[int64][]Event{}, approvals: map[int64]pending{},
		beats: map[string]time.Time{}, sem: make(chan struct{}, 10), counts: map[string]int{}}
}

func (p *pipeline) heartbeat(c string) {
	p.mu.Lock()
	p.beats[c] = p.r.now()
	p.mu.Unlock()
}

func (p *pipeline) count(k string) {
	p.mu.Lock()
	p.counts[k]++
	p.mu.Unlock()
}

// HandleAlertEvent receives heal events from the alerts room (its Heal
// seam): alert rules with an action (source "alert") and built-in
// threshold alerts (source "builtin", completed by thresholdEvent). The
// event is processed in the background: the alerts engine never waits on
// the pipeline.
func (r *Room) HandleAlertEvent(ctx context.Context, raw map[string]any) {
	ev := EventFrom(raw)
	if ev.RuleID == "" {
		return
	}
	if ev.Source == "builtin" || ev.Source == "threshold" {
		var ok bool
		if ev, ok = thresholdEvent(ev); !ok {
			return
		}
	}
	if len(ev.Metrics) == 0 && r.d.Stats != nil {
		ev.Metrics = metricsOf(r.d.Stats.Snapshot())
	}
	ctx = context.WithoutCancel(ctx)
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if _, err := r.Process(ctx, ev); err != nil {
			r.d.Log.Warn("heal event", "rule_id", ev.RuleID, "err", err)
		}
	}()
}

// EventFrom decodes an event map (alerts' shape: action{type,target,params},
// escalation_chain).
func EventFrom(raw map[string]any) Event {
	ev := Event{Source: str(raw, "source"), RuleID: str(raw, "rule_id"), Condition: str(raw, "condition"), Target: str(raw, "target"),
		Severity: str(raw, "severity"), Hostname: str(raw, "hostname")}
	if ts, ok := raw["timestamp"].(float64); ok {
		ev.Timestamp = ts
	} else if n, ok := raw["timestamp"].(int64); ok {
		ev.Timestamp = float64(n)
	}
	ev.Metrics, _ = raw["metrics"].(map[string]any)
	if ev.Metrics == nil {
		ev.Metrics = map[string]any{}
	}
	act, _ := raw["action"].(map[string]any)
	if ev.Hostname == "" && act != nil {
		ev.Hostname = str(act, "hostname")
	}
	if chain, ok := raw["escalation_chain"].([]any); ok {
		for _, s := range chain {
			m, _ := s.(map[string]any)
			if m == nil || str(m, "action") == "" {
				continue
			}
			pm, _ := m["params"].(map[string]any)
			ev.Chain = append(ev.Chain, Step{Action: str(m, "action"), Params: maps.Clone(pm)})
		}
	}
	if len(ev.Chain) == 0 {
		ev.Chain = DefaultChain(ev.RuleID)
	}
	if len(ev.Chain) == 0 && act != nil && str(act, "type") != "" {
		pm, _ := act["params"].(map[string]any)
		ev.Chain = []Step{{Action: str(act, "type"), Params: maps.Clone(pm)}}
	}
	return ev
}

// Outcome is what Process did with an event.
type Outcome struct {
	Stage      string `json:"stage"`
	Detail     string `json:"detail,omitempty"`
	LedgerID   int64  `json:"ledger_id,omitempty"`
	ApprovalID int64  `json:"approval_id,omitempty"`
	Plan       *Plan  `json:"plan,omitempty"`
}

// Process runs the pipeline stages of §6.3 for one event. Execution runs
// in the background (Wait waits for it).
func (r *Room) Process(ctx context.Context, ev Event) (Outcome, error) {
	p := r.p
	now := r.now()
	if ev.Timestamp == 0 {
		ev.Timestamp = float64(now.UnixMilli()) / 1000
	}
	if ev.Metrics == nil {
		ev.Metrics = map[string]any{}
	}
	key := ev.Target + ":" + ev.RuleID
	p.heartbeat("pipeline")
	// 1. active-alert TTL; 2. correlation.
	p.mu.Lock()
	for k, t := range p.active {
		if now.After(t) {
			delete(p.active, k)
		}
	}
	p.active[ev.Target] = now.Add(300 * time.Second)
	if exp, ok := p.window[key]; ok && now.Before(exp) {
		p.mu.Unlock()
		p.count("absorbed")
		return Outcome{Stage: "absorbed"}, nil
	}
	p.window[key] = now.Add(r.d.Window)
	active := maps.Clone(p.active)
	suspect := maps.Clone(p.suspect)
	p.mu.Unlock()
	// 3. dependency analysis.
	g, err := r.Graph(ctx)
	if err != nil {
		return Outcome{}, err
	}
	if r.d.Agents != nil {
		for site, why := range g.SuspectSites(r.d.Agents.Known(), r.d.Agents.Online()) {
			if _, ok := suspect[site]; !ok {
				suspect[site] = why
			}
		}
	}
	if root, why := g.Suppress(ev.Target, active, suspect); why != "" {
		p.count("suppressed")
		id, err := r.d.Store.InsertLedger(ctx, LedgerRow{CorrelationKey: key, RuleID: ev.RuleID, Condition: ev.Condition, Target: ev.Target,
			ActionType: "suppressed", ActionParams: "{}", MetricsBefore: jsonText(ev.Metrics), MetricsAfter: "{}", TrustLevel: "notify",
			Source: ev.Source, CreatedAt: now.Unix(), DependencyRoot: ptr(root), SuppressedBy: ptr(why), VerificationDetail: ptr(why)})
		return Outcome{Stage: "suppressed", Detail: why, LedgerID: id}, err
	}
	// 4. maintenance.
	w, err := r.windowFor(ctx, ev.Target)
	if err != nil {
		return Outcome{}, err
	}
	forceNotify := false
	if w != nil {
		switch w.Action {
		case "suppress", "suppress_all":
			p.count("maintenance")
			return Outcome{Stage: "maintenance", Detail: fmt.Sprintf("window %d", w.ID)}, nil
		case "queue":
			p.mu.Lock()
			p.held[w.ID] = append(p.held[w.ID], ev)
			delete(p.window, key)
			p.mu.Unlock()
			p.count("held")
			return Outcome{Stage: "held", Detail: fmt.Sprintf("window %d", w.ID)}, nil
		case "notify_only":
			forceNotify = true
		}
	}
	// 5-6. chain, trust.
	if len(ev.Chain) == 0 {
		ev.Chain = []Step{{Action: "restart_container", Params: map[string]any{}}}
	}
	trust, err := r.effectiveTrust(ctx, ev)
	if err != nil {
		return Outcome{}, err
	}
	if forceNotify {
		trust = "notify"
	}
	// 7. observation, dry_run.
	switch trust {
	case "observation":
		r.d.Log.Info("heal would have fired", "rule_id", ev.RuleID, "target", ev.Target)
		return Outcome{Stage: "observation"}, nil
	case "dry_run":
		sim := r.Simulate(ctx, ev)
		sel, _ := json.Marshal(sim["would_select"])
		evid, _ := json.Marshal(sim)
		s1, s2, rid := string(sel), string(evid), ev.RuleID
		err := r.d.Store.UpsertSuggestion(ctx, Suggestion{Category: "canary_dry_run", Severity: orDefault(ev.Severity, "info"),
			Message: fmt.Sprintf("Dry-run simulation for %s on %s", ev.RuleID, ev.Target), RuleID: &rid, SuggestedAction: &s1, Evidence: &s2}, now.Unix())
		return Outcome{Stage: "dry_run"}, err
	}
	// Stale-data guard (§6.13 fix): a metric condition is not acted on
	// while the collector snapshot it is judged by is stale.
	if age, stale := r.staleMetrics(ev.Condition); stale {
		p.count("stale_metrics")
		why := fmt.Sprintf("Collector snapshot is %s old (limit %s): no action on stale metrics", age.Round(time.Second), 2*r.d.StatsInterval)
		r.d.Log.Warn("heal blocked by stale metrics", "rule_id", ev.RuleID, "target", ev.Target, "age_s", int(age.Seconds()))
		id, err := r.d.Store.InsertLedger(ctx, LedgerRow{CorrelationKey: key, RuleID: ev.RuleID, Condition: ev.Condition, Target: ev.Target,
			ActionType: "suppressed", ActionParams: "{}", MetricsBefore: jsonText(ev.Metrics), MetricsAfter: "{}", TrustLevel: trust,
			Source: ev.Source, CreatedAt: now.Unix(), SuppressedBy: ptr(suppressedStale), VerificationDetail: ptr(why)})
		return Outcome{Stage: "stale", Detail: why, LedgerID: id}, err
	}
	// 8. plan.
	plan, ok, err := r.selectAction(ctx, key, ev, trust, 0, true)
	if err != nil || !ok {
		return Outcome{Stage: "no_plan"}, err
	}
	return r.dispatch(ctx, key, ev, plan, false)
}

// Approval requirements of spec 30 §6.22.
const (
	reqNotify     = "notify"
	reqRequired   = "required"
	reqAutoNotify = "auto_notify"
	reqAuto       = "auto"
)

// requirement is §6.22 requirement(risk, trust): trust notify ⇒ notify,
// approve ⇒ required; at execute, risk high ⇒ required, medium ⇒
// auto_notify (run and tell), low ⇒ auto. lastResort (the chain's last
// step, reached by escalating within this heal: every earlier step ran
// and failed) requires approval at execute whatever the risk: the
// automatic remedies are spent and what is left is the most disruptive
// one, so a person decides. A last step a fresh heal starts at because
// the earlier ones are skipped for their success rate is not escalated:
// it runs by its risk, so repeated failures still reach the circuit
// breaker.
func requirement(risk, trust string, lastResort bool) string {
	switch trust {
	case "notify":
		return reqNotify
	case "approve":
		return reqRequired
	}
	switch {
	case risk == RiskHigh || lastResort:
		return reqRequired
	case risk == RiskMedium:
		return reqAutoNotify
	}
	return reqAuto
}

// dispatch routes a plan by its trust and the action's risk (§6.3 stage 9,
// §6.22). escalated is set when the plan follows a failed step of the
// same heal.
func (r *Room) dispatch(ctx context.Context, key string, ev Event, plan Plan, escalated bool) (Outcome, error) {
	now := r.now()
	risk, _ := r.x.Risk(plan.ActionType)
	row := LedgerRow{CorrelationKey: key, RuleID: ev.RuleID, Condition: ev.Condition, Target: ev.Target, ActionType: plan.ActionType,
		ActionParams: jsonText(plan.ActionParams), EscalationStep: plan.EscalationStep, MetricsBefore: jsonText(ev.Metrics),
		MetricsAfter: "{}", TrustLevel: plan.TrustLevel, Source: ev.Source, CreatedAt: now.Unix(), RiskLevel: ptr(risk)}
	lastResort := escalated && plan.EscalationStep > 0 && plan.EscalationStep == min(len(ev.Chain), 6)-1
	level := plan.TrustLevel
	req := requirement(risk, level, lastResort)
	switch {
	case level == "execute" && req == reqRequired:
		level = "approve"
		if lastResort && risk != RiskHigh {
			plan.Reason += ". Last step of the chain: approval required"
		}
	case level == "execute" && req == reqAutoNotify:
		r.notify(ctx, ev.Severity, "Heal executing", fmt.Sprintf("%s (%s risk) on %s", plan.Reason, risk, ev.Target))
	}
	if level == "notify" || level == "approve" {
		r.p.mu.Lock()
		delete(r.p.heals, ev.Target)
		r.p.mu.Unlock()
	}
	switch level {
	case "notify":
		r.p.clearKey(key)
		id, err := r.d.Store.InsertLedger(ctx, row)
		r.notify(ctx, ev.Severity, "Heal suggested", plan.Reason)
		r.p.count("notified")
		return Outcome{Stage: "notify", LedgerID: id, Plan: &plan}, err
	case "approve":
		// An action the host cannot run is not put to a person: it fails
		// its pre-flight here as it would on execution.
		if a, _ := r.x.Action(plan.ActionType); a != nil {
			params := injectParams(a, plan.ActionParams, ev)
			if why, ok := r.preflight(ctx, a, r.x.hostOf(params, ev.Target)); !ok {
				f, detail := 0, "preflight_failed: "+why
				row.ActionParams, row.ActionSuccess, row.VerificationDetail = jsonText(params), &f, &detail
				id, err := r.d.Store.InsertLedger(ctx, row)
				r.p.count("failed")
				r.afterFailure(ctx, key, ev, plan)
				return Outcome{Stage: "failed", Detail: detail, LedgerID: id, Plan: &plan}, err
			}
		}
		r.p.clearKey(key)
		if r.d.Approvals == nil {
			return Outcome{Stage: "approve", Detail: "approvals unavailable"}, nil
		}
		aid, err := r.d.Approvals.RequestApproval(ctx, plan.ActionType, plan.ActionParams, ev.Target, "healing:"+ev.RuleID, plan.Reason)
		if err != nil {
			return Outcome{}, err
		}
		r.p.mu.Lock()
		r.p.approvals[aid] = pending{ev: ev, plan: plan}
		r.p.mu.Unlock()
		row.ApprovalID = &aid
		id, err := r.d.Store.InsertLedger(ctx, row)
		r.notify(ctx, ev.Severity, "Heal approval", "[APPROVAL NEEDED] "+plan.Reason)
		r.p.count("approval_requested")
		return Outcome{Stage: "approve", LedgerID: id, ApprovalID: aid, Plan: &plan}, err
	}
	r.p.mu.Lock()
	r.p.heals[ev.Target] = true
	r.p.mu.Unlock()
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		r.executePlan(context.WithoutCancel(ctx), key, ev, plan, "")
	}()
	return Outcome{Stage: "execute", Plan: &plan}, nil
}

func (p *pipeline) clearKey(key string) {
	p.mu.Lock()
	delete(p.escalating, key)
	p.mu.Unlock()
}

func (r *Room) notify(ctx context.Context, severity, title, msg string) {
	if r.d.Notify == nil {
		return
	}
	level := "info"
	switch severity {
	case "warning", "danger", "critical", "error":
		level = "warning"
	}
	if err := r.d.Notify.Notify(ctx, level, title, msg); err != nil {
		r.d.Log.Warn("heal notification", "err", err)
	}
}

// settleFor is the settle time of §6.8 step 4.
func settleFor(action string) time.Duration {
	switch action {
	case "run_playbook":
		return 120 * time.Second
	case "trigger_backup":
		return 60 * time.Second
	case "agent_command", "failover_dns":
		return 30 * time.Second
	}
	return 15 * time.Second
}

// injectParams fills missing required params from the event (§6.7 fix).
func injectParams(a *Action, params map[string]any, ev Event) map[string]any {
	out := maps.Clone(params)
	if out == nil {
		out = map[string]any{}
	}
	if a == nil {
		return out
	}
	for _, k := range a.Params {
		if _, ok := out[k]; ok {
			continue
		}
		switch k {
		case "container", "service", "mount", "target":
			out[k] = ev.Target
		case "hostname":
			out[k] = orDefault(ev.Hostname, ev.Target)
		}
	}
	if ev.Hostname != "" {
		if _, ok := out["hostname"]; !ok {
			out["hostname"] = ev.Hostname
		}
	}
	return out
}

// executePlan is the execute path (§6.8): semaphore, pre-flight, snapshot,
// execute, settle, verify, ledger, rollback, escalation.
func (r *Room) executePlan(ctx context.Context, key string, ev Event, plan Plan, approvedBy string) (Result, int64) {
	p := r.p
	start := r.now()
	row := LedgerRow{CorrelationKey: key, RuleID: ev.RuleID, Condition: ev.Condition, Target: ev.Target, ActionType: plan.ActionType,
		ActionParams: jsonText(plan.ActionParams), EscalationStep: max(plan.EscalationStep, 0), MetricsBefore: jsonText(ev.Metrics),
		MetricsAfter: "{}", TrustLevel: plan.TrustLevel, Source: ev.Source}
	a, _ := r.x.Action(plan.ActionType)
	if a != nil {
		row.RiskLevel = ptr(a.Risk)
	}
	fail := func(detail string) (Result, int64) {
		f := 0
		row.ActionSuccess, row.VerificationDetail, row.CreatedAt = &f, &detail, r.now().Unix()
		id, err := r.d.Store.InsertLedger(ctx, row)
		if err != nil {
			r.d.Log.Warn("heal ledger", "err", err)
		}
		p.count("failed")
		r.afterFailure(ctx, key, ev, plan)
		return Result{Error: detail}, id
	}
	select {
	case p.sem <- struct{}{}:
		defer func() { <-p.sem }()
	case <-time.After(30 * time.Second):
		return fail("Concurrency limit reached")
	}
	params := injectParams(a, plan.ActionParams, ev)
	row.ActionParams = jsonText(params)
	if a == nil {
		return fail("Unknown action type: " + plan.ActionType)
	}
	if _, has := params["pid"]; !has && slices.Contains(a.Params, "pid") {
		// A process action of a default chain names no pid: it acts on the
		// target's process (§6.7 parameter injection, extended to pid).
		if pid, ok := r.x.ProcessOf(ctx, r.x.hostOf(params, ev.Target), ev.Target, ev.Metrics); ok {
			params["pid"] = pid
			row.ActionParams = jsonText(params)
		} else {
			return fail(fmt.Sprintf("No process found for %s (Missing required param: pid)", ev.Target))
		}
	}
	if err := r.x.Validate(plan.ActionType, params); err != nil {
		return fail(err.Error())
	}
	host := r.x.hostOf(params, ev.Target)
	if why, ok := r.preflight(ctx, a, host); !ok {
		return fail("preflight_failed: " + why)
	}
	// Re-check right before acting (manual fix race): a condition that
	// no longer holds was resolved by someone else while the heal waited
	// (its queue, an approval, an earlier step): record it, do nothing.
	if v, d, after := r.verify(ctx, ev, params, host); v == verResolved {
		detail := resolvedExternally + ": " + d
		row.MetricsAfter, row.VerificationDetail, row.CreatedAt = jsonText(after), &detail, r.now().Unix()
		row.DurationS = float64(r.now().Sub(start).Milliseconds()) / 1000
		id, err := r.d.Store.InsertLedger(ctx, row)
		if err != nil {
			r.d.Log.Warn("heal ledger", "err", err)
		}
		p.count("resolved_externally")
		r.d.Log.Info("heal target resolved externally", "rule_id", ev.RuleID, "target", ev.Target, "action", plan.ActionType)
		p.mu.Lock()
		delete(p.heals, ev.Target)
		delete(p.active, ev.Target)
		delete(p.escalating, key)
		p.mu.Unlock()
		return Result{Success: true, Output: fmt.Sprintf("Not run: %s was resolved externally (%s)", ev.Target, d)}, id
	}
	var snapID int64
	if a.Reversible() {
		if st, ok := r.x.Snapshot(ctx, plan.ActionType, params, ev.Target); ok {
			snapID, _ = r.d.Store.InsertSnapshot(ctx, ev.Target, plan.ActionType, st, r.now().Unix())
		}
	}
	trig := "healing_pipeline"
	if approvedBy != "" {
		trig = "approval"
	}
	res := r.x.Execute(ctx, plan.ActionType, params, trig, key, ev.Target, approvedBy)
	succ := b2i(res.Success)
	row.ActionSuccess = &succ
	detail := ""
	if res.Success {
		r.mu().Lock()
		settle := time.Duration(float64(settleFor(plan.ActionType)) * r.d.Settle)
		r.mu().Unlock()
		select {
		case <-time.After(settle):
		case <-ctx.Done():
		}
		v, d, after := r.verify(ctx, ev, params, host)
		row.Verified, detail = b2i(v == verResolved), d
		row.MetricsAfter = jsonText(after)
	} else {
		detail = orDefault(res.Error, "Action failed")
	}
	row.DurationS = float64(r.now().Sub(start).Milliseconds()) / 1000
	row.VerificationDetail = &detail
	row.CreatedAt = r.now().Unix()
	if snapID != 0 {
		row.SnapshotID = &snapID
	}
	id, err := r.d.Store.InsertLedger(ctx, row)
	if err != nil {
		r.d.Log.Warn("heal ledger", "err", err)
	}
	if snapID != 0 {
		_ = r.d.Store.SetLedgerSnapshot(ctx, id, snapID)
	}
	if row.Verified == 1 {
		p.count("verified")
		p.mu.Lock()
		delete(p.heals, ev.Target)
		delete(p.active, ev.Target)
		delete(p.escalating, key)
		p.mu.Unlock()
		return res, id
	}
	p.count("unverified")
	// Automatic rollback of reversible actions whose verification failed.
	if snapID != 0 {
		_, act, tgt, st, err := r.d.Store.SnapshotFor(ctx, id)
		if err == nil {
			rb := r.x.Rollback(ctx, act, st, tgt)
			status := "rolled_back"
			if !rb.Success {
				status = "rollback_failed: " + rb.Error
			}
			_ = r.d.Store.SetRollbackStatus(ctx, id, status)
			p.count("rolled_back")
		}
	}
	r.afterFailure(ctx, key, ev, plan)
	return res, id
}

func (r *Room) mu() *sync.Mutex { return &r.p.mu }

// preflight is §6.8 step 2 for an action on host: only actions run by a
// fallback chain (no typed agent command) on a known agent are checked.
func (r *Room) preflight(ctx context.Context, a *Action, host string) (string, bool) {
	if a == nil || a.chain == nil || a.agent != nil || host == "" {
		return "", true
	}
	_, ok, why := r.x.Preflight(ctx, a, host, false)
	return why, ok
}

// afterFailure advances the escalation and re-dispatches by the new trust.
func (r *Room) afterFailure(ctx context.Context, key string, ev Event, plan Plan) {
	if plan.EscalationStep < 0 {
		return
	}
	trust, err := r.effectiveTrust(ctx, ev)
	if err != nil {
		return
	}
	next, ok, err := r.selectAction(ctx, key, ev, trust, plan.EscalationStep+1, false)
	if err != nil || !ok {
		r.p.mu.Lock()
		delete(r.p.heals, ev.Target)
		delete(r.p.escalating, key)
		r.p.mu.Unlock()
		return
	}
	if _, err := r.dispatch(ctx, key, ev, next, true); err != nil {
		r.d.Log.Warn("heal escalation", "err", err)
	}
}

// selectAction picks from step k (§6.7). fresh registers the key (none when
// it already escalates).
func (r *Room) selectAction(ctx context.Context, key string, ev Event, trust string, k int, fresh bool) (Plan, bool, error) {
	p := r.p
	p.mu.Lock()
	if fresh {
		if _, busy := p.escalating[key]; busy {
			p.mu.Unlock()
			return Plan{}, false, nil
		}
	}
	p.escalating[key] = k
	p.mu.Unlock()
	since := r.now().Add(-720 * time.Hour).Unix()
	var skipped []map[string]any
	for i := k; i < min(len(ev.Chain), 6); i++ {
		st := ev.Chain[i]
		rate, has, err := r.d.Store.SuccessRate(ctx, st.Action, ev.Condition, ev.Target, since)
		if err != nil {
			return Plan{}, false, err
		}
		if has && rate < 30 {
			skipped = append(skipped, map[string]any{"action": st.Action, "success_rate": round(rate, 1), "step": i})
			continue
		}
		reason := fmt.Sprintf("Selected %s (step %d/%d)", st.Action, i+1, len(ev.Chain))
		if len(skipped) > 0 {
			var parts []string
			for _, s := range skipped {
				parts = append(parts, fmt.Sprintf("%s (%.0f%%)", s["action"], s["success_rate"]))
			}
			reason += ". Skipped: " + strings.Join(parts, ", ")
		}
		params := maps.Clone(st.Params)
		if params == nil {
			params = map[string]any{}
		}
		p.mu.Lock()
		p.escalating[key] = i
		p.mu.Unlock()
		return Plan{ActionType: st.Action, ActionParams: params, EscalationStep: i, TrustLevel: trust, Reason: reason, Skipped: skipped}, true, nil
	}
	p.clearKey(key)
	return Plan{}, false, nil
}

// ApprovedExecute runs an approved heal (the automations approval path
// calls the Remediator with trigger type approval): the full §6.8 path
// with a ledger row. ok false when the approval is not a heal.
func (r *Room) ApprovedExecute(ctx context.Context, approvalID string, by string) (Result, bool) {
	id, err := strconv.ParseInt(approvalID, 10, 64)
	if err != nil {
		return Result{}, false
	}
	// The decision is claimed on the approval's ledger row first, so an
	// approval that expired (auto-denied) or already ran never runs.
	l, claimed, err := r.d.Store.ClaimApproval(ctx, id, "approved by "+orDefault(by, "system"))
	if err != nil {
		if !errors.Is(err, errNotFound) {
			r.d.Log.Warn("heal approval", "approval_id", id, "err", err)
		}
		return Result{}, false
	}
	if !claimed {
		detail := ""
		if l.VerificationDetail != nil {
			detail = *l.VerificationDetail
		}
		r.d.Log.Warn("heal approval refused", "approval_id", id, "state", detail)
		if strings.HasPrefix(detail, approvalAutoDenied) {
			return Result{Error: "Approval expired: heal auto-denied (" + detail + ")"}, true
		}
		return Result{Error: "Approval already decided: " + orDefault(detail, "action recorded")}, true
	}
	r.p.mu.Lock()
	pd, ok := r.p.approvals[id]
	delete(r.p.approvals, id)
	r.p.mu.Unlock()
	if !ok {
		// The server restarted since the request: rebuild it from the ledger.
		var params map[string]any
		_ = json.Unmarshal([]byte(l.ActionParams), &params)
		var metrics map[string]any
		_ = json.Unmarshal([]byte(l.MetricsBefore), &metrics)
		pd = pending{ev: Event{Source: l.Source, RuleID: l.RuleID, Condition: l.Condition, Target: l.Target, Metrics: metrics,
			Hostname: str(params, "hostname"), Chain: []Step{{Action: l.ActionType, Params: params}}},
			plan: Plan{ActionType: l.ActionType, ActionParams: params, EscalationStep: -1}}
	}
	r.wg.Add(1)
	defer r.wg.Done()
	pd.plan.TrustLevel = "approve"
	key := pd.ev.Target + ":" + pd.ev.RuleID
	res, _ := r.executePlan(ctx, key, pd.ev, pd.plan, by)
	return res, true
}

// resolvedExternally starts the verification_detail of a heal whose
// condition no longer held when the pipeline was about to act.
const resolvedExternally = "resolved_externally"

// suppressedStale is the suppressed_by of an event the stale-data guard
// stopped.
const suppressedStale = "stale_metrics"

// staleMetrics reports whether cond is a metric condition over the
// collector snapshot and that snapshot is older than twice the collection
// interval (with its age). A snapshot without a timestamp, or a condition
// the snapshot cannot evaluate (service or container state, prediction
// text), is not judged stale.
func (r *Room) staleMetrics(cond string) (time.Duration, bool) {
	if r.d.Stats == nil {
		return 0, false
	}
	snap := r.d.Stats.Snapshot()
	if snap == nil || snap.Timestamp <= 0 {
		return 0, false
	}
	if _, ok := evalCondition(cond, flatGet(snap.Metrics())); !ok {
		return 0, false
	}
	age := r.now().Sub(time.Unix(snap.Timestamp, 0))
	return age, age > 2*r.d.StatsInterval
}

// approvalAutoDenied starts the verification_detail of an approve-path
// ledger row whose approval timed out.
const approvalAutoDenied = "auto_denied"

// ExpireApprovals auto-denies heal approvals nobody decided within
// ApprovalTimeout (spec 30 §6.22: no approver ⇒ auto-deny): their ledger
// rows say so, the pending heal is dropped and a later approval of it
// runs nothing. The approvals job calls it; tests call it directly.
func (r *Room) ExpireApprovals(ctx context.Context) error {
	to := r.d.ApprovalTimeout
	detail := fmt.Sprintf("%s: no decision within %s", approvalAutoDenied, to)
	rows, err := r.d.Store.ExpireApprovals(ctx, r.now().Add(-to).Unix(), detail)
	if err != nil {
		return err
	}
	for _, l := range rows {
		r.p.mu.Lock()
		delete(r.p.approvals, *l.ApprovalID)
		r.p.mu.Unlock()
		r.p.count("auto_denied")
		r.d.Log.Info("heal approval auto-denied", "approval_id", *l.ApprovalID, "rule_id", l.RuleID, "target", l.Target, "action", l.ActionType)
		if r.d.Approvals != nil {
			// The queue shows it denied too; an approval that still slips
			// through (decided in the same instant) is refused by
			// ClaimApproval and runs nothing.
			why := fmt.Sprintf("Heal approval auto-denied: no decision within %s; nothing ran", to)
			if err := r.d.Approvals.ExpireApproval(ctx, *l.ApprovalID, why); err != nil {
				r.d.Log.Warn("close auto-denied approval in the queue", "approval_id", *l.ApprovalID, "err", err)
			}
		}
		r.notify(ctx, "warning", "Heal approval expired", fmt.Sprintf("%s on %s was not approved within %s and will not run", l.ActionType, l.Target, to))
	}
	return nil
}

// Verification states.
const (
	verResolved = iota
	verStill
	verUnknown
)

// verify re-evaluates the event (§6.8 step 5, tri-state): service and
// container state on the agent or server, or the metric condition against
// fresh collector stats; anything else is unverifiable.
func (r *Room) verify(ctx context.Context, ev Event, params map[string]any, host string) (int, string, map[string]any) {
	after := map[string]any{}
	if r.d.Stats != nil {
		after = metricsOf(r.d.Stats.Snapshot())
	}
	if svc := str(params, "service"); svc != "" && serviceRE.MatchString(svc) {
		if host != "" && r.d.Agents != nil {
			res, err := r.d.Agents.Run(ctx, host, "check_service", map[string]any{"service": svc}, "healing", 20*time.Second)
			if err != nil || res == nil || str(res, "status") != "ok" {
				return verUnknown, "unverifiable", after
			}
			after["service_status"] = map[bool]string{true: "active", false: "inactive"}[str(res, "exit_code") == "0"]
			if str(res, "exit_code") == "0" {
				return verResolved, fmt.Sprintf("service %s active on %s; %s resolved", svc, host, ev.Condition), after
			}
			return verStill, fmt.Sprintf("service %s not active on %s; %s still true", svc, host, ev.Condition), after
		}
	}
	if c := str(params, "container"); c != "" && nameRE.MatchString(c) && host != "" && r.d.Agents != nil {
		res, err := r.d.Agents.Run(ctx, host, "exec", map[string]any{"command": quoteArgv([]string{"docker", "inspect", "-f",
			"{{.State.Running}} {{.State.Paused}}", c}), "timeout": 10}, "healing", 20*time.Second)
		if err != nil || res == nil || str(res, "status") != "ok" {
			return verUnknown, "unverifiable", after
		}
		if strings.TrimSpace(str(res, "stdout")) == "true false" {
			return verResolved, fmt.Sprintf("container %s running; %s resolved", c, ev.Condition), after
		}
		return verStill, fmt.Sprintf("container %s not running; %s still true", c, ev.Condition), after
	}
	if age, stale := r.staleMetrics(ev.Condition); stale {
		return verUnknown, fmt.Sprintf("unverifiable: collector snapshot is %s old", age.Round(time.Second)), after
	}
	met, ok := evalCondition(ev.Condition, anyGet(after))
	switch {
	case !ok:
		return verUnknown, "unverifiable", after
	case met:
		return verStill, ev.Condition + " still true", after
	}
	return verResolved, ev.Condition + " resolved", after
}

// evalCondition evaluates cond in NOBA's one condition grammar
// (internal/wire/condition: terms joined by AND or OR) against flat
// metrics read through get; ok is false when the condition does not parse
// (service or container state, prediction text) or a metric it reads is
// absent: it cannot be judged from the metrics.
func evalCondition(cond string, get func(string) (float64, bool)) (met, ok bool) {
	c, err := condition.Parse(cond)
	if err != nil {
		return false, false
	}
	for _, k := range c.Metrics() {
		if _, ok := get(k); !ok {
			return false, false
		}
	}
	return c.Eval(get), true
}

// flatGet reads a snapshot's flat metrics (events.Snapshot.Metrics).
func flatGet(m map[string]float64) func(string) (float64, bool) {
	return func(k string) (float64, bool) { v, ok := m[k]; return v, ok }
}

// anyGet reads an event's metrics (numbers only).
func anyGet(m map[string]any) func(string) (float64, bool) {
	return func(k string) (float64, bool) { v, ok := m[k].(float64); return v, ok }
}

// metricsOf is the flat metric view of a collector snapshot (spec 30
// §0.4, events.Snapshot.Metrics) as the map conditions are evaluated
// against and ledger rows record; empty without a snapshot.
func metricsOf(s *events.Snapshot) map[string]any {
	out := map[string]any{}
	if s == nil {
		return out
	}
	for k, v := range s.Metrics() {
		out[k] = v
	}
	return out
}

func num(v any) (float64, bool) {
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func ptr[T any](v T) *T { return &v }

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

func round(f float64, dp int) float64 {
	p := 1.0
	for range dp {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}

// releaseHeld re-injects events held by queue windows that ended.
func (p *pipeline) releaseHeld(ctx context.Context) error {
	p.mu.Lock()
	ids := slices.Collect(maps.Keys(p.held))
	p.mu.Unlock()
	if len(ids) == 0 {
		return nil
	}
	ws, err := p.r.d.Store.ActiveWindows(ctx, p.r.now().Unix())
	if err != nil {
		return err
	}
	for _, id := range ids {
		if slices.ContainsFunc(ws, func(w Window) bool { return w.ID == id }) {
			continue
		}
		p.mu.Lock()
		evs := p.held[id]
		delete(p.held, id)
		p.mu.Unlock()
		for _, ev := range evs {
			if _, err := p.r.Process(ctx, ev); err != nil {
				p.r.d.Log.Warn("held heal event", "err", err)
			}
		}
	}
	return nil
}

// windowFor returns the newest active window for target (or all).
func (r *Room) windowFor(ctx context.Context, target string) (*Window, error) {
	ws, err := r.d.Store.ActiveWindows(ctx, r.now().Unix())
	if err != nil {
		return nil, err
	}
	for _, w := range ws {
		if w.Target == target || w.Target == "all" {
			return &w, nil
		}
	}
	return nil, nil
}
