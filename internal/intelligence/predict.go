package intelligence

import (
	"context"
	"math"
	"regexp"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/httpx"
	"github.com/noba-go/noba/internal/intelligence/predict"
)

var metricRE = regexp.MustCompile(`^[A-Za-z0-9_.:{}/-]{1,200}$`)

// maxMetrics bounds the metrics of one prediction.
const maxMetrics = 10

type predictIn struct {
	Metrics    string `query:"metrics" doc:"comma-separated metric keys (default disk_percent)"`
	Range      string `query:"range" doc:"history window in hours (default 168, 1-720)"`
	Projection string `query:"projection" doc:"projection horizon in hours (default 720, 1-2160)"`
	Threshold  string `query:"threshold" doc:"threshold whose crossing is reported (default 100)"`
}

type metricOut struct {
	predict.Result
	Threshold float64 `json:"threshold"`
	// CrossesAt is when the prediction reaches the threshold; CrossesAt95
	// when the upper edge of the 95 % interval does (the earliest
	// plausible time). Unix seconds, null when not within the projection.
	CrossesAt   *int64 `json:"crosses_at"`
	CrossesAt95 *int64 `json:"crosses_at_upper_95"`
}

type predictOut struct {
	Body struct {
		Metrics  map[string]any `json:"metrics"`
		Combined map[string]any `json:"combined"`
	}
}

func (r *Room) predictCapacity(ctx context.Context, in *predictIn) (*predictOut, error) {
	hours, err := httpx.IntParam("range", in.Range, 168, 1, 720)
	if err != nil {
		return nil, err
	}
	proj, err := httpx.IntParam("projection", in.Projection, 720, 1, 2160)
	if err != nil {
		return nil, err
	}
	threshold := 100.0
	if t := strings.TrimSpace(in.Threshold); t != "" {
		v, ok := parseFloat(t)
		if !ok {
			return nil, httpx.Invalid("Invalid threshold parameter")
		}
		threshold = v
	}
	var keys []string
	for _, k := range strings.Split(in.Metrics, ",") {
		if k = strings.TrimSpace(k); k != "" {
			if !metricRE.MatchString(k) {
				return nil, httpx.Invalid("Invalid metric name '%s'", k)
			}
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		keys = []string{"disk_percent"}
	}
	if len(keys) > maxMetrics {
		return nil, httpx.Invalid("At most %d metrics", maxMetrics)
	}
	out := &predictOut{}
	out.Body.Metrics = map[string]any{}
	var best *predict.Result
	bestKey := ""
	for _, k := range keys {
		var pts []predict.Point
		if r.d.Series != nil {
			if pts, err = r.d.Series(ctx, k, float64(hours), 300); err != nil {
				return nil, err
			}
		}
		res, err := predict.Analyze(predict.Bucket(pts, 300), proj)
		if err != nil {
			out.Body.Metrics[k] = map[string]any{"error": "Insufficient data"}
			continue
		}
		m := metricOut{Result: res, Threshold: threshold}
		if t, ok := res.Crossing(threshold, int64(proj)*3600, predict.Predicted); ok {
			m.CrossesAt = &t
		}
		if t, ok := res.Crossing(threshold, int64(proj)*3600, predict.Upper95); ok {
			m.CrossesAt95 = &t
		}
		out.Body.Metrics[k] = m
		if best == nil || res.Regression.RSquared > best.Regression.RSquared {
			best, bestKey = &res, k
		}
	}
	if best == nil {
		out.Body.Combined = map[string]any{"full_at": nil, "primary_metric": nil, "confidence": "low"}
		return out, nil
	}
	var fullAt any
	if t, ok := best.FullAt(threshold); ok && t > float64(r.d.Now().Unix()) {
		fullAt = isoUTC(t)
	}
	conf := "low"
	switch {
	case best.Regression.RSquared > 0.8:
		conf = "high"
	case best.Regression.RSquared > 0.5:
		conf = "medium"
	}
	out.Body.Combined = map[string]any{"full_at": fullAt, "primary_metric": bestKey, "r_squared": best.Regression.RSquared,
		"confidence": conf, "slope_per_day": math.Round(best.Regression.Slope*86400*1e4) / 1e4}
	return out, nil
}

// isoUTC formats Unix seconds as 2026-05-01T12:00:00.123456+00:00.
func isoUTC(t float64) string {
	sec := math.Floor(t)
	return time.Unix(int64(sec), int64((t-sec)*1e9)).UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
}
