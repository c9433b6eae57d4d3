package intelligence_test

import (
	"math"
	"testing"
	"time"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/server/servertest"
)

// seedMetric writes a week of 5-minute samples of metric (this server's
// series) into a fresh database before the server opens it.
func seedMetric(t *testing.T, d *db.DB, metric string, f func(ts int64) float64, from, to int64) {
	t.Helper()
	var sid int64
	if err := d.W.QueryRow(`INSERT INTO metric_series (host, metric, label) VALUES ('', ?, '') RETURNING id`, metric).Scan(&sid); err != nil {
		t.Fatal(err)
	}
	tx, err := d.W.Begin()
	if err != nil {
		t.Fatal(err)
	}
	for ts := from; ts <= to; ts += 300 {
		if _, err := tx.Exec(`INSERT INTO metric_samples (series_id, ts, value) VALUES (?, ?, ?)`, sid, ts, f(ts)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
}

// TestPredictCapacity reads a synthetic disk metric (linear growth with a
// daily cycle) from the stats history through the API and finds its
// threshold crossing within one hour of the true one.
func TestPredictCapacity(t *testing.T) {
	now := time.Now().Unix()
	start := now - 7*86400
	truth := func(ts int64) float64 {
		return 50 + 2*float64(ts-start)/86400 + 5*math.Sin(2*math.Pi*float64(ts)/86400)
	}
	env := servertest.NewWith(t, servertest.Setup{BeforeDB: func(d *db.DB) {
		seedMetric(t, d, "disk_percent", truth, start, now-60)
	}})
	var out struct {
		Metrics  map[string]map[string]any `json:"metrics"`
		Combined map[string]any            `json:"combined"`
	}
	if st := env.JSON("GET", "/api/predict/capacity?metrics=disk_percent,cpu_percent&projection=720&threshold=90", env.Token("viewer"), nil, &out); st != 200 {
		t.Fatalf("predict: %d", st)
	}
	if out.Metrics["cpu_percent"]["error"] != "Insufficient data" {
		t.Errorf("cpu_percent: %v", out.Metrics["cpu_percent"])
	}
	disk := out.Metrics["disk_percent"]
	if disk == nil || disk["regression"] == nil {
		t.Fatalf("disk_percent: %v", disk)
	}
	reg := disk["regression"].(map[string]any)
	if slope := reg["slope"].(float64) * 86400; math.Abs(slope-2) > 0.05 {
		t.Errorf("slope %.4f/day, want 2", slope)
	}
	seas, _ := disk["seasonal"].(map[string]any)
	if seas == nil || seas["period_hours"] != 24.0 {
		t.Errorf("seasonal: %v", disk["seasonal"])
	}
	if n := len(disk["projection"].([]any)); n != 720 {
		t.Errorf("projection of %d points", n)
	}
	// The true crossing of 90.
	var want int64
	for ts := now; ts < now+60*86400; ts += 10 {
		if truth(ts) >= 90 {
			want = ts
			break
		}
	}
	got, ok := disk["crosses_at"].(float64)
	if !ok || math.Abs(got-float64(want)) > 3600 {
		t.Errorf("crosses_at %v, true %d (tolerance 1 h)", disk["crosses_at"], want)
	}
	if early, ok := disk["crosses_at_upper_95"].(float64); !ok || early > got {
		t.Errorf("crosses_at_upper_95 %v after crosses_at %v", disk["crosses_at_upper_95"], got)
	}
	c := out.Combined
	if c["primary_metric"] != "disk_percent" || c["confidence"] != "high" || math.Abs(c["slope_per_day"].(float64)-2) > 0.05 {
		t.Errorf("combined: %v", c)
	}
	fullAt, err := time.Parse("2006-01-02T15:04:05.000000-07:00", c["full_at"].(string))
	wantFull := start + int64((90-50)/2.0*86400)
	if err != nil || math.Abs(float64(fullAt.Unix()-wantFull)) > 4*3600 {
		t.Errorf("full_at %v (%v), want the trend reaching 90 near %d", c["full_at"], err, wantFull)
	}

	// No history at all and bad parameters.
	if st := env.JSON("GET", "/api/predict/capacity?metrics=mem_percent", env.Token("viewer"), nil, &out); st != 200 ||
		out.Combined["primary_metric"] != nil || out.Combined["full_at"] != nil || out.Combined["confidence"] != "low" {
		t.Errorf("no data: %d %v", st, out.Combined)
	}
	for _, q := range []string{"range=x", "projection=1.5", "threshold=abc", "metrics=a%20b"} {
		if st, _ := env.Do("GET", "/api/predict/capacity?"+q, env.Token("viewer"), nil); st != 400 {
			t.Errorf("%s: %d, want 400", q, st)
		}
	}
}
