package reports

import (
	"context"
	"testing"
	"time"
)

type fakeHistory map[string][]Point

func (f fakeHistory) Series(_ context.Context, metric string, _ float64, _ int64, bands bool) ([]Point, error) {
	pts := f[metric]
	if !bands {
		out := make([]Point, len(pts))
		for i, p := range pts {
			out[i] = Point{Time: p.Time, Value: p.Value}
		}
		return out, nil
	}
	return pts, nil
}

func TestReportArithmetic(t *testing.T) {
	h := fakeHistory{
		"net_rx_bytes": {{Time: 3600, Value: 1000}, {Time: 7200, Value: 3000.4}},
		"net_tx_bytes": {{Time: 3600, Value: 10}},
		"cpu_percent":  {{Time: 1, Value: 5}, {Time: 2, Value: 95, Anomaly: true, UpperBand: 50, LowerBand: 1}, {Time: 3, Value: 6}},
		"mem_percent":  {{Time: 1, Value: 40}, {Time: 2, Value: 60}},
	}
	r := New(Deps{History: h, Now: func() time.Time { return time.Unix(1000, 0) }})
	ctx := context.Background()
	bw, err := r.bandwidth(ctx, &rangeIn{Range: "48"})
	if err != nil {
		t.Fatal(err)
	}
	b := bw.Body.(map[string]any)
	if b["range_hours"] != 48 || b["total_rx_bytes"] != int64(14401440) || b["total_tx_bytes"] != int64(36000) || b["total_rx"] != "13.7MB" {
		t.Fatalf("bandwidth: %v", b)
	}
	if hourly := b["hourly"].([]map[string]any); len(hourly) != 1 || hourly[0]["rx_bps"] != float64(1000) {
		t.Fatalf("hourly zipped by position: %v", hourly)
	}
	if x, err := r.bandwidth(ctx, &rangeIn{Range: "0"}); err != nil || x.Body.(map[string]any)["range_hours"] != 1 {
		t.Fatalf("range 0 not clamped to 1: %v", err)
	}
	if _, err := r.bandwidth(ctx, &rangeIn{Range: "abc"}); err == nil {
		t.Fatal("range abc accepted")
	}
	an, _ := r.anomalies(ctx, &rangeIn{})
	a := an.Body.(map[string]any)
	if a["anomaly_count"] != 1 || a["range_hours"] != 168 {
		t.Fatalf("anomalies: %v", a)
	}
	cpu := a["metrics"].(map[string]any)["cpu_percent"].(map[string]any)
	if cpu["count"] != 1 || cpu["latest"].(map[string]any)["upper_band"] != float64(50) {
		t.Fatalf("cpu anomalies: %v", cpu)
	}
	in := &reportCustomIn{}
	in.Body.Metrics = []string{"mem_percent", "nothing_here"}
	cu, err := r.custom(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	c := cu.Body.(map[string]any)
	mem := c["metrics"].(map[string]any)["mem_percent"].(map[string]any)
	if c["title"] != "Custom Report" || mem["avg"] != float64(50) || mem["max"] != float64(60) || mem["current"] != float64(60) || mem["points"] != 2 {
		t.Fatalf("custom: %v", c)
	}
	if _, ok := c["metrics"].(map[string]any)["nothing_here"]; ok {
		t.Fatal("a metric without data is reported")
	}
	in.Body.Metrics = []string{"bad name;"}
	if _, err := r.custom(ctx, in); err == nil {
		t.Fatal("bad metric name accepted")
	}
}

func TestStripANSI(t *testing.T) {
	if got := stripANSI("\x1b[31mred\x1b[0m \x1b]plain \x1bZok"); got != "red plain ok" {
		t.Fatalf("%q", got)
	}
}
