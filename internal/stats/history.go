package stats

import (
	"context"
	"math"
	"sort"
	"strings"
	"time"
)

// Point is one bucket of a history series.
type Point struct {
	Time  int64   `json:"time"`
	Value float64 `json:"value"`
}

// BandPoint is a point with its anomaly band (spec 10 §6.2).
type BandPoint struct {
	Time      int64   `json:"time"`
	Value     float64 `json:"value"`
	UpperBand float64 `json:"upper_band"`
	LowerBand float64 `json:"lower_band"`
	Anomaly   bool    `json:"anomaly"`
}

// round2 rounds half away from zero to dp decimals.
func roundN(v float64, dp int) float64 {
	p := math.Pow(10, float64(dp))
	return math.Round(v*p) / p
}

// Selector picks series: a metric of one host ("" = this server),
// optionally one label (mount, IP...).
type Selector struct {
	Host, Metric, Label string
}

// resolve maps a selector to series ids, understanding the legacy agent
// names agent_<host>_cpu|mem|disk of the original server.
func (r *History) resolve(sel Selector) []int64 {
	ids := r.store.SeriesIDs(sel.Host, sel.Metric, sel.Label)
	if len(ids) > 0 {
		return ids
	}
	if sel.Host != "" {
		if short, ok := metricAliases[sel.Metric]; ok {
			return r.store.SeriesIDs(sel.Host, short, sel.Label)
		}
		return nil
	}
	if rest, ok := strings.CutPrefix(sel.Metric, "agent_"); ok {
		for _, suf := range []string{"cpu", "mem", "disk"} {
			if h, ok := strings.CutSuffix(rest, "_"+suf); ok && h != "" {
				if ids := r.store.SeriesIDs(h, suf, sel.Label); len(ids) > 0 {
					return ids
				}
				return r.store.SeriesIDs(h, suf+"_percent", sel.Label)
			}
		}
	}
	return nil
}

// tierFor picks the table of a range (spec 10 §6.1): raw up to 1 h,
// 1-minute rollups up to 7 days, hourly beyond.
func tierFor(rangeHours float64) Tier {
	switch {
	case rangeHours <= 1:
		return TierRaw
	case rangeHours <= 168:
		return Tier1m
	}
	return Tier1h
}

// Series returns bucket averages of the selected series over the last
// rangeHours in slots of resolution seconds. Long ranges read the rollup
// tier; the part not rolled up yet is read from the finer tiers, so the
// newest buckets are never missing.
func (r *History) Series(ctx context.Context, sel Selector, rangeHours float64, resolution int64) ([]Point, error) {
	now := r.now().Unix()
	return r.seriesAt(ctx, sel, now-int64(rangeHours*3600), now+1, tierFor(rangeHours), resolution)
}

