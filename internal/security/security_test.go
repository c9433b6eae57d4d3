package security

import "testing"

func TestScoreFormula(t *testing.T) {
	f := func(sev ...string) []Finding {
		out := []Finding{}
		for _, s := range sev {
			out = append(out, Finding{Severity: s})
		}
		return out
	}
	for _, tc := range []struct {
		fs   []Finding
		want int
	}{
		{f(), 100},
		{f("high"), 80},
		{f("high", "medium", "low"), 65},
		{f("high", "high", "high", "high"), 40},         // highs capped at 60
		{f("medium", "medium", "medium", "medium"), 70}, // mediums capped at 30
		{f("low", "low", "low", "low", "info"), 85},     // lows (and unknown) capped at 15
		{f("high", "high", "high", "medium", "medium", "medium", "low", "low", "low"), 0}, // 60+30+15 > 100
	} {
		if got := Score(tc.fs); got != tc.want {
			t.Errorf("Score(%v) = %d, want %d", tc.fs, got, tc.want)
		}
	}
	if Aggregate(nil) != nil {
		t.Error("aggregate of no scans is not null")
	}
	// 82.5 rounds half away from zero (the original rounds half to even: 82).
	if got := *Aggregate([]HostScore{{Score: 80}, {Score: 85}}); got != 83 {
		t.Errorf("aggregate = %d, want 83", got)
	}
}
