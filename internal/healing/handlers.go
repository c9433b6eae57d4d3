package healing

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

type anyOut struct{ Body any }

func out(v any) *anyOut { return &anyOut{Body: v} }

// rawIn is an optional JSON object body.
type rawIn struct {
	Body *map[string]any
}

func (in *rawIn) body() (map[string]any, error) {
	if in.Body == nil || *in.Body == nil {
		return map[string]any{}, nil
	}
	return *in.Body, nil
}

func (r *Room) audit(ctx context.Context, action, details string) {
	if r.d.Audit == nil {
		return
	}
	user := ""
	if p, ok := authz.From(ctx); ok {
		user = p.Username
	}
	r.d.Audit.Record(ctx, action, user, details, httpx.ClientIP(ctx))
}

func parseID(name, raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		return 0, httpx.Invalid("%s must be a positive integer", name)
	}
	return id, nil
}

// Routes mounts router 13.
func (r *Room) Routes(rt *httpx.Router) {
	get, post, put, del := http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete
	httpx.Register(rt, httpx.Op(get, "/api/healing/ledger", authz.Read, "Healing action ledger"), r.ledger)
	httpx.Register(rt, httpx.Op(get, "/api/healing/effectiveness", authz.Read, "Healing success rate stats"), r.effectiveness)
	httpx.Register(rt, httpx.Op(get, "/api/healing/suggestions", authz.Read, "List healing suggestions"), r.suggestions)
	httpx.Register(rt, httpx.Op(post, "/api/healing/suggestions/{id}/dismiss", authz.Operator, "Dismiss a healing suggestion"), r.dismiss)
	httpx.Register(rt, httpx.Op(get, "/api/healing/trust", authz.Read, "List trust states per rule"), r.trustList)
	httpx.Register(rt, httpx.Op(post, "/api/healing/trust/{rule_id}/promote", authz.Admin, "Promote trust level"), r.promote)
	httpx.Register(rt, httpx.Op(post, "/api/healing/trust/{rule_id}/demote", authz.Admin, "Demote trust level"), r.demote)
	httpx.Register(rt, httpx.Op(put, "/api/healing/trust/{rule_id}", authz.Admin, "Set or create trust state"), r.setTrust)
	httpx.Register(rt, httpx.Op(get, "/api/healing/capabilities/{hostname}", authz.Read, "Agent capability manifest"), r.capabilities)
	httpx.Register(rt, httpx.Op(get, "/api/healing/dependencies", authz.Read, "Dependency graph nodes"), r.dependencies)
	httpx.Register(rt, httpx.Op(post, "/api/healing/dependencies/validate", authz.Read, "Validate dependency config"), r.validateDeps)
	httpx.Register(rt, httpx.Op(post, "/api/healing/capabilities/{hostname}/refresh", authz.Operator, "Refresh agent capabilities"), r.refreshCaps)
	httpx.Register(rt, httpx.Op(get, "/api/healing/maintenance", authz.Read, "Active healing maintenance windows"), r.listWindows)
	httpx.Register(rt, httpx.Op(post, "/api/healing/maintenance", authz.Operator, "Create healing maintenance window"), r.createWindow)
	httpx.Register(rt, httpx.Op(del, "/api/healing/maintenance/{id}", authz.Operator, "End maintenance window early"), r.endWindow)
	httpx.Register(rt, httpx.Op(post, "/api/healing/rollback/{ledger_id}", authz.Admin, "Rollback a heal action"), r.rollback)
	httpx.Register(rt, httpx.Op(post, "/api/healing/dry-run", authz.Operator, "Simulate a heal event"), r.dryRun)
	httpx.Register(rt, httpx.Op(get, "/api/healing/chaos/scenarios", authz.Read, "List chaos test scenarios"), r.chaosList)
	httpx.Register(rt, httpx.Op(post, "/api/healing/chaos/run", authz.Admin, "Run a chaos test scenario"), r.chaosRun)
	httpx.Register(rt, httpx.Op(get, "/api/healing/health", authz.Read, "Healing pipeline health summary"), r.health)
}

