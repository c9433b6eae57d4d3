package agent

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/wire"
)

// healState is the agent-side healing runtime (spec 20 §4.4): the policy
// from the last report answer and per-rule cooldowns.
type healState struct {
	mu       sync.Mutex
	rules    []map[string]any
	version  string
	cooldown map[string]time.Time
	running  bool
}

// setPolicy replaces the policy when the server sent a non-empty one.
func (h *healState) setPolicy(p map[string]any) {
	if len(p) == 0 {
		return
	}
	list, ok := p["rules"].([]any)
	if !ok {
		return
	}
	rules := make([]map[string]any, 0, len(list))
	for _, e := range list {
		if m, ok := e.(map[string]any); ok {
			rules = append(rules, m)
		}
	}
	h.mu.Lock()
	h.rules = rules
	h.version, _ = p["version"].(string)
	if h.cooldown == nil {
		h.cooldown = map[string]time.Time{}
	}
	h.mu.Unlock()
}

// flatten turns a report into metric name -> value: numeric top-level keys
// and numeric fields of list entries as key[i].sub.
func flatten(rep map[string]any) map[string]float64 {
	out := map[string]float64{}
	for k, v := range rep {
		switch x := v.(type) {
		case []any:
			for i, e := range x {
				if m, ok := e.(map[string]any); ok {
					for sk, sv := range m {
						if f, ok := num(sv); ok {
							out[fmt.Sprintf("%s[%d].%s", k, i, sk)] = f
						}
					}
				}
			}
		default:
			if f, ok := num(v); ok {
				out[k] = f
			}
		}
	}
	return out
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case uint64:
		return float64(x), true
	}
	return 0, false
}

var condRE = regexp.MustCompile(`^\s*([A-Za-z0-9_\[\].]+)\s*(>=|<=|==|!=|>|<)\s*(-?[0-9]+(?:\.[0-9]+)?)\s*$`)

// evalCondition evaluates "<metric> <op> <number>" joined by AND or OR (not
// mixed); an unknown metric is false.
func evalCondition(cond string, m map[string]float64) bool {
	parts, all := []string{cond}, true
	switch {
	case strings.Contains(cond, " AND ") && strings.Contains(cond, " OR "):
		return false
	case strings.Contains(cond, " AND "):
		parts = strings.Split(cond, " AND ")
	case strings.Contains(cond, " OR "):
		parts, all = strings.Split(cond, " OR "), false
	}
	for _, p := range parts {
		r := evalOne(p, m)
		if all && !r {
			return false
		}
		if !all && r {
			return true
		}
	}
	return all
}

func evalOne(c string, m map[string]float64) bool {
	g := condRE.FindStringSubmatch(c)
	if g == nil {
		return false
	}
	v, ok := m[g[1]]
	if !ok {
		return false
	}
	n, _ := strconv.ParseFloat(g[3], 64)
	switch g[2] {
	case ">":
		return v > n
	case "<":
		return v < n
	case ">=":
		return v >= n
	case "<=":
		return v <= n
	case "==":
		return v == n
	case "!=":
		return v != n
	}
	return false
}

// healAction maps a rule's action to a local command.
func healAction(rule map[string]any) (cmd string, params map[string]any, shell string) {
	p, _ := rule["action_params"].(map[string]any)
	if p == nil {
		p = map[string]any{}
	}
	str := func(k string) string { s, _ := p[k].(string); return s }
	switch rule["action_type"] {
	case "restart_container":
		c := str("container")
		if c == "" {
			c = str("name")
		}
		return wire.CmdContainerControl, map[string]any{"container": c, "action": "restart"}, ""
	case "restart_service":
		s := str("service")
		if s == "" {
			s = str("target")
		}
		return wire.CmdRestartService, map[string]any{"service": s}, ""
	case "clear_cache":
		c := str("command")
		if c == "" {
			c = "sync && echo 3 > /proc/sys/vm/drop_caches"
		}
		return "", nil, c
	case "flush_dns":
		c := str("command")
		if c == "" {
			c = "systemd-resolve --flush-caches 2>/dev/null || resolvectl flush-caches 2>/dev/null || true"
		}
		return "", nil, c
	}
	return "", nil, ""
}

// runHeal evaluates the policy against the metrics of the last report and
// runs at most one round of actions in the background.
func (a *Agent) runHeal(rep map[string]any) {
	h := &a.healer
	h.mu.Lock()
	if h.running || len(h.rules) == 0 {
		h.mu.Unlock()
		return
	}
	rules := h.rules
	h.running = true
	h.mu.Unlock()
	go func() {
		defer func() {
			h.mu.Lock()
			h.running = false
			h.mu.Unlock()
		}()
		metrics := flatten(rep)
		for _, rule := range rules {
			if rule["trust_level"] != "execute" {
				continue
			}
			id, _ := rule["rule_id"].(string)
			cond, _ := rule["condition"].(string)
			cd := time.Duration(wire.IntOf(rule["cooldown_s"], 300)) * time.Second
			h.mu.Lock()
			last := h.cooldown[id]
			h.mu.Unlock()
			if time.Since(last) < cd || !evalCondition(cond, metrics) {
				continue
			}
			h.mu.Lock()
			h.cooldown[id] = time.Now()
			h.mu.Unlock()
			a.healOne(rule, id, cond, metrics)
		}
	}()
}

func (a *Agent) healOne(rule map[string]any, id, cond string, before map[string]float64) {
	ctx := context.Background()
	start := time.Now()
	cmd, params, shell := healAction(rule)
	var res map[string]any
	switch {
	case shell != "":
		r := a.run(ctx, 30*time.Second, "sh", "-c", shell)
		res = map[string]any{"status": statusOf(r)}
	case cmd != "":
		res = a.handle(ctx, &call{id: "heal-" + id, cmd: cmd, params: params, agent: a})
	default:
		return
	}
	delay := min(wire.IntOf(rule["verify_delay"], 5), 15)
	time.Sleep(time.Duration(max(delay, 0)) * time.Second)
	after := flatten(a.metrics(ctx))
	entry := map[string]any{"rule_id": id, "condition": cond, "action_type": rule["action_type"], "action_params": rule["action_params"],
		"success": res["status"] == "ok", "verified": !evalCondition(cond, after), "duration_s": time.Since(start).Seconds(),
		"metrics_before": before, "metrics_after": after, "trust_level": rule["trust_level"]}
	a.mu.Lock()
	a.heal = append(a.heal, entry)
	a.mu.Unlock()
}
