package healing

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Levels are the trust levels in order (spec 30 §6.5).
var Levels = []string{"observation", "dry_run", "notify", "approve", "execute"}

func rank(l string) int { return slices.Index(Levels, l) }

// effectiveTrust resolves the trust for an event and applies the circuit
// breaker.
func (r *Room) effectiveTrust(ctx context.Context, ev Event) (string, error) {
	t, ok, err := r.d.Store.Trust(ctx, ev.RuleID)
	if err != nil {
		return "", err
	}
	if !ok {
		return "notify", nil
	}
	level := t.CurrentLevel
	switch ev.Source {
	case "prediction", "anomaly", "health_score":
		level = Levels[max(rank(level)-1, rank("notify"))]
	}
	n, err := r.d.Store.UnverifiedRecent(ctx, ev.RuleID, r.now().Add(-time.Hour).Unix())
	if err != nil {
		return "", err
	}
	if n >= 3 && t.CurrentLevel != "notify" {
		if _, err := r.d.Store.UpsertTrust(ctx, ev.RuleID, "notify", t.Ceiling, r.now().Unix()); err != nil {
			return "", err
		}
		r.p.count("circuit_breaker")
		r.d.Log.Warn("heal circuit breaker tripped", "rule_id", ev.RuleID, "unverified", n)
		return "notify", nil
	}
	return level, nil
}

var defaultChains = map[string][]Step{
	"cpu_critical": {{"process_kill", nil}, {"nice_adjust", map[string]any{"priority": 19}}, {"clear_cache", map[string]any{"target": "system"}}},
	"cpu_high":     {{"nice_adjust", map[string]any{"priority": 10}}},
	"disk_critical": {{"temp_cleanup", map[string]any{"path": "/tmp", "max_age_hours": 24}}, {"journal_vacuum", map[string]any{"max_size": "500M"}},
		{"log_rotate", map[string]any{"service": "all"}}, {"storage_cleanup", map[string]any{"targets": []any{"docker_images", "package_cache", "old_logs"}}}},
	"disk_high":       {{"temp_cleanup", map[string]any{"path": "/tmp", "max_age_hours": 48}}, {"package_cache_clean", nil}},
	"service_failed":  {{"service_reset_failed", nil}, {"restart_service", nil}, {"service_dependency_restart", nil}},
	"container_down":  {{"restart_container", nil}, {"container_recreate", nil}},
	"memory_critical": {{"clear_cache", map[string]any{"target": "system"}}, {"memory_pressure_relief", nil}, {"process_kill", nil}},
	"temp_critical":   {{"nice_adjust", map[string]any{"priority": 19}}, {"process_kill", nil}},
	"dns_down": {{"flush_dns", nil}, {"restart_service", map[string]any{"service": "pihole-FTL"}},
		{"restart_container", map[string]any{"container": "pihole"}}},
	"vpn_down":     {{"vpn_reconnect", map[string]any{"interface": "tailscale0"}}},
	"backup_stale": {{"trigger_backup", map[string]any{"source": "default"}}, {"backup_verify", map[string]any{"backup_set": "latest"}}},
}

// ScenarioFor maps a rule id to its default chain name (§6.16).
func ScenarioFor(ruleID string) string {
	id := strings.ToLower(ruleID)
	has := func(s string) bool { return strings.Contains(id, s) }
	switch {
	case has("cpu_crit") || has("cpu_critical"):
		return "cpu_critical"
	case has("cpu_high"):
		return "cpu_high"
	case has("disk_crit"):
		return "disk_critical"
	case has("disk_high"):
		return "disk_high"
	case has("svc_") || has("service_fail"):
		return "service_failed"
	case has("container"):
		return "container_down"
	case has("mem") && (has("crit") || has("high")):
		return "memory_critical"
	case has("temp_crit"):
		return "temp_critical"
	case has("dns"):
		return "dns_down"
	case has("vpn"):
		return "vpn_down"
	case has("backup"):
		return "backup_stale"
	}
	return ""
}

// DefaultChain returns a copy of the default chain of a rule id.
func DefaultChain(ruleID string) []Step {
	src := defaultChains[ScenarioFor(ruleID)]
	out := make([]Step, 0, len(src))
	for _, s := range src {
		p := map[string]any{}
		for k, v := range s.Params {
			p[k] = v
		}
		out = append(out, Step{Action: s.Action, Params: p})
	}
	return out
}

func levelErr(levels []string) string {
	return fmt.Sprintf("level must be one of: %s", strings.Join(levels, ", "))
}