type ledgerIn struct {
	Limit  string `query:"limit"`
	RuleID string `query:"rule_id"`
	Target string `query:"target"`
}

func (r *Room) ledger(ctx context.Context, in *ledgerIn) (*anyOut, error) {
	limit, err := httpx.IntParam("limit", in.Limit, 50, 1, 1000)
	if err != nil {
		return nil, err
	}
	rows, err := r.d.Store.Ledger(ctx, limit, in.RuleID, in.Target)
	if err != nil {
		return nil, err
	}
	return out(rows), nil
}

type effIn struct {
	ActionType string `query:"action_type"`
	Condition  string `query:"condition"`
	Target     string `query:"target"`
}

func (r *Room) effectiveness(ctx context.Context, in *effIn) (*anyOut, error) {
	if in.ActionType != "" && in.Condition != "" {
		rate, _, err := r.d.Store.SuccessRate(ctx, in.ActionType, in.Condition, in.Target, r.now().Unix()-720*3600)
		if err != nil {
			return nil, err
		}
		return out(map[string]any{"action_type": in.ActionType, "condition": in.Condition, "success_rate": round(rate, 2)}), nil
	}
	total, verified, pending, err := r.d.Store.Effectiveness(ctx)
	if err != nil {
		return nil, err
	}
	rate := 0.0
	if total > 0 {
		rate = round(float64(verified)/float64(total), 4)
	}
	mttr, err := r.d.Store.MTTR(ctx, r.now().Unix()-720*3600)
	if err != nil {
		return nil, err
	}
	return out(map[string]any{"total": total, "verified_count": verified, "failed_count": total - verified - pending,
		"pending_count": pending, "success_rate": rate, "mean_time_to_resolve_s": mttr}), nil
}

func (r *Room) suggestions(ctx context.Context, _ *struct{}) (*anyOut, error) {
	s, err := r.d.Store.Suggestions(ctx)
	if err != nil {
		return nil, err
	}
	return out(s), nil
}

type idIn struct {
	ID string `path:"id"`
}

func (r *Room) dismiss(ctx context.Context, in *idIn) (*anyOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	if err := r.d.Store.DismissSuggestion(ctx, id, r.now().Unix()); err != nil {
		return nil, err
	}
	return out(map[string]any{"success": true}), nil
}

func (r *Room) trustList(ctx context.Context, _ *struct{}) (*anyOut, error) {
	t, err := r.d.Store.TrustList(ctx)
	if err != nil {
		return nil, err
	}
	return out(t), nil
}

type ruleIn struct {
	RuleID string `path:"rule_id"`
	rawIn
}

var ruleRE = regexp.MustCompile(`^[A-Za-z0-9_.:@/\-]{1,200}$`)

func (r *Room) moveTrust(ctx context.Context, in *ruleIn, def string, allowed []string, action string) (*anyOut, error) {
	if !ruleRE.MatchString(in.RuleID) {
		return nil, httpx.Invalid("Invalid rule id")
	}
	b, err := in.body()
	if err != nil {
		return nil, err
	}
	level := def
	if v, ok := b["level"]; ok {
		level, _ = v.(string)
	}
	if !slices.Contains(allowed, level) {
		return nil, httpx.Invalid("%s", levelErr(allowed))
	}
	t, ok, err := r.d.Store.Trust(ctx, in.RuleID)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, httpx.NotFound("No trust state for rule: %s", in.RuleID)
	}
	if action == "trust_promote" && rank(level) > rank(t.Ceiling) {
		return nil, httpx.Invalid("level %s is above the rule's ceiling %s", level, t.Ceiling)
	}
	old, err := r.d.Store.UpsertTrust(ctx, in.RuleID, level, t.Ceiling, r.now().Unix())
	if err != nil {
		return nil, err
	}
	r.audit(ctx, action, fmt.Sprintf("%s: %s -> %s", in.RuleID, old, level))
	return out(map[string]any{"success": true, "rule_id": in.RuleID, "new_level": level}), nil
}

func (r *Room) promote(ctx context.Context, in *ruleIn) (*anyOut, error) {
	return r.moveTrust(ctx, in, "approve", Levels, "trust_promote")
}

