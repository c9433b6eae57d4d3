package monitoring

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/events"
)

// UptimeItem is one row of /api/uptime.
type UptimeEntry struct {
	Name          string   `json:"name"`
	Type          string   `json:"type"`
	Status        string   `json:"status"`
	MS            *float64 `json:"ms,omitempty"`
	UptimePercent *float64 `json:"uptime_percent,omitempty"`
}

// integrationLabels are the snapshot keys /api/uptime reports (spec 20 §15.1).
var integrationLabels = []struct{ key, label string }{
	{"pihole", "Pi-hole"}, {"plex", "Plex"}, {"jellyfin", "Jellyfin"}, {"truenas", "TrueNAS"}, {"proxmox", "Proxmox"},
	{"adguard", "AdGuard"}, {"hass", "Home Assistant"}, {"unifi", "UniFi"}, {"nextcloud", "Nextcloud"},
	{"tautulli", "Tautulli"}, {"overseerr", "Overseerr"}, {"gitea", "Gitea"}, {"gitlab", "GitLab"},
	{"traefik", "Traefik"}, {"k8s", "Kubernetes"},
}

func truthy(v any) bool {
	switch x := v.(type) {
	case nil:
		return false
	case bool:
		return x
	case float64:
		return x != 0
	case int:
		return x != 0
	case string:
		return x != ""
	case []any:
		return len(x) > 0
	case map[string]any:
		return len(x) > 0
	}
	return true
}

func num(v any) (float64, bool) {
	switch x := v.(type) {
	case float64:
		return x, true
	case int:
		return float64(x), true
	case int64:
		return float64(x), true
	case json.Number:
		f, err := x.Float64()
		return f, err == nil
	}
	return 0, false
}

// uptimeItems builds /api/uptime from the snapshot and the monitors.
func uptimeItems(snap map[string]any, monitors []EndpointMonitor) []UptimeEntry {
	items := []UptimeEntry{}
	svcs, _ := snap["services"].([]any)
	for _, s := range svcs {
		sm, _ := s.(map[string]any)
		name, _ := sm["name"].(string)
		if name == "" {
			continue
		}
		st := "down"
		if s, _ := sm["status"].(string); s == "active" {
			st = "up"
		}
		items = append(items, UptimeEntry{Name: name, Type: "service", Status: st})
	}
	for _, il := range integrationLabels {
		v, ok := snap[il.key]
		if !ok || v == nil {
			continue
		}
		up := truthy(v)
		if m, isMap := v.(map[string]any); isMap {
			// Spec 20 §15 counts "online" as up; Pi-hole and AdGuard blocks
			// report their blocking switch ("enabled"/"disabled", spec 10
			// §4.2) while reachable, so those count as up too.
			s, _ := m["status"].(string)
			up = s == "online" || s == "enabled" || s == "disabled" || s == "ok"
		}
		items = append(items, UptimeEntry{Name: il.label, Type: "integration", Status: upDown(up)})
	}
	radar, _ := snap["radar"].([]any)
	for _, h := range radar {
		hm, _ := h.(map[string]any)
		ip, _ := hm["ip"].(string)
		if ip == "" {
			continue
		}
		s, _ := hm["status"].(string)
		it := UptimeEntry{Name: ip, Type: "host", Status: upDown(s == "Up")}
		if ms, ok := num(hm["ms"]); ok {
			it.MS = &ms
		}
		items = append(items, it)
	}
	for _, m := range monitors {
		if !m.Enabled || m.LastStatus == nil || *m.LastStatus == StatusSkipped {
			continue
		}
		it := UptimeEntry{Name: m.Name, Type: "endpoint", Status: *m.LastStatus, UptimePercent: m.UptimePercent}
		if m.LastResponseMS != nil {
			ms := float64(*m.LastResponseMS)
			it.MS = &ms
		}
		items = append(items, it)
	}
	return items
}

func upDown(up bool) string {
	if up {
		return "up"
	}
	return "down"
}

type uptimeOut struct {
	Body struct {
		Items   []UptimeEntry `json:"items"`
		Percent float64       `json:"percent"`
	}
}

func (r *Room) uptime(ctx context.Context, _ *struct{}) (*uptimeOut, error) {
	ms, err := r.monitorsWithStats(ctx)
	if err != nil {
		return nil, err
	}
	snap := r.latest()
	out := &uptimeOut{}
	out.Body.Items = uptimeItems(snap, ms)
	up := 0
	for _, it := range out.Body.Items {
		if it.Status == "up" {
			up++
		}
	}
	if n := len(out.Body.Items); n > 0 {
		out.Body.Percent = round(float64(up)/float64(n)*100, 1)
	}
	return out, nil
}

