package alerts

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/noba-go/noba/internal/alerts/notify"
	"github.com/noba-go/noba/internal/authz"
	"github.com/noba-go/noba/internal/httpx"
)

type statusOut struct {
	Body struct {
		Status string `json:"status"`
	}
}

func ok() *statusOut {
	o := &statusOut{}
	o.Body.Status = "ok"
	return o
}

type anyOut struct{ Body any }

type bodyIn struct{ Body map[string]any }

type ruleIDIn struct {
	RuleID string `path:"rule_id"`
}

type ruleBodyIn struct {
	RuleID string `path:"rule_id"`
	Body   map[string]any
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

// listRules answers the stored rules; secrets inside them read "***".
func (r *Room) listRules(ctx context.Context, _ *struct{}) (*anyOut, error) {
	l, _ := r.d.Settings.Masked()["alertRules"].([]any)
	if l == nil {
		l = []any{}
	}
	return &anyOut{Body: l}, nil
}

// storedRules returns the current rules as mappings (a copy to edit: only
// the rules are copied, not the whole settings dict).
func (r *Room) storedRules() []map[string]any {
	rules := rulesOf(r.d.Settings.View())
	for i, m := range rules {
		rules[i] = cloneValue(m).(map[string]any)
	}
	return rules
}

// cloneValue deep-copies a decoded YAML/JSON value (mappings and lists).
func cloneValue(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			out[k] = cloneValue(x)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			out[i] = cloneValue(x)
		}
		return out
	}
	return v
}

// saveRules writes alertRules and nothing else (§13 F25); a failed write
// is a 500.
func (r *Room) saveRules(rules []map[string]any) error {
	l := make([]any, len(rules))
	for i, m := range rules {
		l[i] = m
	}
	if _, err := r.d.Settings.Update(map[string]any{"alertRules": l}); err != nil {
		return fmt.Errorf("write alert rules: %w", err)
	}
	return nil
}

func findRule(rules []map[string]any, id string) int {
	for i, m := range rules {
		if strings.TrimSpace(strOf(m["id"])) == id {
			return i
		}
	}
	return -1
}

type createOut struct {
	Body struct {
		Status string `json:"status"`
		ID     string `json:"id"`
	}
}

func (r *Room) createRule(ctx context.Context, in *bodyIn) (*createOut, error) {
	body := in.Body
	if body == nil {
		body = map[string]any{}
	}
	if msg := validateRule(body); msg != "" {
		return nil, httpx.Invalid("%s", msg)
	}
	r.rulesMu.Lock()
	defer r.rulesMu.Unlock()
	rules := r.storedRules()
	rule := make(map[string]any, len(body)+10)
	for k, v := range body { // extra fields are kept (§13 F11)
		rule[k] = v
	}
	id := strings.TrimSpace(strOf(body["id"]))
	if id == "" {
		for id == "" || findRule(rules, id) >= 0 {
			id = newRuleID()
		}
	} else if findRule(rules, id) >= 0 {
		return nil, httpx.Conflict("Rule '%s' already exists", id)
	}
	rule["id"] = id
	cond := strings.TrimSpace(strOf(body["condition"]))
	rule["condition"] = cond
	defaults := map[string]any{"severity": "warning", "message": cond, "channels": []any{}, "cooldown": DefaultCooldown,
		"action": nil, "max_retries": 3, "group": "", "escalation": []any{}}
	for k, v := range defaults {
		if x, ok := rule[k]; !ok || x == nil && k != "action" {
			rule[k] = v
		}
	}
	if c, ok := intOf(rule["cooldown"]); ok {
		rule["cooldown"] = c
	}
	if err := r.saveRules(append(rules, rule)); err != nil {
		return nil, err
	}
	r.audit(ctx, "alert_rule_create", fmt.Sprintf("Created rule '%s'", id))
	out := &createOut{}
	out.Body.Status, out.Body.ID = "ok", id
	return out, nil
}

type batchOut struct {
	Body struct {
		Status string `json:"status"`
		Count  int    `json:"count"`
	}
}