func (r *Room) demote(ctx context.Context, in *ruleIn) (*anyOut, error) {
	return r.moveTrust(ctx, in, "notify", Levels[:4], "trust_demote")
}

func (r *Room) setTrust(ctx context.Context, in *ruleIn) (*anyOut, error) {
	if !ruleRE.MatchString(in.RuleID) {
		return nil, httpx.Invalid("Invalid rule id")
	}
	b, err := in.body()
	if err != nil {
		return nil, err
	}
	level, ceiling := "notify", "execute"
	if v, ok := b["level"]; ok {
		level, _ = v.(string)
	}
	if v, ok := b["ceiling"]; ok {
		ceiling, _ = v.(string)
	}
	if !slices.Contains(Levels, level) || !slices.Contains(Levels, ceiling) {
		return nil, httpx.Invalid("level and ceiling must be one of: %s", strings.Join(Levels, ", "))
	}
	if rank(level) > rank(ceiling) {
		return nil, httpx.Invalid("level %s is above the ceiling %s", level, ceiling)
	}
	if _, err := r.d.Store.UpsertTrust(ctx, in.RuleID, level, ceiling, r.now().Unix()); err != nil {
		return nil, err
	}
	r.audit(ctx, "trust_set", fmt.Sprintf("%s: level=%s, ceiling=%s", in.RuleID, level, ceiling))
	return out(map[string]any{"success": true, "rule_id": in.RuleID, "level": level, "ceiling": ceiling}), nil
}

type hostIn struct {
	Hostname string `path:"hostname"`
}

func (r *Room) capabilities(ctx context.Context, in *hostIn) (*anyOut, error) {
	m, probed, deg, ok, err := r.d.Store.Manifest(ctx, in.Hostname)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, httpx.NotFound("No manifest for %s", in.Hostname)
	}
	return out(map[string]any{"hostname": in.Hostname, "manifest": m, "probed_at": probed, "degraded_capabilities": deg}), nil
}

func (r *Room) refreshCaps(ctx context.Context, in *hostIn) (*anyOut, error) {
	if r.d.Agents == nil || !slices.Contains(r.d.Agents.Known(), in.Hostname) {
		return nil, httpx.NotFound("No known agent: %s", in.Hostname)
	}
	if _, _, err := r.d.Agents.Send(ctx, in.Hostname, "refresh_capabilities", map[string]any{}, "healing"); err != nil {
		return nil, err
	}
	return out(map[string]any{"status": "refresh_queued", "hostname": in.Hostname}), nil
}

func (r *Room) dependencies(ctx context.Context, _ *struct{}) (*anyOut, error) {
	if _, err := r.Graph(ctx); err != nil {
		return nil, err
	}
	n, err := r.d.Store.Nodes(ctx)
	if err != nil {
		return nil, err
	}
	return out(n), nil
}

func (r *Room) validateDeps(_ context.Context, in *rawIn) (*anyOut, error) {
	b, err := in.body()
	if err != nil {
		return nil, err
	}
	cfg, ok := b["config"].([]any)
	if !ok {
		return nil, httpx.Invalid("config must be a list of nodes")
	}
	errs := ValidateConfig(cfg)
	if len(errs) == 0 {
		return out(map[string]any{"valid": true}), nil
	}
	return out(map[string]any{"valid": false, "errors": errs}), nil
}