// Category is one health-score category.
type HealthCategory struct {
	Score           *float64 `json:"score"`
	Max             int      `json:"max"`
	Status          string   `json:"status"`
	Detail          string   `json:"detail"`
	Recommendations []string `json:"recommendations"`
	// Reason says in one sentence why the category scores what it does
	// (or why it is not scored and what would score it): the UI's tooltip.
	Reason string `json:"reason"`
}

// HealthScore is the body of /api/health-score.
type HealthScore struct {
	Score             *int                      `json:"score"`
	TotalRaw          float64                   `json:"total_raw"`
	MaxRaw            int                       `json:"max_raw"`
	ScoredCategories  int                       `json:"scored_categories"`
	UnknownCategories int                       `json:"unknown_categories"`
	Grade             string                    `json:"grade"`
	Categories        map[string]HealthCategory `json:"categories"`
	Timestamp         int64                     `json:"timestamp"`
	// Reason says which categories the score is computed from.
	Reason string `json:"reason"`
}

func unknown(detail, how string) HealthCategory {
	return HealthCategory{Max: 10, Status: "unknown", Detail: detail, Recommendations: []string{},
		Reason: "Not scored: " + lowerFirst(detail) + ". " + how}
}

func lowerFirst(s string) string {
	if s == "" || (len(s) > 1 && s[1] >= 'A' && s[1] <= 'Z') {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func scored(score float64, detail string, recs []string) HealthCategory {
	score = round(math.Max(0, math.Min(10, score)), 1)
	st := "critical"
	switch {
	case score >= 8:
		st = "ok"
	case score >= 5:
		st = "warning"
	}
	if len(recs) > 5 {
		recs = recs[:5]
	}
	if recs == nil {
		recs = []string{}
	}
	reason := fmt.Sprintf("%s/10: %s", fmtNum(score), detail)
	if len(recs) > 0 {
		reason += " -- " + strings.Join(recs, "; ")
	}
	return HealthCategory{Score: &score, Max: 10, Status: st, Detail: detail, Recommendations: recs, Reason: reason}
}

// healthInputs are what the score is computed from.
type healthInputs struct {
	// snap is the payload, normalized, for its free-form parts (agents,
	// Uptime Kuma, services); typed holds the collector's metrics.
	snap       map[string]any
	typed      *events.Snapshot
	monitors   []EndpointMonitor
	sla        map[string]float64
	lastBackup *time.Time
	now        time.Time
}

// normalized returns snap as JSON would decode it ([]any and map[string]any
// all the way down), whatever typed slices the stats room built it from, so
// the type switches below see one shape.
func normalized(snap map[string]any) map[string]any {
	if snap == nil {
		return nil
	}
	b, err := json.Marshal(snap)
	if err != nil {
		return snap
	}
	var out map[string]any
	if json.Unmarshal(b, &out) != nil {
		return snap
	}
	return out
}

func agentsOf(snap map[string]any) []map[string]any {
	list, _ := snap["agents"].([]any)
	out := make([]map[string]any, 0, len(list))
	for _, a := range list {
		if m, ok := a.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// computeHealth implements spec 20 §15.2.
func computeHealth(in healthInputs) HealthScore {
	cats := map[string]HealthCategory{}

	agents := agentsOf(in.snap)
	if len(agents) == 0 {
		cats["monitoring_coverage"] = unknown("No agents enrolled", "Enrol an agent (Agents › Deploy) to score it.")
	} else {
		on := 0
		for _, a := range agents {
			if b, _ := a["online"].(bool); b {
				on++
			}
		}
		var recs []string
		if off := len(agents) - on; off > 0 {
			recs = append(recs, fmt.Sprintf("%d agent(s) offline -- check connectivity", off))
		}
		cats["monitoring_coverage"] = scored(10*float64(on)/float64(len(agents)), fmt.Sprintf("%d/%d agents online", on, len(agents)), recs)
	}

	var certScores []float64
	var certRecs []string
	for _, m := range in.monitors {
		if !m.Enabled || m.CertExpiryDays == nil {
			continue
		}
		d := *m.CertExpiryDays
		s := 10.0
		switch {
		case d <= 0:
			s = 0
			certRecs = append(certRecs, fmt.Sprintf("Certificate for %s has expired -- renew it", m.Name))
		case d <= 7:
			s = 2
		case d <= 14:
			s = 5
		case d <= 30:
			s = 7
		}
		if d > 0 && d <= 14 {
			certRecs = append(certRecs, fmt.Sprintf("Certificate for %s expires in %d day(s) -- renew it", m.Name, d))
		}
		certScores = append(certScores, s)
	}
	if len(certScores) == 0 {
		cats["certificate_health"] = unknown("No TLS certificates monitored", "Add an HTTPS endpoint monitor to score it.")
	} else {
		cats["certificate_health"] = scored(mean(certScores), fmt.Sprintf("%d certificate(s) monitored", len(certScores)), certRecs)
	}

	reporting, withUpdates := 0, 0
	for _, a := range agents {
		n, ok := num(a["package_updates"])
		if !ok {
			n, ok = num(a["pending_updates"])
		}
		if !ok {
			continue
		}
		reporting++
		if n > 0 {
			withUpdates++
		}
	}
	if reporting == 0 {
		cats["update_status"] = unknown("No agents report pending updates", "Scored once an agent reports its package updates.")
	} else {
		var recs []string
		if withUpdates > 0 {
			recs = append(recs, fmt.Sprintf("%d host(s) have pending package updates", withUpdates))
		}
		cats["update_status"] = scored(10*(1-float64(withUpdates)/float64(reporting)),
			fmt.Sprintf("%d/%d hosts up to date", reporting-withUpdates, reporting), recs)
	}

	if len(in.sla) == 0 {
		// Without alert-rule SLA history, score what is monitored now:
		// services, integrations, radar hosts and endpoint monitors.
		items := uptimeItems(in.snap, in.monitors)
		up := 0
		var recs []string
		for _, it := range items {
			if it.Status == "up" {
				up++
			} else {
				recs = append(recs, fmt.Sprintf("%s %s is down", it.Type, it.Name))
			}
		}
		if len(items) == 0 {
			cats["uptime"] = unknown("No SLA data and nothing monitored", "Add endpoint monitors or monitored services to score it.")
		} else {
			cats["uptime"] = scored(10*float64(up)/float64(len(items)), fmt.Sprintf("%d/%d monitored services up now", up, len(items)), recs)
		}
	} else {
		ids := make([]string, 0, len(in.sla))
		for id := range in.sla {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		var vals []float64
		var recs []string
		for _, id := range ids {
			v := in.sla[id]
			vals = append(vals, v)
			if v < 99 {
				recs = append(recs, fmt.Sprintf("%s: %.2f%% SLA over 30 days", id, v))
			}
		}
		avg := mean(vals)
		cats["uptime"] = scored((avg-95)*2, fmt.Sprintf("Average SLA %.2f%% over %d rule(s)", avg, len(vals)), recs)
	}

	cpu, mem := math.NaN(), math.NaN()
	if in.typed != nil {
		cpu, mem = in.typed.CPUPercent, in.typed.MemPercent
	}
	hasCPU, hasMem := !math.IsNaN(cpu), !math.IsNaN(mem)
	cpu, mem = zeroNaN(cpu), zeroNaN(mem)
	if !hasCPU && !hasMem {
		cats["capacity"] = unknown("No stats", "Scored once the first stats snapshot arrives.")
	} else {
		ded := 0.0
		var recs []string
		for _, x := range []struct {
			label string
			v     float64
		}{{"CPU", cpu}, {"RAM", mem}} {
			switch {
			case x.v > 90:
				ded += 4
				recs = append(recs, fmt.Sprintf("%s at %.0f%% -- investigate load", x.label, x.v))
			case x.v > 85:
				ded += 2
				recs = append(recs, fmt.Sprintf("%s at %.0f%%", x.label, x.v))
			}
		}
		for _, d := range in.typed.Disks {
			p, mount := d.Percent, d.Mount
			switch {
			case p >= 95:
				ded += 3
				recs = append(recs, fmt.Sprintf("Disk %s at %.0f%% -- free space now", mount, p))
			case p >= 85:
				ded += 1.5
				recs = append(recs, fmt.Sprintf("Disk %s at %.0f%%", mount, p))
			}
		}
		cats["capacity"] = scored(10-ded, fmt.Sprintf("CPU %s%%, RAM %s%%", fmtNum(cpu), fmtNum(mem)), recs)
	}

	if in.lastBackup == nil {
		cats["backup_freshness"] = unknown("No backup runs", "Scored once a backup job has run.")
	} else {
		age := in.now.Sub(*in.lastBackup).Hours()
		s := 1.0
		switch {
		case age <= 24:
			s = 10
		case age <= 48:
			s = 7
		case age <= 168:
			s = 4
		}
		var recs []string
		if age > 48 {
			recs = append(recs, "Last successful backup is older than 48 hours -- check backup jobs")
		}
		cats["backup_freshness"] = scored(s, fmt.Sprintf("Last backup %.0f hour(s) ago", age), recs)
	}

	hs := HealthScore{Categories: cats, Timestamp: in.now.Unix()}
	total := 0.0
	for _, c := range cats {
		if c.Score == nil {
			hs.UnknownCategories++
			continue
		}
		hs.ScoredCategories++
		total += *c.Score
	}
	hs.TotalRaw = round(total, 1)
	hs.MaxRaw = 10 * hs.ScoredCategories
	var on, off []string
	for _, k := range slices.Sorted(maps.Keys(cats)) {
		if cats[k].Score == nil {
			off = append(off, strings.ReplaceAll(k, "_", " "))
		} else {
			on = append(on, strings.ReplaceAll(k, "_", " "))
		}
	}
	// A score needs two categories the server can judge; categories it
	// cannot judge (nothing of that kind exists yet) are left out rather
	// than counted as failures, and the reason names them.
	if hs.ScoredCategories < 2 {
		hs.Grade = "N/A"
		hs.Reason = fmt.Sprintf("Not enough data: %d of %d categories can be scored", hs.ScoredCategories, len(cats))
		return hs
	}
	hs.Reason = fmt.Sprintf("Scored from %d of %d categories (%s)", len(on), len(cats), strings.Join(on, ", "))
	if len(off) > 0 {
		hs.Reason += "; not scored: " + strings.Join(off, ", ")
	}
	n := int(math.Round(total / float64(hs.MaxRaw) * 100))
	hs.Score = &n
	switch {
	case n >= 90:
		hs.Grade = "A"
	case n >= 75:
		hs.Grade = "B"
	case n >= 60:
		hs.Grade = "C"
	case n >= 40:
		hs.Grade = "D"
	default:
		hs.Grade = "F"
	}
	return hs
}

// zeroNaN is v, or 0 for an unmeasured (NaN) value.
func zeroNaN(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func fmtNum(v float64) string {
	if v == math.Trunc(v) {
		return fmt.Sprintf("%.0f", v)
	}
	return fmt.Sprintf("%.1f", v)
}

func mean(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := 0.0
	for _, x := range v {
		s += x
	}
	return s / float64(len(v))
}

type healthOut struct{ Body HealthScore }

func (r *Room) healthScore(ctx context.Context, _ *struct{}) (*healthOut, error) {
	hs, err := r.Score(ctx)
	if err != nil {
		return nil, err
	}
	return &healthOut{Body: hs}, nil
}

// Score computes the health score now (spec 20 §15.2) and keeps it for
// LastHealthScore.
func (r *Room) Score(ctx context.Context) (HealthScore, error) {
	ms, err := r.d.Store.ListMonitors(ctx)
	if err != nil {
		return HealthScore{}, err
	}
	in := healthInputs{snap: normalized(r.latest()), typed: r.snapshot(), monitors: ms, now: r.d.Now()}
	if in.snap == nil {
		in.snap = map[string]any{}
	}
	if r.d.SLA != nil {
		sla, err := r.d.SLA.RecentSLA(ctx, 20, 720)
		if err != nil {
			r.d.Log.Warn("health score: SLA unavailable", "err", err)
		} else {
			in.sla = sla
		}
	}
	if r.d.Backups != nil {
		at, ok, err := r.d.Backups.LastBackup(ctx)
		if err != nil {
			r.d.Log.Warn("health score: backup runs unavailable", "err", err)
		} else if ok {
			in.lastBackup = &at
		}
	}
	hs := computeHealth(in)
	if b, err := json.Marshal(hs); err == nil {
		var m map[string]any
		if json.Unmarshal(b, &m) == nil {
			r.scoreMu.Lock()
			r.lastScore = m
			r.scoreMu.Unlock()
		}
	}
	return hs, nil
}
