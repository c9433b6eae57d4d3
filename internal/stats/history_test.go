package stats

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"
)

// seed writes one sample of metric every step seconds over [from, to).
func seed(t testing.TB, h *harness, host, metric, label string, from, to, step int64, val func(ts int64) float64) {
	t.Helper()
	var batch []Sample
	for ts := from; ts < to; ts += step {
		batch = append(batch, Sample{Host: host, Metric: metric, Label: label, TS: ts, Value: val(ts)})
		if len(batch) == 5000 {
			if err := h.store.WriteBatch(context.Background(), batch); err != nil {
				t.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	if err := h.store.WriteBatch(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
}

func TestHistoryBucketsAndTiers(t *testing.T) {
	h := newHarness(t, fixedSource(map[string]any{}), nil)
	now := h.clock.Now().Unix() // 1_750_000_000, a multiple of 100 but not of 60
	// raw every 5 s over the last 30 minutes: value = minute-of-slot parity
	seed(t, h, "", "cpu_percent", "", now-1800, now, 5, func(ts int64) float64 { return float64(ts % 60 / 5) })
	// two mounts of disk_percent are averaged together
	seed(t, h, "", "disk_percent", "/", now-600, now, 5, func(int64) float64 { return 40 })
	seed(t, h, "", "disk_percent", "/home", now-600, now, 5, func(int64) float64 { return 61 })

	code, body, _ := h.get(t, "/api/history/cpu_percent?range=1&resolution=60", "viewer")
	if code != 200 {
		t.Fatalf("status %d %s", code, body)
	}
	var pts []Point
	json.Unmarshal(body, &pts)
	if len(pts) < 30 || len(pts) > 31 {
		t.Fatalf("got %d points, want 30 or 31 one-minute buckets", len(pts))
	}
	for _, p := range pts {
		if p.Time%60 != 0 {
			t.Errorf("bucket %d not aligned to 60", p.Time)
		}
	}
	// a full bucket holds ts%60/5 = 0..11 -> mean 5.5
	if pts[5].Value != 5.5 {
		t.Errorf("bucket value %v, want 5.5", pts[5].Value)
	}
	code, body, _ = h.get(t, "/api/history/disk_percent?range=1&resolution=3600", "viewer")
	if code != 200 || !strings.Contains(string(body), `"value":50.5`) {
		t.Errorf("disk_percent mounts averaged: %d %s, want value 50.5", code, body)
	}
	code, body, _ = h.get(t, "/api/history/disk_percent?range=1&resolution=3600&label=/home", "viewer")
	if code != 200 || !strings.Contains(string(body), `"value":61`) {
		t.Errorf("label filter: %s, want 61", body)
	}

	// Range 24 h reads the 1-minute tier: before the rollup only the raw
	// tail answers; after it the same buckets come from metric_rollup_1m.
	_, before, _ := h.get(t, "/api/history/cpu_percent?range=24&resolution=300", "viewer")
	if err := h.room.Rollup(context.Background()); err != nil {
		t.Fatal(err)
	}
	upto, _ := h.store.RollupState(context.Background(), Tier1m)
	if upto != now/60*60 {
		t.Errorf("1m rollup upto %d, want %d", upto, now/60*60)
	}
	var n int
	h.db.R.QueryRow(`SELECT COUNT(*) FROM metric_rollup_1m`).Scan(&n)
	if n < 40 {
		t.Errorf("rollup rows %d, want one per series-minute", n)
	}
	_, after, _ := h.get(t, "/api/history/cpu_percent?range=24&resolution=300", "viewer")
	var pb, pa []Point
	json.Unmarshal(before, &pb)
	json.Unmarshal(after, &pa)
	if len(pb) != len(pa) || len(pa) < 6 {
		t.Fatalf("24 h view: %d buckets before rollup, %d after", len(pb), len(pa))
	}
	for i := 1; i < len(pa)-1; i++ { // whole buckets agree; partial edges weigh minutes, not samples
		if pa[i] != pb[i] {
			t.Errorf("bucket %d: %v before rollup, %v after", i, pb[i], pa[i])
		}
	}
	// Prove the 1m tier is read: rewrite the raw rows; rolled-up buckets keep their values.
	h.db.W.Exec(`UPDATE metric_samples SET value = 1000`)
	_, after2, _ := h.get(t, "/api/history/cpu_percent?range=24&resolution=300", "viewer")
	var p2 []Point
	json.Unmarshal(after2, &p2)
	if p2[2].Value != 5.5 || p2[len(p2)-1].Value < 500 {
		t.Errorf("after rewriting raw rows: %v; want rolled-up buckets unchanged (5.5) and the raw tail 1000", p2)
	}

	// validation
	for path, want := range map[string]string{
		"/api/history/bogus":                    "Unknown metric",
		"/api/history/cpu_percent?range=abc":    "Invalid range parameter",
		"/api/history/cpu_percent?resolution=x": "Invalid resolution parameter",
		"/api/history/multi":                    "Provide comma-separated metrics",
		"/api/metrics/correlate":                "metrics parameter required (comma-separated)",
		"/api/history/bogus/export":             "Unknown metric",
		"/api/history/bogus/trend":              "Unknown metric",
	} {
		code, body, _ := h.get(t, path, "viewer")
		if code != 400 || !strings.Contains(string(body), want) {
			t.Errorf("%s: %d %s, want 400 %q", path, code, body, want)
		}
	}
	if code, _, _ := h.get(t, "/api/history/cpu_percent", ""); code != 401 {
		t.Errorf("no token: %d, want 401", code)
	}
}

func TestHistoryHourTierLongRange(t *testing.T) {
	h := newHarness(t, fixedSource(map[string]any{}), nil)
	ctx := context.Background()
	now := h.clock.Now().Unix()
	// 30 days of hourly rollups written directly, plus a raw tail.
	hour0 := (now - 30*86400) / 3600 * 3600
	var rows []string
	ids := func() int64 {
		if err := h.store.WriteBatch(ctx, []Sample{{Metric: "mem_percent", TS: now - 10, Value: 10}}); err != nil {
			t.Fatal(err)
		}
		return h.store.SeriesIDs("", "mem_percent", "")[0]
	}()
	for ts := hour0; ts < now/3600*3600; ts += 3600 {
		rows = append(rows, fmt.Sprintf("(%d,%d,%d)", ids, ts, (ts/3600)%24))
	}
	if _, err := h.db.W.Exec(`INSERT INTO metric_rollup_1h (series_id, ts, value) VALUES ` + strings.Join(rows, ",")); err != nil {
		t.Fatal(err)
	}
	h.db.W.Exec(`INSERT INTO metric_rollup_state (tier, upto) VALUES ('1h', ?), ('1m', ?)`, now/3600*3600, now/60*60)
	code, body, _ := h.get(t, "/api/history/mem_percent?range=720&resolution=3600", "viewer")
	if code != 200 {
		t.Fatal(code, string(body))
	}
	var pts []Point
	json.Unmarshal(body, &pts)
	if len(pts) < 719 || len(pts) > 721 {
		t.Fatalf("%d points, want ~720 hourly buckets", len(pts))
	}
	if last := pts[len(pts)-1]; last.Value != 10 {
		t.Errorf("newest bucket %v, want the raw tail's 10", last)
	}

	// export CSV of the same data
	code, body, hdr := h.get(t, "/api/history/mem_percent/export?range=720&resolution=3600", "viewer")
	if code != 200 || hdr.Get("Content-Type") != "text/csv; charset=utf-8" ||
		hdr.Get("Content-Disposition") != `attachment; filename="noba-mem_percent-720h.csv"` {
		t.Fatalf("export: %d %v", code, hdr)
	}
	lines := strings.Split(string(body), "\n")
	if lines[0] != "timestamp_unix,datetime,value" || len(lines) != len(pts)+1 || strings.HasSuffix(string(body), "\n") {
		t.Errorf("export lines %d (want %d), header %q", len(lines), len(pts)+1, lines[0])
	}
}

func TestExportCSVFormat(t *testing.T) {
	got := ExportCSV([]Point{{1717996440, 11.2}, {1717996500, 3}}, time.UTC)
	want := "timestamp_unix,datetime,value\n1717996440,2024-06-10T05:14:00,11.2\n1717996500,2024-06-10T05:15:00,3"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestBands(t *testing.T) {
	pts := []Point{}
	for i := 0; i < 12; i++ {
		pts = append(pts, Point{Time: int64(i * 60), Value: 10})
	}
	pts[11].Value = 50
	b := Bands(pts)
	if b[0].Anomaly || b[0].UpperBand != 10 {
		t.Errorf("flat start: %+v, want band 10±0.0001 and no anomaly", b[0])
	}
	// point 11: window w=6, slice [8,12): 10,10,10,50 -> mean 20, std sqrt(300)=17.32
	if b[11].UpperBand != 63.3 || b[11].LowerBand != -23.3 || b[11].Anomaly {
		t.Errorf("last: %+v, want upper 63.3 lower -23.3 no anomaly", b[11])
	}
	// point 8: slice [5,11): all 10 -> std 0.0001 -> 10 is not outside
	if b[8].Anomaly {
		t.Errorf("point 8 anomalous: %+v", b[8])
	}
	if len(Bands(pts[:3])) != 3 {
		t.Error("fewer than 4 points must come back unchanged")
	}
}

func TestTrend(t *testing.T) {
	if got := Trend(make([]Point, 9), 1); got["error"] != "Insufficient data" {
		t.Errorf("9 points: %v", got)
	}
	base := int64(1_700_000_000)
	var pts []Point
	for i := 0; i < 20; i++ { // y = 50 + 0.001 * (t - base): exact line
		pts = append(pts, Point{Time: base + int64(i)*300, Value: 50 + 0.001*float64(i*300)})
	}
	got := Trend(pts, 1)
	if got["slope"] != 0.001 || got["r_squared"] != 1.0 {
		t.Errorf("slope %v r2 %v, want 0.001 and 1", got["slope"], got["r_squared"])
	}
	proj := got["projection"].([]Point)
	if len(proj) != 12 || proj[0].Time != pts[19].Time+300 || proj[0].Value != 56 {
		t.Errorf("projection %v", proj[:1])
	}
	// full at 100: t = base + 50/0.001 = base + 50000
	if got["full_at"] != "2023-11-15T12:06:40+00:00" {
		t.Errorf("full_at %v", got["full_at"])
	}
	flat := make([]Point, 10)
	for i := range flat {
		flat[i] = Point{Time: 5, Value: float64(i)}
	}
	if got := Trend(flat, 1); got["slope"] != 0 {
		t.Errorf("degenerate x: %v", got)
	}
}

func TestPredictSeasonal(t *testing.T) {
	base := int64(1_700_000_000)
	var pts []Point
	for i := 0; i < 7*288; i++ { // 7 days at 300 s: trend + daily wave
		ts := base + int64(i)*300
		pts = append(pts, Point{Time: ts, Value: 40 + float64(i)*0.001 + 5*math.Sin(2*math.Pi*float64(ts)/86400)})
	}
	res, fit, ok := Predict(pts, base+7*86400)
	if !ok || fit.Slope <= 0 {
		t.Fatalf("predict failed: %v", res)
	}
	s, _ := res["seasonal"].(map[string]any)
	if s == nil || s["period_hours"] != 24 || s["correlation"].(float64) < 0.5 {
		t.Errorf("seasonal %v, want the 24 h period", res["seasonal"])
	}
	if amp := s["amplitude"].(float64); amp < 4.5 || amp > 5.5 {
		t.Errorf("amplitude %v, want ~5", amp)
	}
	if p := res["projection"].([]map[string]any); len(p) != 720 {
		t.Errorf("projection has %d points, want 720 hourly", len(p))
	}
}

func TestRollupMemoryMatchesSQL(t *testing.T) {
	h := newHarness(t, fixedSource(map[string]any{}), nil)
	ctx := context.Background()
	now := h.clock.Now().Unix() / 60 * 60
	for _, host := range []string{"", "web01"} {
		seed(t, h, host, "cpu_percent", "", now-300+7, now, 5, func(ts int64) float64 { return float64(ts%97) / 3 })
	}
	if err := h.store.Rollup(ctx, Tier1m, now-360, now); err != nil {
		t.Fatal(err)
	}
	rows, err := h.db.R.Query(`SELECT r.series_id, r.ts, r.value, (SELECT AVG(value) FROM metric_samples m
		WHERE m.series_id = r.series_id AND m.ts >= r.ts AND m.ts < r.ts + 60) FROM metric_rollup_1m r`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, ts int64
		var got, want float64
		rows.Scan(&id, &ts, &got, &want)
		if math.Abs(got-want) > 1e-9 {
			t.Errorf("series %d minute %d: rollup %v, raw average %v", id, ts, got, want)
		}
		n++
	}
	if n != 10 { // 5 minutes x 2 series
		t.Errorf("%d rollup rows, want 10", n)
	}
}