// ValidateConfig checks a dependency config (§6.6).
func ValidateConfig(cfg []any) []string {
	var errs []string
	targets := map[string]bool{}
	for _, e := range cfg {
		if m, ok := e.(map[string]any); ok {
			if t := str(m, "target"); t != "" {
				targets[t] = true
			}
		}
	}
	deps := map[string][]string{}
	for _, e := range cfg {
		m, ok := e.(map[string]any)
		if !ok {
			errs = append(errs, "Each config entry must be an object.")
			continue
		}
		t := str(m, "target")
		if t == "" {
			errs = append(errs, "A node is missing the required 'target' field.")
			continue
		}
		if str(m, "node_type") == "" && str(m, "type") == "" {
			errs = append(errs, fmt.Sprintf("Node '%s' is missing the required 'node_type' field.", t))
		}
		ds, ok := parseDeps(m["depends_on"])
		if !ok {
			errs = append(errs, fmt.Sprintf("Node '%s' has malformed 'depends_on' value.", t))
			continue
		}
		for _, d := range ds {
			d = stripType(d)
			if !targets[d] {
				errs = append(errs, fmt.Sprintf("Node '%s' depends on '%s' which is not defined in this config.", t, d))
			}
			deps[t] = append(deps[t], d)
		}
	}
	if len(errs) == 0 {
		state := map[string]int{}
		var visit func(string) bool
		visit = func(n string) bool {
			state[n] = 1
			for _, d := range deps[n] {
				if state[d] == 1 || (state[d] == 0 && visit(d)) {
					return true
				}
			}
			state[n] = 2
			return false
		}
		for t := range deps {
			if state[t] == 0 && visit(t) {
				errs = append(errs, "Cycle detected in dependency graph.")
				break
			}
		}
	}
	return errs
}

func (r *Room) listWindows(ctx context.Context, _ *struct{}) (*anyOut, error) {
	w, err := r.d.Store.ActiveWindows(ctx, r.now().Unix())
	if err != nil {
		return nil, err
	}
	return out(w), nil
}

var durRE = regexp.MustCompile(`^(\d+h)?(\d+m)?(\d+s)?$`)

// ParseDuration parses "2h30m", "90s" or a bare number of seconds.
func ParseDuration(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToLower(s))
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if n <= 0 {
			return 0, fmt.Errorf("duration must be positive")
		}
		return n, nil
	}
	if s == "" || !durRE.MatchString(s) {
		return 0, fmt.Errorf("duration must look like 30m, 2h30m, 90s or a number of seconds")
	}
	var total int64
	num := ""
	for _, c := range s {
		if c >= '0' && c <= '9' {
			num += string(c)
			continue
		}
		n, _ := strconv.ParseInt(num, 10, 64)
		num = ""
		total += n * map[rune]int64{'h': 3600, 'm': 60, 's': 1}[c]
	}
	if total <= 0 {
		return 0, fmt.Errorf("duration must be positive")
	}
	return total, nil
}

func (r *Room) createWindow(ctx context.Context, in *rawIn) (*anyOut, error) {
	b, err := in.body()
	if err != nil {
		return nil, err
	}
	target, dur := str(b, "target"), str(b, "duration")
	if target == "" || dur == "" {
		return nil, httpx.Invalid("target and duration are required")
	}
	if len(target) > 253 || (target != "all" && !nameRE.MatchString(target)) {
		return nil, httpx.Invalid("Invalid target")
	}
	secs, err := ParseDuration(dur)
	if err != nil {
		return nil, httpx.Invalid("%s", err.Error())
	}
	if secs > 30*86400 {
		return nil, httpx.Invalid("duration must be at most 30 days")
	}
	action := orDefault(str(b, "action"), "suppress")
	if !slices.Contains([]string{"suppress", "notify_only", "queue"}, action) {
		return nil, httpx.Invalid("action must be one of: suppress, notify_only, queue")
	}
	reason := str(b, "reason")
	if len(reason) > 500 {
		return nil, httpx.Invalid("reason must be at most 500 characters")
	}
	now := r.now().Unix()
	exp := now + secs
	user := ""
	if p, ok := authz.From(ctx); ok {
		user = p.Username
	}
	id, err := r.d.Store.InsertWindow(ctx, Window{Target: target, DurationS: secs, Reason: reason, Action: action, CreatedBy: user,
		CreatedAt: now, ExpiresAt: &exp})
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "maintenance_create", fmt.Sprintf("target=%s duration=%ds action=%s", target, secs, action))
	return out(map[string]any{"id": id, "status": "created"}), nil
}