func (r *History) seriesAt(ctx context.Context, sel Selector, from, to int64, tier Tier, res int64) ([]Point, error) {
	ids := r.resolve(sel)
	if len(ids) == 0 || from >= to {
		return []Point{}, nil
	}
	if res < 1 {
		res = 1
	}
	// Boundaries: tier t covers [from, upto(t)); finer tiers cover the rest.
	bounds := map[Tier]int64{}
	for t := Tier1m; t <= tier; t++ {
		u, err := r.store.RollupState(ctx, t)
		if err != nil {
			return nil, err
		}
		bounds[t] = u
	}
	slots := map[int64]*Slot{}
	start := from
	for t := tier; t >= TierRaw; t-- {
		end := to
		if t != TierRaw {
			end = min(to, bounds[t])
			// a coarser tier never reaches past a finer one's progress
			if t == Tier1h && bounds[Tier1m] > 0 {
				end = min(end, bounds[Tier1m])
			}
		}
		if end <= start {
			continue
		}
		got, err := r.store.Buckets(ctx, t, ids, start, end, res)
		if err != nil {
			return nil, err
		}
		for _, s := range got {
			if x, ok := slots[s.Time]; ok {
				x.Sum += s.Sum
				x.Count += s.Count
			} else {
				c := s
				slots[s.Time] = &c
			}
		}
		start = end
	}
	out := make([]Point, 0, len(slots))
	for _, s := range slots {
		if s.Count > 0 {
			out = append(out, Point{Time: s.Time, Value: roundN(s.Sum/float64(s.Count), 2)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Time < out[j].Time })
	return out, nil
}

// Bands adds the anomaly bands of spec 10 §6.2 (needs at least 4 points;
// fewer come back without bands flagged).
func Bands(pts []Point) []BandPoint {
	out := make([]BandPoint, len(pts))
	n := len(pts)
	for i, p := range pts {
		out[i] = BandPoint{Time: p.Time, Value: p.Value, UpperBand: p.Value, LowerBand: p.Value}
	}
	if n < 4 {
		return out
	}
	w := max(6, n/3)
	for i := range pts {
		lo, hi := max(0, i-w/2), min(n, i+w/2)
		var sum float64
		for _, p := range pts[lo:hi] {
			sum += p.Value
		}
		cnt := float64(hi - lo)
		mean := sum / cnt
		var v float64
		for _, p := range pts[lo:hi] {
			v += (p.Value - mean) * (p.Value - mean)
		}
		std := math.Sqrt(v / cnt)
		if v == 0 {
			std = 0.0001
		}
		up, low := mean+2.5*std, mean-2.5*std
		out[i].UpperBand, out[i].LowerBand = roundN(up, 2), roundN(low, 2)
		out[i].Anomaly = pts[i].Value > up || pts[i].Value < low
	}
	return out
}

// Fit is a least-squares line y = Slope*t + Intercept.
type Fit struct {
	Slope, Intercept, R2 float64
	N                    int
	MeanT, Sxx           float64
	Residuals            []float64
}

// LinearFit fits points by least squares, centring t on its mean so that
// Unix-time magnitudes lose no precision. ok=false when all t are equal.
func LinearFit(pts []Point) (Fit, bool) {
	n := len(pts)
	f := Fit{N: n}
	if n == 0 {
		return f, false
	}
	var st, sy float64
	for _, p := range pts {
		st += float64(p.Time)
		sy += p.Value
	}
	mt, my := st/float64(n), sy/float64(n)
	var sxx, sxy float64
	for _, p := range pts {
		dx := float64(p.Time) - mt
		sxx += dx * dx
		sxy += dx * (p.Value - my)
	}
	f.MeanT, f.Sxx = mt, sxx
	if sxx == 0 {
		return f, false
	}
	f.Slope = sxy / sxx
	f.Intercept = my - f.Slope*mt
	var ssRes, ssTot float64
	f.Residuals = make([]float64, n)
	for i, p := range pts {
		pred := f.Slope*float64(p.Time) + f.Intercept
		f.Residuals[i] = p.Value - pred
		ssRes += f.Residuals[i] * f.Residuals[i]
		ssTot += (p.Value - my) * (p.Value - my)
	}
	if ssTot > 0 {
		f.R2 = 1 - ssRes/ssTot
	}
	return f, true
}

// At is the fitted value at t.
func (f Fit) At(t float64) float64 { return f.Slope*t + f.Intercept }

// isoUTC formats fractional Unix seconds like Python's isoformat with
// +00:00 (microseconds when not whole).
func isoUTC(t float64) string {
	sec := math.Floor(t)
	us := int64(math.Round((t - sec) * 1e6))
	if us >= 1e6 {
		sec, us = sec+1, 0
	}
	tm := time.Unix(int64(sec), us*1000).UTC()
	if us == 0 {
		return tm.Format("2006-01-02T15:04:05") + "+00:00"
	}
	return tm.Format("2006-01-02T15:04:05.000000") + "+00:00"
}

// Trend is spec 10 §6.3 on pts (300 s buckets).
func Trend(pts []Point, projectionHours int) map[string]any {
	if len(pts) < 10 {
		return map[string]any{"error": "Insufficient data"}
	}
	f, ok := LinearFit(pts)
	if !ok {
		return map[string]any{"slope": 0, "trend": []Point{}, "projection": []Point{}}
	}
	trend := make([]Point, len(pts))
	for i, p := range pts {
		trend[i] = Point{Time: p.Time, Value: roundN(f.At(float64(p.Time)), 2)}
	}
	last := pts[len(pts)-1].Time
	steps := projectionHours * 3600 / 300
	proj := make([]Point, 0, steps)
	for k := 1; k <= steps; k++ {
		t := last + int64(k)*300
		proj = append(proj, Point{Time: t, Value: roundN(f.At(float64(t)), 2)})
	}
	var fullAt any
	if f.Slope > 0 {
		if t := (100 - f.Intercept) / f.Slope; t > float64(last) {
			fullAt = isoUTC(t)
		}
	}
	return map[string]any{"slope": roundN(f.Slope, 8), "r_squared": roundN(f.R2, 4), "trend": trend,
		"projection": proj, "full_at": fullAt}
}

// Predict is the disk-capacity analysis of spec 20 §17.6 for one series.
// ok=false when there are fewer than 10 points.
func Predict(pts []Point, now int64) (map[string]any, Fit, bool) {
	if len(pts) < 10 {
		return map[string]any{"error": "Insufficient data"}, Fit{}, false
	}
	f, ok := LinearFit(pts)
	if !ok {
		return map[string]any{"error": "Insufficient data"}, Fit{}, false
	}
	n := len(pts)
	// sample std-dev of residuals
	var mr float64
	for _, x := range f.Residuals {
		mr += x
	}
	mr /= float64(n)
	var vr float64
	for _, x := range f.Residuals {
		vr += (x - mr) * (x - mr)
	}
	s := 0.0
	if n > 1 {
		vr /= float64(n - 1)
		s = math.Sqrt(vr)
	}
	var seasonal any
	period, amp := 0.0, 0.0
	if n >= 48 && vr >= 0.01 {
		step := pts[1].Time - pts[0].Time
		best, bestCorr := 0, 0.3
		if step > 0 {
			for _, ph := range []int{24, 168} {
				lag := int(int64(ph) * 3600 / step)
				if lag <= 0 || lag >= n-1 {
					continue
				}
				var num, den float64
				for i := 0; i < n; i++ {
					d := f.Residuals[i] - mr
					den += d * d
					if i+lag < n {
						num += d * (f.Residuals[i+lag] - mr)
					}
				}
				if den > 0 && num/den > bestCorr {
					best, bestCorr = ph, num/den
				}
			}
			if best > 0 {
				lag := int(int64(best) * 3600 / step)
				var total float64
				var chunks int
				for i := 0; i+lag <= n; i += lag {
					lo, hi := math.Inf(1), math.Inf(-1)
					for _, x := range f.Residuals[i : i+lag] {
						lo, hi = math.Min(lo, x), math.Max(hi, x)
					}
					total += (hi - lo) / 2
					chunks++
				}
				if chunks > 0 {
					amp = total / float64(chunks)
				}
				period = float64(best)
				seasonal = map[string]any{"period_hours": best, "correlation": roundN(bestCorr, 4), "amplitude": roundN(amp, 2)}
			}
		}
	}
	last := pts[n-1].Time
	proj := make([]map[string]any, 0, 720)
	for k := 1; k <= 720; k++ {
		t := float64(last + int64(k)*3600)
		pred := f.At(t)
		if period > 0 {
			pred += amp * math.Sin(2*math.Pi*t/(period*3600))
		}
		se := 0.0
		if f.Sxx > 0 {
			se = s * math.Sqrt(1+1/float64(n)+(t-f.MeanT)*(t-f.MeanT)/f.Sxx)
		}
		proj = append(proj, map[string]any{"time": int64(t), "predicted": roundN(pred, 2),
			"lower_68": roundN(pred-se, 2), "upper_68": roundN(pred+se, 2),
			"lower_95": roundN(pred-1.96*se, 2), "upper_95": roundN(pred+1.96*se, 2)})
	}
	_ = now
	return map[string]any{
		"regression":   map[string]any{"slope": f.Slope, "intercept": f.Intercept, "r_squared": roundN(f.R2, 4)},
		"seasonal":     seasonal,
		"projection":   proj,
		"residual_std": roundN(s, 4),
	}, f, true
}
