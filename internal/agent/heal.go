package agent

import (
	"context"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/noba-go/noba/internal/wire"
	"github.com/noba-go/noba/internal/wire/condition"
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

// healMetrics resolves a condition's metric names against the agent's own
// report: `cpu_percent`, `disks[0].percent`... or the server's name for
// this agent, `agent_<host>.<metric>`.
func healMetrics(host string, m *wire.Metrics) func(string) (float64, bool) {
	own := agentPrefix(host) + "."
	return func(k string) (float64, bool) {
		if rest, ok := strings.CutPrefix(k, own); ok {
			k = rest
		}
		return m.Lookup(k)
	}
}

// agentPrefix is the server's metric prefix of a host (agent_ + the
// hostname with every character but letters, digits and _ replaced by _).
func agentPrefix(host string) string {
	b := []byte("agent_" + host)
	for i := len("agent_"); i < len(b); i++ {
		c := b[i]
		if !(c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b[i] = '_'
		}
	}
	return string(b)
}

// snapshotOf is the values a condition names (for the heal report).
func snapshotOf(c *condition.Condition, get func(string) (float64, bool)) map[string]float64 {
	out := map[string]float64{}
	for _, k := range c.Metrics() {
		if v, ok := get(k); ok {
			out[k] = v
		}
	}
	return out
}

// healAction maps a rule's action to a command of the registry. The
// established agent ran `sh -c` with a command taken from the rule's step
// parameters (clear_cache, flush_dns), outside the command risk matrix and
// the audit (issue 11 §10): that path is gone. Such actions run as fixed
// programs, never with a command from the rule.
func healAction(rule map[string]any) (cmd string, params map[string]any, argv []string) {
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
		return wire.CmdContainerControl, map[string]any{"container": c, "action": "restart"}, nil
	case "restart_service":
		s := str("service")
		if s == "" {
			s = str("target")
		}
		return wire.CmdRestartService, map[string]any{"service": s}, nil
	case "clear_cache":
		return "", nil, []string{"sync"}
	case "flush_dns":
		return "", nil, []string{"resolvectl", "flush-caches"}
	}
	return "", nil, nil
}

// runHeal evaluates the policy against the metrics of the last report and
// runs at most one round of actions in the background.
func (a *Agent) runHeal(m *wire.Metrics) {
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
		a.healRound(context.Background(), rules, m)
	}()
}

// healRound runs the rules whose trust level is execute and whose
// condition (the server's parser, internal/wire/condition) holds.
func (a *Agent) healRound(ctx context.Context, rules []map[string]any, m *wire.Metrics) {
	h := &a.healer
	get := healMetrics(a.cfg.Hostname, m)
	for _, rule := range rules {
		if rule["trust_level"] != "execute" {
			continue
		}
		id, _ := rule["rule_id"].(string)
		cond, _ := rule["condition"].(string)
		c, err := condition.Parse(cond)
		if err != nil {
			continue
		}
		cd := time.Duration(wire.IntOf(rule["cooldown_s"], 300)) * time.Second
		h.mu.Lock()
		last := h.cooldown[id]
		h.mu.Unlock()
		if time.Since(last) < cd || !c.Eval(get) {
			continue
		}
		h.mu.Lock()
		if h.cooldown == nil {
			h.cooldown = map[string]time.Time{}
		}
		h.cooldown[id] = time.Now()
		h.mu.Unlock()
		a.healOne(ctx, rule, id, c, snapshotOf(c, get))
	}
}

func (a *Agent) healOne(ctx context.Context, rule map[string]any, id string, c *condition.Condition, before map[string]float64) {
	start := time.Now()
	cmd, params, argv := healAction(rule)
	var res map[string]any
	switch {
	case argv != nil:
		if !a.have(argv[0]) {
			res = fail("%s not available", argv[0])
			break
		}
		r := a.run(ctx, 30*time.Second, a.sudo(argv...)...)
		res = map[string]any{"status": statusOf(r)}
		if argv[0] == "sync" && statusOf(r) == "ok" {
			// Drop the page cache after the sync: a fixed write, no shell.
			if err := os.WriteFile(a.sys.Path("/proc/sys/vm/drop_caches"), []byte("3\n"), 0o200); err != nil {
				res = fail("drop caches: %v", err)
			}
		}
	case cmd != "":
		res = a.handle(ctx, &call{id: "heal-" + id, cmd: cmd, agent: a}, params)
	default:
		return
	}
	delay := min(wire.IntOf(rule["verify_delay"], 5), 15)
	if a.healSleep != nil {
		a.healSleep(time.Duration(max(delay, 0)) * time.Second)
	} else {
		time.Sleep(time.Duration(max(delay, 0)) * time.Second)
	}
	m := a.host.Collect(ctx)
	get := healMetrics(a.cfg.Hostname, &m)
	entry := wire.Msg{"rule_id": id, "condition": c.String(), "action_type": rule["action_type"], "action_params": rule["action_params"],
		"success": res["status"] == "ok", "verified": !c.Eval(get), "duration_s": time.Since(start).Seconds(),
		"metrics_before": before, "metrics_after": snapshotOf(c, get), "trust_level": rule["trust_level"]}
	a.mu.Lock()
	a.heal = append(a.heal, entry)
	a.mu.Unlock()
}
