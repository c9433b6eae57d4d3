package intelligence

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/noba-go/noba/internal/events"
	"github.com/noba-go/noba/internal/intelligence/predict"
)

// The predictive cycle (spec 30 §6.13): every 15 minutes, capacity
// predictions and metric anomalies of this server become heal events,
// published on the bus (events.HealSignals) for the healing pipeline.

// PredictiveEvery is the period of the predictive cycle.
const PredictiveEvery = 15 * time.Minute

// predictionGroups are the §6.13 groups and their metrics.
var predictionGroups = []struct{ group, metric string }{{"disk", "disk_percent"}, {"memory", "mem_percent"}, {"cpu", "cpu_percent"}}

// anomalyMetrics are the metrics checked for anomalies, with label and unit.
var anomalyMetrics = []struct{ metric, label, unit string }{
	{"cpu_percent", "CPU", "%"}, {"mem_percent", "Memory", "%"}, {"cpu_temp", "CPU Temp", "°C"}}

// PredictiveCycle runs one cycle and publishes its events; it returns
// them (tests). Without a series reader or a bus it does nothing. Stale
// data (no CPU sample in the last two minutes) produces no events.
func (r *Room) PredictiveCycle(ctx context.Context) ([]events.HealSignal, error) {
	if r.d.Series == nil {
		return nil, nil
	}
	now := r.d.Now()
	recent, err := r.d.Series(ctx, "cpu_percent", 6, 60)
	if err != nil {
		return nil, fmt.Errorf("predictive cycle: %w", err)
	}
	if len(recent) == 0 || now.Unix()-recent[len(recent)-1].T > 2*60 {
		r.d.Log.Debug("predictive cycle skipped: stale collector data")
		return nil, nil
	}
	var out []events.HealSignal
	for _, g := range predictionGroups {
		s, ok, err := r.predictionSignal(ctx, g.group, g.metric, now)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, s)
		}
	}
	for _, m := range anomalyMetrics {
		pts := recent
		if m.metric != "cpu_percent" {
			if pts, err = r.d.Series(ctx, m.metric, 6, 60); err != nil {
				return out, fmt.Errorf("predictive cycle: %w", err)
			}
		}
		if s, ok := anomalySignal(m.metric, m.label, m.unit, pts, now); ok {
			out = append(out, s)
		}
	}
	if r.d.Bus != nil {
		for _, s := range out {
			events.Publish(r.d.Bus, events.HealSignals, s)
		}
	}
	return out, nil
}

// predictionSignal is §6.13's prediction event: the metric's history
// (168 h, 5-minute buckets) projected 720 h; full within 24 h is a
// warning, within 72 h info, later nothing.
func (r *Room) predictionSignal(ctx context.Context, group, metric string, now time.Time) (events.HealSignal, bool, error) {
	pts, err := r.d.Series(ctx, metric, 168, 300)
	if err != nil {
		return events.HealSignal{}, false, fmt.Errorf("predictive cycle %s: %w", metric, err)
	}
	res, err := predict.Analyze(predict.Bucket(pts, 300), 720)
	if err != nil {
		return events.HealSignal{}, false, nil
	}
	full, ok := res.FullAt(100)
	if !ok {
		return events.HealSignal{}, false, nil
	}
	hours := (full - float64(now.Unix())) / 3600
	sev := ""
	switch {
	case hours <= 0:
		return events.HealSignal{}, false, nil
	case hours <= 24:
		sev = "warning"
	case hours <= 72:
		sev = "info"
	default:
		return events.HealSignal{}, false, nil
	}
	conf := "low"
	switch {
	case res.Regression.RSquared > 0.8:
		conf = "high"
	case res.Regression.RSquared > 0.5:
		conf = "medium"
	}
	h := math.Round(hours*10) / 10
	return events.HealSignal{Source: "prediction", RuleID: "prediction:" + group, Target: metric, Severity: sev,
		Condition: fmt.Sprintf("%s trending to 100%% in %gh", metric, h), Timestamp: float64(now.Unix()),
		Metrics: map[string]any{"full_at": isoUTC(full), "hours_until": h, "confidence": conf,
			"slope_per_day": math.Round(res.Regression.Slope*86400*1e4) / 1e4}}, true, nil
}

// anomalySignal is §6.13's anomaly event: with at least 10 points, each
// point's band is the mean ± 2.5 σ (population, floor 0.0001) of a centred
// window of max(6, n/3) points; the newest point outside its band is an
// anomaly. Decision: only a point of the last cycle counts, so an old
// spike is not raised again every 15 minutes.
func anomalySignal(metric, label, unit string, pts []predict.Point, now time.Time) (events.HealSignal, bool) {
	n := len(pts)
	if n < 10 {
		return events.HealSignal{}, false
	}
	w := max(6, n/3)
	for i := n - 1; i >= 0; i-- {
		if now.Unix()-pts[i].T > int64(PredictiveEvery/time.Second) {
			break
		}
		lo, hi := max(0, i-w/2), min(n, i-w/2+w)
		var sum float64
		for _, p := range pts[lo:hi] {
			sum += p.V
		}
		mean := sum / float64(hi-lo)
		var ss float64
		for _, p := range pts[lo:hi] {
			ss += (p.V - mean) * (p.V - mean)
		}
		sd := math.Max(math.Sqrt(ss/float64(hi-lo)), 0.0001)
		low, high := mean-2.5*sd, mean+2.5*sd
		v := pts[i].V
		if v >= low && v <= high {
			continue
		}
		dir := "above"
		if v < low {
			dir = "below"
		}
		msg := fmt.Sprintf("Anomaly: %s %.1f%s (%s normal range %.1f–%.1f%s)", label, v, unit, dir, low, high, unit)
		return events.HealSignal{Source: "anomaly", RuleID: "anomaly:" + metric, Target: metric, Condition: msg, Severity: "warning",
			Timestamp: float64(now.Unix()), Metrics: map[string]any{metric: v, "band_low": low, "band_high": high}}, true
	}
	return events.HealSignal{}, false
}
