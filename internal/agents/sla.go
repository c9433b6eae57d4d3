package agents

import (
	"context"
	"math"
	"sort"

	"github.com/noba-go/noba/internal/httpx"
)

type slaIn struct {
	Hours string `query:"hours"`
}

type slaItem struct {
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	UptimePct float64 `json:"uptime_pct"`
	DowntimeS int64   `json:"downtime_s"`
	Incidents int     `json:"incidents"`
}

type slaOut struct {
	Body struct {
		PeriodHours int       `json:"period_hours"`
		SLA         []slaItem `json:"sla"`
	}
}

// slaSummary serves GET /api/sla/summary (spec 20 §13).
func (r *Room) slaSummary(ctx context.Context, in *slaIn) (*slaOut, error) {
	hours, err := httpx.IntParam("hours", in.Hours, 720, 1, 8760)
	if err != nil {
		return nil, err
	}
	now := r.now().Unix()
	period := int64(hours) * 3600
	down := map[string]int64{}
	count := map[string]int{}
	if r.d.Incidents != nil {
		incs, err := r.d.Incidents.IncidentsSince(ctx, now-period, 1000)
		if err != nil {
			return nil, err
		}
		for _, i := range incs {
			end := i.ResolvedAt
			if end == 0 {
				end = now
			}
			down[i.Source] += max(0, end-i.Timestamp)
			count[i.Source]++
		}
	}
	item := func(name, typ string) slaItem {
		d := down[name]
		pct := math.Round(math.Max(0, float64(period-d)/float64(period)*100)*100) / 100
		return slaItem{Name: name, Type: typ, UptimePct: pct, DowntimeS: d, Incidents: count[name]}
	}
	out := &slaOut{}
	out.Body.PeriodHours = hours
	out.Body.SLA = []slaItem{}
	seen := map[string]bool{}
	for _, s := range r.hub.snapshots() {
		out.Body.SLA = append(out.Body.SLA, item(s.hostname, "agent"))
		seen[s.hostname] = true
	}
	var others []string
	for src := range down {
		if !seen[src] {
			others = append(others, src)
		}
	}
	sort.Strings(others)
	for _, src := range others {
		out.Body.SLA = append(out.Body.SLA, item(src, "service"))
	}
	sort.SliceStable(out.Body.SLA, func(i, j int) bool { return out.Body.SLA[i].UptimePct < out.Body.SLA[j].UptimePct })
	return out, nil
}
