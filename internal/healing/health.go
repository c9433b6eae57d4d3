package healing

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// HealthScores gives the most recently computed health score (the
// monitoring room's /api/health-score body as a map; nil when never
// computed).
type HealthScores interface {
	LastHealthScore() map[string]any
}

// healthThresholds are §6.13's default thresholds (score out of 10; other
// categories 5).
var healthThresholds = map[string]float64{"capacity": 4, "certificates": 5, "backup": 3, "monitoring": 6, "uptime": 5, "updates": 5}

// healthAliases map the monitoring room's category names to §6.13's.
var healthAliases = map[string]string{"backup_freshness": "backup", "certificate_health": "certificates",
	"monitoring_coverage": "monitoring", "update_status": "updates"}

// healthActions are the actionable categories and their suggested actions.
var healthActions = map[string][]string{"capacity": {"storage_cleanup", "temp_cleanup", "log_rotate"}, "certificates": {"cert_renew"},
	"backup": {"backup_verify", "trigger_backup"}}

// healthParams are the params of the suggested actions in a heal event.
var healthParams = map[string]map[string]any{
	"storage_cleanup": {"targets": []any{"docker_images", "package_cache", "old_logs"}}, "temp_cleanup": {"path": "/tmp", "max_age_hours": 24},
	"log_rotate": {"service": "all"}, "backup_verify": {"backup_set": "latest"}, "trigger_backup": {"source": "default"}}

// HealthTriggers is §6.13's hourly health-score trigger: each scored
// category below its threshold becomes a health_<cat> suggestion, and an
// actionable category at or below half its threshold also a health_score
// heal event (rule_id health:<cat>). It returns the events it processed.
func (r *Room) HealthTriggers(ctx context.Context) ([]Event, error) {
	if r.d.Health == nil {
		return nil, nil
	}
	hs := r.d.Health.LastHealthScore()
	cats, _ := hs["categories"].(map[string]any)
	now := r.now()
	var out []Event
	for _, key := range slices.Sorted(maps.Keys(cats)) {
		c, _ := cats[key].(map[string]any)
		cat := key
		if a, ok := healthAliases[key]; ok {
			cat = a
		}
		score, ok := num(c["score"])
		if c == nil || !ok || c["score"] == nil || str(c, "status") == "unknown" {
			continue
		}
		th, ok := healthThresholds[cat]
		if !ok {
			th = 5
		}
		if score >= th {
			continue
		}
		half := float64(int(th) / 2)
		sev := "info"
		if score <= half {
			sev = "warning"
		}
		detail := str(c, "detail")
		msg := fmt.Sprintf("Health score category '%s' is degraded (score: %g/10, threshold: %g).", cat, score, th)
		if detail != "" {
			msg += " Details: " + detail + "."
		}
		acts := healthActions[cat]
		if len(acts) > 0 {
			msg += " Suggested actions: " + strings.Join(acts, ", ") + "."
		}
		rid := "health:" + cat
		sa := jsonText(append([]string{}, acts...))
		evid := jsonText(map[string]any{"score": score, "threshold": th, "details": detail})
		if err := r.d.Store.UpsertSuggestion(ctx, Suggestion{Category: "health_" + cat, Severity: sev, Message: msg, RuleID: &rid,
			SuggestedAction: &sa, Evidence: &evid}, now.Unix()); err != nil {
			return out, err
		}
		if len(acts) == 0 || score > half {
			continue
		}
		ev := Event{Source: "health_score", RuleID: rid, Target: cat, Severity: "warning",
			Condition: fmt.Sprintf("%s_score=%g (threshold=%g)", cat, score, th), Timestamp: float64(now.Unix()),
			Metrics: map[string]any{"score": score, "threshold": th}}
		for _, a := range acts {
			ev.Chain = append(ev.Chain, Step{Action: a, Params: maps.Clone(healthParams[a])})
		}
		if _, err := r.Process(ctx, ev); err != nil {
			return out, err
		}
		out = append(out, ev)
	}
	return out, nil
}