func (r *Room) replaceRules(ctx context.Context, in *bodyIn) (*batchOut, error) {
	list, isList := in.Body["rules"].([]any)
	if !isList {
		return nil, httpx.Invalid("Expected {rules: [...]}")
	}
	r.rulesMu.Lock()
	defer r.rulesMu.Unlock()
	old := r.storedRules()
	seen := map[string]bool{}
	rules := make([]map[string]any, 0, len(list))
	for i, x := range list {
		m, isMap := x.(map[string]any)
		if !isMap {
			return nil, httpx.Invalid("Rule #%d: Condition is required", i+1)
		}
		if msg := validateRule(m); msg != "" {
			return nil, httpx.Invalid("Rule #%d: %s", i+1, msg)
		}
		id := strings.TrimSpace(strOf(m["id"]))
		if id == "" {
			for id == "" || seen[id] || findRule(old, id) >= 0 {
				id = newRuleID()
			}
			m["id"] = id
		}
		if seen[id] {
			return nil, httpx.Conflict("Rule #%d: duplicate rule id '%s'", i+1, id)
		}
		seen[id] = true
		if j := findRule(old, id); j >= 0 {
			m = unmask(m, old[j]).(map[string]any)
		}
		rules = append(rules, m)
	}
	if err := r.saveRules(rules); err != nil {
		return nil, err
	}
	r.audit(ctx, "alert_rules_batch", fmt.Sprintf("Saved %d rules", len(rules)))
	out := &batchOut{}
	out.Body.Status, out.Body.Count = "ok", len(rules)
	return out, nil
}

func (r *Room) updateRule(ctx context.Context, in *ruleBodyIn) (*statusOut, error) {
	r.rulesMu.Lock()
	defer r.rulesMu.Unlock()
	rules := r.storedRules()
	i := findRule(rules, in.RuleID)
	if i < 0 {
		return nil, httpx.NotFound("Rule not found")
	}
	merged := make(map[string]any, len(rules[i])+len(in.Body))
	for k, v := range rules[i] {
		merged[k] = v
	}
	for k, v := range in.Body {
		if k == "id" {
			continue // the id names the rule; renaming is delete + create
		}
		merged[k] = unmask(v, rules[i][k])
	}
	if msg := validateRule(merged); msg != "" {
		return nil, httpx.Invalid("%s", msg)
	}
	rules[i] = merged
	if err := r.saveRules(rules); err != nil {
		return nil, err
	}
	r.audit(ctx, "alert_rule_update", fmt.Sprintf("Updated rule '%s'", in.RuleID))
	return ok(), nil
}

func (r *Room) deleteRule(ctx context.Context, in *ruleIDIn) (*statusOut, error) {
	r.rulesMu.Lock()
	defer r.rulesMu.Unlock()
	rules := r.storedRules()
	kept := rules[:0:0]
	for _, m := range rules {
		if strings.TrimSpace(strOf(m["id"])) != in.RuleID {
			kept = append(kept, m)
		}
	}
	if len(kept) == len(rules) {
		return nil, httpx.NotFound("Rule not found")
	}
	if err := r.saveRules(kept); err != nil {
		return nil, err
	}
	r.audit(ctx, "alert_rule_delete", fmt.Sprintf("Deleted rule '%s'", in.RuleID))
	return ok(), nil
}

type testOut struct {
	Body struct {
		RuleID           string              `json:"rule_id"`
		Condition        string              `json:"condition"`
		Result           bool                `json:"result"`
		AvailableMetrics []string            `json:"available_metrics"`
		Values           map[string]*float64 `json:"values"`
	}
}

// testRule evaluates a rule against the latest snapshot with the same
// metric map the engine uses (§13 F4). No side effects.
func (r *Room) testRule(ctx context.Context, in *ruleIDIn) (*testOut, error) {
	rules := r.storedRules()
	i := findRule(rules, in.RuleID)
	if i < 0 {
		return nil, httpx.NotFound("Rule not found")
	}
	rule := ruleOf(rules[i])
	r.mu.Lock()
	c, err := r.condLocked(rule.Condition)
	flat := map[string]float64{}
	if err == nil {
		for _, k := range c.Metrics() {
			if v, ok := r.lookupLocked(r.lastFlat, r.lastSnap, k); ok {
				flat[k] = v
			}
		}
	}
	r.mu.Unlock()
	out := &testOut{}
	out.Body.RuleID, out.Body.Condition = rule.ID, rule.Condition
	out.Body.Values = map[string]*float64{}
	if err == nil {
		out.Body.Result = c.Eval(func(k string) (float64, bool) { v, ok := flat[k]; return v, ok })
		for _, m := range c.Metrics() {
			if v, ok := flat[m]; ok {
				out.Body.Values[m] = &v
			} else {
				out.Body.Values[m] = nil
			}
		}
	}
	keys := sortedKeys(flat)
	if len(keys) > 50 {
		keys = keys[:50]
	}
	out.Body.AvailableMetrics = keys
	return out, nil
}

type slaIn struct {
	RuleID string `path:"rule_id"`
	Window string `query:"window"`
}

