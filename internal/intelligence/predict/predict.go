// Package predict forecasts capacity metrics (spec 30 §4.5): a least-squares
// trend, a seasonal component found by autocorrelation of the residuals
// (24 h or 168 h) and estimated as a per-phase profile, projections with
// 68 % and 95 % prediction intervals, and the time a metric crosses a
// threshold.
package predict

import (
	"errors"
	"math"
	"sort"
)

// Point is one sample: Unix seconds and value.
type Point struct {
	T int64
	V float64
}

// Regression is the fitted trend v = Slope·t + Intercept (t in Unix
// seconds).
type Regression struct {
	Slope     float64 `json:"slope"`
	Intercept float64 `json:"intercept"`
	RSquared  float64 `json:"r_squared"`
}

// Seasonal describes the seasonal component.
type Seasonal struct {
	PeriodHours int     `json:"period_hours"`
	Correlation float64 `json:"correlation"`
	Amplitude   float64 `json:"amplitude"`
	// profile holds the mean residual of each phase slot of the period.
	profile []float64
	step    int64
}

// at returns the seasonal offset at time t.
func (s *Seasonal) at(t int64) float64 {
	if s == nil || len(s.profile) == 0 {
		return 0
	}
	period := int64(s.PeriodHours) * 3600
	ph := ((t % period) + period) % period
	return s.profile[int(ph/s.step)%len(s.profile)]
}

// ProjPoint is one projected hour.
type ProjPoint struct {
	Time      int64   `json:"time"`
	Predicted float64 `json:"predicted"`
	Lower68   float64 `json:"lower_68"`
	Upper68   float64 `json:"upper_68"`
	Lower95   float64 `json:"lower_95"`
	Upper95   float64 `json:"upper_95"`
}

// Result is the analysis of one metric.
type Result struct {
	Regression  Regression  `json:"regression"`
	Seasonal    *Seasonal   `json:"seasonal"`
	Projection  []ProjPoint `json:"projection"`
	ResidualStd float64     `json:"residual_std"`
	// model state for crossings (reg unrounded: rounding the slope to
	// 1e-10 per second would move projections by ~0.1)
	reg       Regression
	n         int
	meanX     float64
	sxx       float64
	remainStd float64
	lastX     int64
}

// MinPoints is the fewest buckets a metric needs.
const MinPoints = 10

// ErrInsufficient is returned for fewer than MinPoints buckets.
var ErrInsufficient = errors.New("Insufficient data") //nolint:staticcheck // the user-facing message of the spec

