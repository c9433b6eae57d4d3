package predict

import (
	"math"
	"math/rand/v2"
	"testing"
)

// synth is a metric with a linear trend, a sinusoidal season and Gaussian
// noise.
type synth struct {
	t0          int64
	base, slope float64 // slope per day
	amp         float64
	period      int64 // seconds
	noise       float64
}

func (s synth) truth(t int64) float64 {
	v := s.base + s.slope*float64(t-s.t0)/86400
	if s.period > 0 {
		v += s.amp * math.Sin(2*math.Pi*float64(t)/float64(s.period))
	}
	return v
}

// series samples every step seconds over days, with seeded noise.
func (s synth) series(days int, step int64, seed uint64) []Point {
	rng := rand.New(rand.NewPCG(seed, 7))
	var out []Point
	for t := s.t0; t < s.t0+int64(days)*86400; t += step {
		out = append(out, Point{T: t, V: s.truth(t) + rng.NormFloat64()*s.noise})
	}
	return out
}

// trueCrossing scans the noiseless function second by second.
func (s synth) trueCrossing(after int64, threshold float64) int64 {
	for t := after; t < after+90*86400; t += 10 {
		if s.truth(t) >= threshold {
			return t
		}
	}
	return -1
}

const tolerance = 3600 // the stated tolerance: one hour

func TestDailySeasonCrossing(t *testing.T) {
	s := synth{t0: 1_767_225_600, base: 40, slope: 3, amp: 8, period: 86400, noise: 1}
	for seed := uint64(1); seed <= 5; seed++ {
		pts := Bucket(s.series(7, 60, seed), 300)
		res, err := Analyze(pts, 720)
		if err != nil {
			t.Fatal(err)
		}
		if res.Seasonal == nil || res.Seasonal.PeriodHours != 24 {
			t.Fatalf("seed %d: seasonal = %+v, want a 24 h period", seed, res.Seasonal)
		}
		if a := res.Seasonal.Amplitude; a < 6 || a > 11 {
			t.Errorf("seed %d: amplitude %.2f, want about 8 (noise widens it)", seed, a)
		}
		if got := res.Regression.Slope * 86400; math.Abs(got-3) > 0.1 {
			t.Errorf("seed %d: slope %.4f/day, want 3±0.1", seed, got)
		}
		last := pts[len(pts)-1].T
		want := s.trueCrossing(last, 90)
		got, ok := res.Crossing(90, 720*3600, Predicted)
		if !ok {
			t.Fatalf("seed %d: no crossing found, want one at %d", seed, want)
		}
		if d := got - want; d < -tolerance || d > tolerance {
			t.Errorf("seed %d: crossing at %d, true %d: off by %.2f h (tolerance 1 h)", seed, got, want, float64(d)/3600)
		}
		// The 95 % upper band crosses no later than the prediction.
		early, ok := res.Crossing(90, 720*3600, Upper95)
		if !ok || early > got {
			t.Errorf("seed %d: upper-95 crossing %d (ok %v) after the predicted %d", seed, early, ok, got)
		}
		// The trend alone reaches 100 where the true trend does, within a few hours.
		full, ok := res.FullAt(100)
		wantFull := float64(s.t0) + (100-40)/3.0*86400
		if !ok || math.Abs(full-wantFull) > 4*3600 {
			t.Errorf("seed %d: full_at %.0f, want %.0f ±4 h", seed, full, wantFull)
		}
	}
}

func TestWeeklySeasonAndIntervals(t *testing.T) {
	s := synth{t0: 1_767_225_600, base: 30, slope: 0.5, amp: 6, period: 7 * 86400, noise: 2}
	all := Bucket(s.series(28, 300, 42), 300)
	train, test := all[:21*288], all[21*288:]
	res, err := Analyze(train, 7*24)
	if err != nil {
		t.Fatal(err)
	}
	if res.Seasonal == nil || res.Seasonal.PeriodHours != 168 {
		t.Fatalf("seasonal = %+v, want the weekly period", res.Seasonal)
	}
	// Coverage of the held-out week by the projected intervals.
	byTime := map[int64]ProjPoint{}
	for _, p := range res.Projection {
		byTime[p.Time] = p
	}
	var in68, in95, n int
	for _, p := range test {
		pp, ok := byTime[p.T]
		if !ok {
			continue
		}
		n++
		if p.V >= pp.Lower68 && p.V <= pp.Upper68 {
			in68++
		}
		if p.V >= pp.Lower95 && p.V <= pp.Upper95 {
			in95++
		}
	}
	if n < 100 {
		t.Fatalf("only %d held-out points on the projection's hours", n)
	}
	c68, c95 := float64(in68)/float64(n), float64(in95)/float64(n)
	if c68 < 0.55 || c68 > 0.82 || c95 < 0.88 || c95 > 0.995 {
		t.Errorf("coverage 68%%: %.2f, 95%%: %.2f of %d held-out points", c68, c95, n)
	}
}

func TestNoSeasonFlatAndShort(t *testing.T) {
	// A pure trend without noise: no season, R² 1, exact crossing.
	s := synth{t0: 1_767_225_600, base: 10, slope: 2}
	pts := Bucket(s.series(3, 300, 1), 300)
	res, err := Analyze(pts, 48)
	if err != nil {
		t.Fatal(err)
	}
	if res.Seasonal != nil || res.Regression.RSquared != 1 || res.ResidualStd != 0 {
		t.Errorf("pure trend: %+v", res)
	}
	last := pts[len(pts)-1].T
	got, ok := res.Crossing(20, 30*86400, Predicted)
	want := s.t0 + 5*86400
	if !ok || got-want > 1 || want-got > 1 {
		t.Errorf("crossing %d, want %d", got, want)
	}
	if len(res.Projection) != 48 || res.Projection[0].Time != last+3600 || res.Projection[0].Lower95 != res.Projection[0].Predicted {
		t.Errorf("projection head %+v", res.Projection[0])
	}
	// A flat metric never crosses and has no full time.
	flat := synth{t0: s.t0, base: 50}
	fres, err := Analyze(Bucket(flat.series(1, 300, 1), 300), 24)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := fres.Crossing(90, 30*86400, Upper95); ok {
		t.Error("flat metric crosses")
	}
	if _, ok := fres.FullAt(100); ok || fres.Regression.RSquared != 0 {
		t.Errorf("flat: %+v", fres.Regression)
	}
	if _, err := Analyze(pts[:9], 24); err != ErrInsufficient {
		t.Errorf("9 points: err %v, want ErrInsufficient", err)
	}
}

func TestBucket(t *testing.T) {
	got := Bucket([]Point{{T: 601, V: 2}, {T: 0, V: 1}, {T: 299, V: 3}, {T: 650, V: 4}, {T: 700, V: math.NaN()}}, 300)
	want := []Point{{0, 2}, {600, 3}}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("Bucket = %v, want %v", got, want)
	}
}