func (r *Room) endWindow(ctx context.Context, in *idIn) (*anyOut, error) {
	id, err := parseID("id", in.ID)
	if err != nil {
		return nil, err
	}
	ok, err := r.d.Store.EndWindow(ctx, id)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, httpx.NotFound("No active maintenance window with id %d", id)
	}
	r.audit(ctx, "maintenance_end", fmt.Sprintf("window_id=%d", id))
	// Held events of a queue window are re-evaluated now.
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		if err := r.p.releaseHeld(context.WithoutCancel(ctx)); err != nil {
			r.d.Log.Warn("release held heal events", "err", err)
		}
	}()
	return out(map[string]any{"status": "ended"}), nil
}

type ledgerIDIn struct {
	LedgerID string `path:"ledger_id"`
}

func (r *Room) rollback(ctx context.Context, in *ledgerIDIn) (*anyOut, error) {
	id, err := parseID("ledger_id", in.LedgerID)
	if err != nil {
		return nil, err
	}
	_, act, target, st, err := r.d.Store.SnapshotFor(ctx, id)
	if err == errNotFound {
		return nil, httpx.NotFound("No snapshot found for ledger entry %d", id)
	}
	if err != nil {
		return nil, err
	}
	a, ok := r.x.Action(act)
	if !ok || !a.Reversible() {
		return nil, httpx.Invalid("Action '%s' is not reversible", act)
	}
	res := r.x.Rollback(ctx, act, st, target)
	status := "rolled_back"
	if !res.Success {
		status = "rollback_failed: " + res.Error
	}
	_ = r.d.Store.SetRollbackStatus(ctx, id, status)
	r.audit(ctx, "rollback", fmt.Sprintf("ledger_id=%d action_type=%s success=%t", id, act, res.Success))
	return out(res), nil
}

func (r *Room) dryRun(ctx context.Context, in *rawIn) (*anyOut, error) {
	b, err := in.body()
	if err != nil {
		return nil, err
	}
	src := b
	if e, ok := b["event"].(map[string]any); ok {
		src = e
	}
	ev := EventFrom(src)
	ev.Source = orDefault(ev.Source, "dry-run")
	ev.RuleID = orDefault(ev.RuleID, "dry-run")
	ev.Severity = orDefault(ev.Severity, "info")
	if _, given := src["escalation_chain"]; !given && ScenarioFor(ev.RuleID) == "" && src["action"] == nil {
		ev.Chain = nil
	}
	return out(r.Simulate(ctx, ev)), nil
}

func (r *Room) chaosList(context.Context, *struct{}) (*anyOut, error) {
	s := Scenarios()
	outl := make([]map[string]any, 0, len(s))
	for _, x := range s {
		outl = append(outl, map[string]any{"name": x.Name, "description": x.Description, "inject": x.Inject})
	}
	return out(outl), nil
}

func (r *Room) chaosRun(ctx context.Context, in *rawIn) (*anyOut, error) {
	b, err := in.body()
	if err != nil {
		return nil, err
	}
	dry := true
	if v, ok := b["dry_run"].(bool); ok {
		dry = v
	}
	return out(r.RunChaos(ctx, str(b, "scenario"), dry)), nil
}

// health is the component watchdog summary (§6.20): a component is
// unhealthy when its last heartbeat is older than three intervals.
func (r *Room) health(context.Context, *struct{}) (*anyOut, error) {
	intervals := map[string]int64{"pipeline": 0, "watchdog": 30, "learning": 3600}
	now := r.now().Unix()
	r.p.mu.Lock()
	defer r.p.mu.Unlock()
	res := map[string]any{}
	bad := 0
	for c, iv := range intervals {
		t, seen := r.p.beats[c]
		var last any
		healthy := true
		ref := r.started.Unix()
		if seen {
			last = t.Unix()
			ref = t.Unix()
		}
		if iv > 0 && now-ref > iv*3 {
			healthy = false
		}
		if !healthy {
			bad++
		}
		res[c] = map[string]any{"healthy": healthy, "last_heartbeat": last, "failure_count": map[bool]int{true: 0, false: 1}[healthy]}
	}
	res["degraded"] = bad >= 3
	counts := map[string]int{}
	for k, v := range r.p.counts {
		counts[k] = v
	}
	res["outcomes"] = counts
	res["active_heals"] = len(r.p.heals)
	res["held_events"] = len(r.p.held)
	return out(res), nil
}
