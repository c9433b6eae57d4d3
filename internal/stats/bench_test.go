package stats

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkStatsHandler measures GET /api/stats answered from memory.
func BenchmarkStatsHandler(b *testing.B) {
	h := newHarness(b, fixedSource(richSnapshot()), nil)
	if err := h.room.Collect(context.Background()); err != nil {
		b.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/api/stats", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.room.handleStats(w, req)
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// seedTiers fills a realistic database: for each of nSeries series (one
// of them cpu_percent), raw samples every 5 s for 24 h, 1-minute rollups
// for 7 days and hourly rollups for 30 days, as retention leaves them.
func seedTiers(b *testing.B, h *harness, nSeries int) {
	ctx := context.Background()
	now := h.clock.Now().Unix()
	var first []Sample
	for i := 0; i < nSeries; i++ {
		m := "cpu_percent"
		host := ""
		if i > 0 {
			m, host = fmt.Sprintf("m%d", i%20), fmt.Sprintf("host%d", i/20)
		}
		first = append(first, Sample{Host: host, Metric: m, TS: now - 86400, Value: 1})
	}
	if err := h.store.WriteBatch(ctx, first); err != nil {
		b.Fatal(err)
	}
	ids := map[int64]bool{}
	for _, k := range h.store.Series() {
		ids[h.store.SeriesIDs(k.Host, k.Metric, k.Label)[0]] = true
	}
	if err := h.store.(*sqlStore).EnsurePartitions(ctx, now-30*86400, now); err != nil {
		b.Fatal(err)
	}
	insert := func(table string, from, to, step int64) {
		tx, err := h.db.W.Begin()
		if err != nil {
			b.Fatal(err)
		}
		stmt, _ := tx.Prepare(fmt.Sprintf(`INSERT INTO %s (series_id, ts, value) VALUES (?, ?, ?)`, table) +
			h.db.SQL().Upsert([]string{"series_id", "ts"}, "value = excluded.value"))
		for id := range ids {
			for ts := from; ts < to; ts += step {
				if _, err := stmt.Exec(id, ts, rand.Float64()*100); err != nil {
					b.Fatal(err)
				}
			}
		}
		stmt.Close()
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
	insert("metric_samples", now-86400, now, 5)
	insert("metric_rollup_1m", (now-7*86400)/60*60, now/60*60, 60)
	insert("metric_rollup_1h", (now-30*86400)/3600*3600, now/3600*3600, 3600)
	h.db.W.Exec(`INSERT INTO metric_rollup_state (tier, upto) VALUES ('1m', ?), ('1h', ?)`, now/60*60, now/3600*3600)
	if h.db.SQL().Name() == "postgres" {
		h.db.W.Exec(`ANALYZE`) // fresh statistics, as autovacuum would have by then
	}
}

// BenchmarkHistory30Days queries 30 days of one metric in 1 h buckets on
// a database seeded with 20 series (target: at most 20 ms).
func BenchmarkHistory30Days(b *testing.B) {
	h := newHarness(b, fixedSource(map[string]any{}), nil)
	seedTiers(b, h, 20)
	ctx := context.Background()
	b.ResetTimer()
	for b.Loop() {
		pts, err := h.room.Series(ctx, Selector{Metric: "cpu_percent"}, 720, 3600)
		if err != nil || len(pts) < 700 {
			b.Fatal(err, len(pts))
		}
	}
}

// BenchmarkHistory30DaysHTTP is the same query through the router.
func BenchmarkHistory30DaysHTTP(b *testing.B) {
	h := newHarness(b, fixedSource(map[string]any{}), nil)
	seedTiers(b, h, 20)
	b.ResetTimer()
	for b.Loop() {
		code, body, _ := h.get(b, "/api/history/cpu_percent?range=720&resolution=3600", "viewer")
		if code != 200 || !strings.HasPrefix(string(body), "[{") {
			b.Fatal(code)
		}
	}
}

// BenchmarkIngestCycle writes one 5-second cycle of 1,000 hosts x 20
// metrics (20,000 samples) in one transaction on the writer. Headroom =
// 5 s / (time per op).
func BenchmarkIngestCycle(b *testing.B) {
	h := newHarness(b, fixedSource(map[string]any{}), nil)
	ctx := context.Background()
	batch := make([]Sample, 0, 20000)
	for host := 0; host < 1000; host++ {
		for m := 0; m < 20; m++ {
			batch = append(batch, Sample{Host: fmt.Sprintf("host%04d", host), Metric: fmt.Sprintf("metric_%02d", m)})
		}
	}
	ts := h.clock.Now().Unix()
	// the first cycle creates the 20,000 series
	if err := h.store.WriteBatch(ctx, batch); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		ts += 5
		for i := range batch {
			batch[i].TS, batch[i].Value = ts, float64(i%100)
		}
		if err := h.store.WriteBatch(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(batch))*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkIngestViaWriteSamples is the agents' path: 1,000 WriteSamples
// calls of 20 metrics, flushed as one batch.
func BenchmarkIngestViaWriteSamples(b *testing.B) {
	h := newHarness(b, fixedSource(map[string]any{}), nil)
	ctx := context.Background()
	h.room.hist.qmu.Lock()
	h.room.hist.flushing = true // as when the flusher job runs
	h.room.hist.qmu.Unlock()
	metrics := map[string]float64{}
	for m := 0; m < 20; m++ {
		metrics[fmt.Sprintf("metric_%02d", m)] = float64(m)
	}
	hosts := make([]string, 1000)
	for i := range hosts {
		hosts[i] = fmt.Sprintf("host%04d", i)
	}
	ts := h.clock.Now().Unix()
	cycle := func() {
		ts += 5
		for _, host := range hosts {
			if err := h.room.WriteSamples(ctx, host, ts, metrics); err != nil {
				b.Fatal(err)
			}
		}
		if err := h.room.Flush(ctx); err != nil {
			b.Fatal(err)
		}
	}
	cycle()
	b.ResetTimer()
	for b.Loop() {
		cycle()
	}
}

// rollupBench writes 12 cycles (one minute) of 20,000 series and rolls
// that minute up, timing only the rollup. fromSQL forces the raw-row path.
func rollupBench(b *testing.B, fromSQL bool) {
	h := newHarness(b, fixedSource(map[string]any{}), nil)
	st := h.store.(*sqlStore)
	ctx := context.Background()
	batch := make([]Sample, 0, 20000)
	for host := 0; host < 1000; host++ {
		for m := 0; m < 20; m++ {
			batch = append(batch, Sample{Host: fmt.Sprintf("host%04d", host), Metric: fmt.Sprintf("metric_%02d", m)})
		}
	}
	minute := h.clock.Now().Unix()/60*60 - 3600
	write := func(from int64) {
		for ts := from; ts < from+60; ts += 5 {
			for i := range batch {
				batch[i].TS, batch[i].Value = ts, float64(i%100)
			}
			if err := st.WriteBatch(ctx, batch); err != nil {
				b.Fatal(err)
			}
		}
	}
	write(minute - 60) // the accumulators start whole from the next minute
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		minute += 60
		write(minute)
		b.StartTimer()
		var err error
		if fromSQL {
			err = st.rollupSQL(ctx, Tier1m, minute, minute+60)
		} else {
			err = st.Rollup(ctx, Tier1m, minute, minute+60)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRollupMinute rolls up one minute of 20,000 series from the
// in-memory accumulators.
func BenchmarkRollupMinute(b *testing.B) { rollupBench(b, false) }

// BenchmarkRollupMinuteSQL is the same minute re-read from raw rows (the
// catch-up path after a restart).
func BenchmarkRollupMinuteSQL(b *testing.B) { rollupBench(b, true) }

// agentFleet is an AgentSource of n online agents (what the agents room
// hands the stats room each collection).
type agentFleet struct{ n int }

func (f agentFleet) AgentMetrics() map[string]map[string]float64 {
	out := make(map[string]map[string]float64, f.n)
	for i := range f.n {
		out[fmt.Sprintf("host%04d", i)] = map[string]float64{"cpu_percent": 12.5, "mem_percent": 40, "disk_percent": 71, "load_1m": 0.4}
	}
	return out
}

func (f agentFleet) AgentList() []map[string]any {
	out := make([]map[string]any, 0, f.n)
	for i := range f.n {
		out = append(out, map[string]any{"hostname": fmt.Sprintf("host%04d", i), "cpu_percent": 12.5, "mem_percent": 40.0,
			"online": true, "last_seen_s": 3, "platform": "linux", "uptime_s": 86400, "arch": "x86_64", "agent_version": "2.0.0",
			"disks":         []any{map[string]any{"mount": "/", "percent": 71.0}},
			"top_processes": []any{map[string]any{"name": "nginx", "cpu": 1.5}}})
	}
	return out
}

// BenchmarkCollect1000Agents is one collection with 1,000 agents online.
func BenchmarkCollect1000Agents(b *testing.B) {
	h := newHarness(b, fixedSource(richSnapshot()), func(d *Deps) { d.Agents = agentFleet{n: 1000} })
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if err := h.room.Collect(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