// Bucket averages points into slots of size seconds (slot = floor(t/size)·size),
// ascending.
func Bucket(pts []Point, size int64) []Point {
	sum := map[int64]float64{}
	cnt := map[int64]int{}
	for _, p := range pts {
		if math.IsNaN(p.V) || math.IsInf(p.V, 0) {
			continue
		}
		s := floorDiv(p.T, size) * size
		sum[s] += p.V
		cnt[s]++
	}
	out := make([]Point, 0, len(sum))
	for s, v := range sum {
		out = append(out, Point{T: s, V: v / float64(cnt[s])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].T < out[j].T })
	return out
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

// Analyze fits pts (ascending, evenly spaced buckets) and projects
// projectionHours hourly points after the last one.
func Analyze(pts []Point, projectionHours int) (Result, error) {
	n := len(pts)
	if n < MinPoints {
		return Result{}, ErrInsufficient
	}
	ys := make([]float64, n)
	for i, p := range pts {
		ys[i] = p.V
	}
	// 1. Trend on the raw values (x centred on its mean, for precision).
	reg, meanX, sxx := ols(pts, ys)
	resid := residuals(pts, ys, reg)
	res := Result{Regression: reg, ResidualStd: sampleStd(resid), n: n, meanX: meanX, sxx: sxx, lastX: pts[n-1].T}

	// 2. Seasonality on the residuals; when found, the trend is refitted on
	// the deseasonalised values and the profile re-estimated (one round of
	// classical decomposition), so a partial last period does not bend the
	// trend.
	if s := seasonal(pts, resid); s != nil {
		for range 2 {
			adj := make([]float64, n)
			for i, p := range pts {
				adj[i] = ys[i] - s.at(p.T)
			}
			reg, meanX, sxx = ols(pts, adj)
			s.profile = profile(pts, residuals(pts, ys, reg), s.PeriodHours, s.step)
		}
		res.Regression, res.meanX, res.sxx, res.Seasonal = reg, meanX, sxx, s
		// R² of the whole model (trend and season): how much of the
		// metric's variance the forecast explains.
		res.Regression.RSquared = rSquared(ys, func(i int) float64 { return reg.Slope*float64(pts[i].T) + reg.Intercept + s.at(pts[i].T) })
		res.ResidualStd = sampleStd(residuals(pts, ys, reg))
		rem := make([]float64, n)
		for i, p := range pts {
			rem[i] = ys[i] - (reg.Slope*float64(p.T) + reg.Intercept + s.at(p.T))
		}
		res.remainStd = sampleStd(rem)
	} else {
		res.remainStd = res.ResidualStd
	}

	// 3. Projection with prediction intervals.
	res.reg = res.Regression
	res.Projection = make([]ProjPoint, 0, projectionHours)
	for i := 1; i <= projectionHours; i++ {
		t := res.lastX + int64(3600*i)
		p := res.At(t)
		se := res.se(t)
		res.Projection = append(res.Projection, ProjPoint{Time: t, Predicted: round(p, 2),
			Lower68: round(p-se, 2), Upper68: round(p+se, 2), Lower95: round(p-1.96*se, 2), Upper95: round(p+1.96*se, 2)})
	}
	res.Regression = Regression{Slope: round(res.Regression.Slope, 10), Intercept: round(res.Regression.Intercept, 4), RSquared: round(res.Regression.RSquared, 4)}
	res.ResidualStd = round(res.ResidualStd, 4)
	if res.Seasonal != nil {
		res.Seasonal.Correlation = round(res.Seasonal.Correlation, 4)
		res.Seasonal.Amplitude = round(res.Seasonal.Amplitude, 2)
	}
	return res, nil
}

// At is the model's value (trend plus season) at t.
func (r Result) At(t int64) float64 {
	return r.reg.Slope*float64(t) + r.reg.Intercept + r.Seasonal.at(t)
}

// se is the standard error of a new observation at t: s·√(1 + 1/n + (t − x̄)²/Sxx),
// s the standard deviation of what the model leaves unexplained.
func (r Result) se(t int64) float64 {
	if r.n == 0 {
		return 0
	}
	d := float64(t) - r.meanX
	return r.remainStd * math.Sqrt(1+1/float64(r.n)+d*d/r.sxx)
}

// Band selects the curve a crossing is read from.
type Band int

// The curves: the prediction itself, and the upper edges of the 68 % and
// 95 % intervals (the earliest plausible crossing).
const (
	Predicted Band = iota
	Upper68
	Upper95
)

// Crossing returns the first time after the last sample, within horizon
// seconds, at which the band reaches threshold (searched at 5-minute
// steps and refined by bisection to the second); ok is false when it does
// not within the horizon.
func (r Result) Crossing(threshold float64, horizon int64, b Band) (int64, bool) {
	f := func(t int64) float64 {
		v := r.At(t)
		switch b {
		case Upper68:
			v += r.se(t)
		case Upper95:
			v += 1.96 * r.se(t)
		}
		return v
	}
	const step = 300
	prev := r.lastX
	if f(prev) >= threshold {
		return prev, true
	}
	for t := r.lastX + step; t <= r.lastX+horizon; t += step {
		if f(t) >= threshold {
			lo, hi := prev, t
			for hi-lo > 1 {
				mid := lo + (hi-lo)/2
				if f(mid) >= threshold {
					hi = mid
				} else {
					lo = mid
				}
			}
			return hi, true
		}
		prev = t
	}
	return 0, false
}

// FullAt is when the trend alone reaches threshold ((threshold −
// intercept)/slope), for a rising trend; ok is false otherwise.
func (r Result) FullAt(threshold float64) (float64, bool) {
	if r.reg.Slope <= 0 {
		return 0, false
	}
	return (threshold - r.reg.Intercept) / r.reg.Slope, true
}

func ols(pts []Point, ys []float64) (Regression, float64, float64) {
	n := len(pts)
	if n < 2 {
		return Regression{}, 0, 1
	}
	var mx, my float64
	for i, p := range pts {
		mx += float64(p.T)
		my += ys[i]
	}
	mx /= float64(n)
	my /= float64(n)
	var sxx, sxy float64
	for i, p := range pts {
		dx := float64(p.T) - mx
		sxx += dx * dx
		sxy += dx * (ys[i] - my)
	}
	if sxx == 0 {
		return Regression{Intercept: my}, mx, 1
	}
	slope := sxy / sxx
	reg := Regression{Slope: slope, Intercept: my - slope*mx}
	reg.RSquared = rSquared(ys, func(i int) float64 { return slope*(float64(pts[i].T)-mx) + my })
	return reg, mx, sxx
}

func rSquared(ys []float64, fit func(i int) float64) float64 {
	var my float64
	for _, y := range ys {
		my += y
	}
	my /= float64(len(ys))
	var ssTot, ssRes float64
	for i, y := range ys {
		ssTot += (y - my) * (y - my)
		d := y - fit(i)
		ssRes += d * d
	}
	if ssTot == 0 {
		return 0
	}
	return 1 - ssRes/ssTot
}

func residuals(pts []Point, ys []float64, reg Regression) []float64 {
	out := make([]float64, len(pts))
	for i, p := range pts {
		out[i] = ys[i] - (reg.Slope*float64(p.T) + reg.Intercept)
	}
	return out
}

func sampleStd(r []float64) float64 {
	n := len(r)
	if n < 2 {
		return 0
	}
	var m float64
	for _, v := range r {
		m += v
	}
	m /= float64(n)
	var ss float64
	for _, v := range r {
		ss += (v - m) * (v - m)
	}
	return math.Sqrt(ss / float64(n-1))
}

// seasonal looks for a daily or weekly period in the residuals: it needs
// 48 points, variance ≥ 0.01 and an autocorrelation above 0.3 at the lag.
func seasonal(pts []Point, r []float64) *Seasonal {
	n := len(r)
	if n < 48 {
		return nil
	}
	sd := sampleStd(r)
	if sd*sd < 0.01 {
		return nil
	}
	step := pts[1].T - pts[0].T
	if step <= 0 {
		return nil
	}
	var mean float64
	for _, v := range r {
		mean += v
	}
	mean /= float64(n)
	var den float64
	for _, v := range r {
		den += (v - mean) * (v - mean)
	}
	var best *Seasonal
	for _, period := range []int{24, 168} {
		lag := int(int64(period*3600) / step)
		if lag < 2 || lag >= n-1 {
			continue
		}
		var num float64
		for i := 0; i < n-lag; i++ {
			num += (r[i] - mean) * (r[i+lag] - mean)
		}
		// Normalised by the number of pairs (the spec's Σ/Σ shrinks long
		// lags by (n−lag)/n and so never finds a weekly season in a few
		// weeks of data). A weekly period must beat the daily one clearly:
		// a daily season correlates at 168 h as well as at 24 h.
		corr := (num / float64(n-lag)) / (den / float64(n))
		if corr > 0.3 && (best == nil || corr > best.Correlation+0.1) {
			best = &Seasonal{PeriodHours: period, Correlation: corr, Amplitude: amplitude(r, lag), step: step}
		}
	}
	if best != nil {
		best.profile = profile(pts, r, best.PeriodHours, step)
	}
	return best
}

// amplitude is half the mean (max − min) over whole chunks of lag points.
func amplitude(r []float64, lag int) float64 {
	var sum float64
	var k int
	for s := 0; s+lag <= len(r); s += lag {
		lo, hi := r[s], r[s]
		for _, v := range r[s : s+lag] {
			lo, hi = min(lo, v), max(hi, v)
		}
		sum += hi - lo
		k++
	}
	if k == 0 {
		return 0
	}
	return sum / float64(k) / 2
}

// profile is the mean residual at each phase slot of the period (phase
// measured in absolute time, so the projection continues it), centred on
// zero. Slots no sample fell in take their neighbours' values.
func profile(pts []Point, r []float64, periodHours int, step int64) []float64 {
	period := int64(periodHours) * 3600
	slots := int(period / step)
	sum := make([]float64, slots)
	cnt := make([]int, slots)
	for i, p := range pts {
		ph := ((p.T % period) + period) % period
		k := int(ph/step) % slots
		sum[k] += r[i]
		cnt[k]++
	}
	out := make([]float64, slots)
	var mean float64
	var filled int
	for k := range out {
		if cnt[k] > 0 {
			out[k] = sum[k] / float64(cnt[k])
			mean += out[k]
			filled++
		}
	}
	if filled == 0 {
		return nil
	}
	mean /= float64(filled)
	for k := range out {
		if cnt[k] > 0 {
			out[k] -= mean
		}
	}
	// fill gaps from the nearest filled slot before (cyclically), then
	// smooth over about 1 % of the period so that noise of single slots is not projected
	defer func() { smooth(out, max(2, slots/100)) }()
	for k := range out {
		if cnt[k] == 0 {
			for d := 1; d < slots; d++ {
				j := ((k-d)%slots + slots) % slots
				if cnt[j] > 0 {
					out[k] = out[j]
					break
				}
			}
		}
	}
	return out
}

func round(v float64, dp int) float64 {
	p := math.Pow(10, float64(dp))
	return math.Round(v*p) / p
}

// smooth replaces each value by the circular mean of its 2w+1 neighbours.
func smooth(v []float64, w int) {
	n := len(v)
	if n < 2*w+1 {
		return
	}
	src := append([]float64(nil), v...)
	for i := range v {
		var s float64
		for d := -w; d <= w; d++ {
			s += src[((i+d)%n+n)%n]
		}
		v[i] = s / float64(2*w+1)
	}
}
