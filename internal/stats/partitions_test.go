package stats

import (
	"context"
	"testing"
)

// TestRetentionByPartition: on either dialect, retention removes exactly
// the samples older than the cutoff; on PostgreSQL the writer put each day
// in its own partition (none in the default one) and retention dropped the
// partitions that ended before the cutoff.
func TestRetentionByPartition(t *testing.T) {
	h := newHarness(t, fixedSource(map[string]any{}), nil)
	ctx := context.Background()
	day := int64(86400)
	base := (int64(1_750_000_000) / day) * day
	var batch []Sample
	for d := int64(0); d < 4; d++ {
		for i := int64(0); i < 12; i++ {
			batch = append(batch, Sample{Metric: "cpu_percent", TS: base + d*day + i*7200, Value: float64(d)})
		}
	}
	if err := h.store.WriteBatch(ctx, batch); err != nil {
		t.Fatal(err)
	}
	pg := h.db.SQL().Name() == "postgres"
	parts := func() (n int) {
		t.Helper()
		if err := h.db.R.QueryRow(`SELECT COUNT(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
			WHERE i.inhparent = 'metric_samples'::regclass AND c.relname <> 'metric_samples_default'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if pg {
		var inDefault int
		if err := h.db.R.QueryRow(`SELECT COUNT(*) FROM metric_samples_default`).Scan(&inDefault); err != nil {
			t.Fatal(err)
		}
		if inDefault != 0 {
			t.Fatalf("%d samples fell into the default partition", inDefault)
		}
		if n := parts(); n != 4+partAhead {
			t.Fatalf("%d partitions, want %d", n, 4+partAhead)
		}
	}
	// Cut in the middle of day 2: days 0 and 1 go whole, half of day 2.
	cut := base + 2*day + 6*7200
	n, err := h.store.Prune(ctx, TierRaw, cut)
	if err != nil {
		t.Fatal(err)
	}
	if n != 12+12+6 {
		t.Fatalf("pruned %d, want 30", n)
	}
	var left, older int
	if err := h.db.R.QueryRow(`SELECT COUNT(*), COALESCE(SUM(CASE WHEN ts < ? THEN 1 ELSE 0 END), 0) FROM metric_samples`, cut).Scan(&left, &older); err != nil {
		t.Fatal(err)
	}
	if left != 18 || older != 0 {
		t.Fatalf("left %d (older than the cut %d), want 18 (0)", left, older)
	}
	if pg {
		if n := parts(); n != 2+partAhead {
			t.Fatalf("%d partitions after retention, want %d", n, 2+partAhead)
		}
	}
}