// SLA is the uptime percentage of ruleID over the last windowHours:
// 100 × (1 − merged firing time / window), 4 decimals (§5.7, §13 F2).
func (r *Room) SLA(ctx context.Context, ruleID string, windowHours int) (float64, error) {
	to := r.d.Now().Unix()
	w := int64(windowHours) * 3600
	from := to - w
	iv, err := r.d.Store.Intervals(ctx, ruleID, from, to)
	if err != nil {
		return 0, err
	}
	down := mergedLength(iv)
	up := math.Max(0, float64(w-down)/float64(w)*100)
	return math.Round(up*10000) / 10000, nil
}

// mergedLength is the total length of the union of intervals.
func mergedLength(iv [][2]int64) int64 {
	sort.Slice(iv, func(i, j int) bool { return iv[i][0] < iv[j][0] })
	var total, curS, curE int64
	started := false
	for _, x := range iv {
		if x[1] <= x[0] {
			continue
		}
		if !started || x[0] > curE {
			if started {
				total += curE - curS
			}
			curS, curE, started = x[0], x[1], true
			continue
		}
		curE = max(curE, x[1])
	}
	if started {
		total += curE - curS
	}
	return total
}

func (r *Room) sla(ctx context.Context, in *slaIn) (*anyOut, error) {
	hours, err := httpx.IntParam("window", in.Window, 720, 1, 8760)
	if err != nil {
		return nil, err
	}
	v, err := r.SLA(ctx, in.RuleID, hours)
	if err != nil {
		r.d.Log.Warn("sla unavailable", "rule_id", in.RuleID, "err", err)
		return &anyOut{Body: nil}, nil
	}
	return &anyOut{Body: v}, nil
}

type historyIn struct {
	Limit  string `query:"limit"`
	RuleID string `query:"rule_id"`
	From   string `query:"from"`
	To     string `query:"to"`
}

type historyOut struct{ Body []AlertRecord }

func (r *Room) history(ctx context.Context, in *historyIn) (*historyOut, error) {
	limit, err := httpx.IntParam("limit", in.Limit, 100, 1, 1000)
	if err != nil {
		return nil, err
	}
	rows, err := r.d.Store.History(ctx, HistoryQuery{Limit: limit, RuleID: in.RuleID,
		From: int64(httpx.SafeInt(in.From, 0)), To: int64(httpx.SafeInt(in.To, 0))})
	if err != nil {
		return nil, err
	}
	return &historyOut{Body: rows}, nil
}

type notificationsIn struct {
	Unread string `query:"unread"`
	Limit  string `query:"limit"`
}

type notificationsOut struct {
	Body struct {
		Notifications []InAppNotification `json:"notifications"`
		UnreadCount   int                 `json:"unread_count"`
	}
}

func (r *Room) notifications(ctx context.Context, in *notificationsIn) (*notificationsOut, error) {
	limit, err := httpx.IntParam("limit", in.Limit, 50, 1, 200)
	if err != nil {
		return nil, err
	}
	p := authz.Must(ctx)
	ns, unread, err := r.d.Store.Notifications(ctx, p.Username, in.Unread == "1", limit)
	if err != nil {
		return nil, err
	}
	out := &notificationsOut{}
	out.Body.Notifications, out.Body.UnreadCount = ns, unread
	return out, nil
}

type notifIDIn struct {
	NotifID string `path:"notif_id"`
}

func (r *Room) readOne(ctx context.Context, in *notifIDIn) (*statusOut, error) {
	id, err := strconv.ParseInt(in.NotifID, 10, 64)
	if err != nil {
		return nil, httpx.Invalid("Invalid notif_id")
	}
	if err := r.d.Store.MarkRead(ctx, id, authz.Must(ctx).Username, r.d.Now().Unix()); err != nil {
		return nil, err
	}
	return ok(), nil
}

func (r *Room) readAll(ctx context.Context, _ *struct{}) (*statusOut, error) {
	if err := r.d.Store.MarkAllRead(ctx, authz.Must(ctx).Username, r.d.Now().Unix()); err != nil {
		return nil, err
	}
	return ok(), nil
}

// ChannelResult is one channel's outcome of a test notification.
type ChannelResult struct {
	Channel string `json:"channel"`
	OK      bool   `json:"ok"`
	Error   string `json:"error,omitempty"`
}

type testNotifOut struct {
	Body struct {
		Status  string          `json:"status"`
		Message string          `json:"message"`
		Results []ChannelResult `json:"results"`
	}
}

// testNotification sends a test message to every enabled channel and
// reports each one's result (errors have secrets removed).
func (r *Room) testNotification(ctx context.Context, _ *struct{}) (*testNotifOut, error) {
	cfg, _ := r.d.Settings.View()["notifications"].(map[string]any) // shared: read only
	targets := notify.Enabled(cfg)
	out := &testNotifOut{}
	out.Body.Status, out.Body.Results = "ok", []ChannelResult{}
	if len(targets) == 0 {
		out.Body.Message = "No notification channels configured"
		return out, nil
	}
	// The reference's answer (issue 11 item 11): {"status":"sent"}, the
	// per-channel results beside it.
	out.Body.Status = "sent"
	res := r.d.Sender.Send(ctx, cfg, targets, notify.Message{Level: "info", Text: "This is a test notification from NOBA",
		Event: "test", RuleID: "test", Timestamp: r.d.Now().Unix()})
	okN := 0
	for _, x := range res {
		if x.OK {
			okN++
		}
	}
	for _, x := range res {
		out.Body.Results = append(out.Body.Results, ChannelResult(x))
	}
	if okN == len(res) {
		out.Body.Message = "Notification sent"
	} else {
		out.Body.Message = fmt.Sprintf("Notification sent to %d of %d channels", okN, len(res))
	}
	r.audit(ctx, "test_notification", fmt.Sprintf("Test notification triggered (%d of %d channels ok)", okN, len(res)))
	return out, nil
}

type windowsOut struct{ Body []MaintenanceWindow }

func (r *Room) listWindows(ctx context.Context, _ *struct{}) (*windowsOut, error) {
	ws, err := r.d.Store.Windows(ctx)
	if err != nil {
		return nil, err
	}
	return &windowsOut{Body: ws}, nil
}

func (r *Room) activeWindows(ctx context.Context, _ *struct{}) (*windowsOut, error) {
	mt := r.maintenanceAt(ctx, r.d.Now(), nil)
	out := mt.active
	if out == nil {
		out = []MaintenanceWindow{}
	}
	return &windowsOut{Body: out}, nil
}

type windowCreateOut struct {
	Body struct {
		ID     int64  `json:"id"`
		Status string `json:"status"`
	}
}

func (r *Room) createWindow(ctx context.Context, in *bodyIn) (*windowCreateOut, error) {
	w := MaintenanceWindow{DurationMin: 60, SuppressAlerts: true, Enabled: true, CreatedBy: authz.Must(ctx).Username, CreatedAt: r.d.Now().Unix()}
	if _, msg := applyWindow(&w, in.Body); msg != "" {
		return nil, httpx.Invalid("%s", msg)
	}
	if msg := checkWindow(w); msg != "" {
		return nil, httpx.Invalid("%s", msg)
	}
	id, err := r.d.Store.CreateWindow(ctx, w)
	if err != nil {
		return nil, err
	}
	r.audit(ctx, "maintenance_window_create", fmt.Sprintf("id=%d name=%s", id, w.Name))
	out := &windowCreateOut{}
	out.Body.ID, out.Body.Status = id, "ok"
	return out, nil
}

type windowIn struct {
	ID   string `path:"id"`
	Body map[string]any
}

func windowID(raw string) (int64, error) {
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil {
		return 0, httpx.Invalid("Invalid id")
	}
	return id, nil
}

func (r *Room) updateWindow(ctx context.Context, in *windowIn) (*statusOut, error) {
	id, err := windowID(in.ID)
	if err != nil {
		return nil, err
	}
	w, err := r.d.Store.MaintenanceWindow(ctx, id)
	if err != nil {
		return nil, err
	}
	n, msg := applyWindow(&w, in.Body)
	if msg != "" {
		return nil, httpx.Invalid("%s", msg)
	}
	if n == 0 {
		return nil, httpx.Invalid("No recognised fields to update (expected %s)", strings.Join(windowFields, ", "))
	}
	if msg := checkWindow(w); msg != "" {
		return nil, httpx.Invalid("%s", msg)
	}
	if err := r.d.Store.SaveWindow(ctx, w); err != nil {
		return nil, err
	}
	r.audit(ctx, "maintenance_window_update", fmt.Sprintf("id=%d", id))
	return ok(), nil
}

type windowIDIn struct {
	ID string `path:"id"`
}

func (r *Room) deleteWindow(ctx context.Context, in *windowIDIn) (*statusOut, error) {
	id, err := windowID(in.ID)
	if err != nil {
		return nil, err
	}
	if err := r.d.Store.DeleteWindow(ctx, id); err != nil {
		return nil, err
	}
	r.audit(ctx, "maintenance_window_delete", fmt.Sprintf("id=%d", id))
	return ok(), nil
}
