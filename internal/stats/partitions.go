package stats

import (
	"context"
	"database/sql"
	"fmt"
)

// On PostgreSQL the sample tables are partitioned by time (migration
// 00002 of migrations/postgres): partitions of partWidth seconds per tier.
// The writer creates the partitions a batch needs, plus partAhead of them
// beyond it, the first time it sees a day (so inserts land in their own
// partition, not the catch-all default one), and retention drops whole
// partitions before deleting what is left of the boundary one.
var partWidth = [...]int64{86400, 86400, 30 * 86400}

// partAhead is how many partitions past a batch's newest sample are made.
const partAhead = 2

func (s *sqlStore) partitioned() bool { return s.db.SQL().Name() == "postgres" }

// needPartitions reports the day range [lo, hi) of samples' timestamps
// when some day of it has no partition yet (ok=false when all do).
func (s *sqlStore) needPartitions(samples []Sample) (lo, hi int64, ok bool) {
	if !s.partitioned() {
		return 0, 0, false
	}
	s.pmu.Lock()
	defer s.pmu.Unlock()
	for _, sm := range samples {
		day := sm.TS / partWidth[TierRaw]
		if !s.parts[day] {
			if !ok {
				lo, hi, ok = sm.TS, sm.TS+1, true
			}
			lo, hi = min(lo, sm.TS), max(hi, sm.TS+1)
		}
	}
	return lo, hi, ok
}

// ensurePartitions creates, in tx, every tier's missing partitions for
// [from, to) and partAhead beyond, and returns the days now covered.
func (s *sqlStore) ensurePartitions(ctx context.Context, tx *sql.Tx, from, to int64) ([]int64, error) {
	for t, table := range tierTable {
		w := partWidth[t]
		if _, err := tx.ExecContext(ctx, `SELECT noba_ensure_partitions(?, ?, ?, ?)`, table, from, to+partAhead*w, w); err != nil {
			return nil, fmt.Errorf("create %s partitions: %w", table, err)
		}
	}
	var days []int64
	for d := from / partWidth[TierRaw]; d*partWidth[TierRaw] < to+partAhead*partWidth[TierRaw]; d++ {
		days = append(days, d)
	}
	return days, nil
}

// markPartitions records days as having their partitions (after commit).
func (s *sqlStore) markPartitions(days []int64) {
	s.pmu.Lock()
	defer s.pmu.Unlock()
	if s.parts == nil {
		s.parts = map[int64]bool{}
	}
	for _, d := range days {
		s.parts[d] = true
	}
}

// EnsurePartitions creates the partitions for [from, to) outside a write
// batch (tests and benchmarks seeding history directly); a no-op on SQLite.
func (s *sqlStore) EnsurePartitions(ctx context.Context, from, to int64) error {
	if !s.partitioned() {
		return nil
	}
	var days []int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var err error
		days, err = s.ensurePartitions(ctx, tx, from, to)
		return err
	})
	if err == nil {
		s.markPartitions(days)
	}
	return err
}

// dropPartitions drops tier's partitions that end at or before before,
// returning the rows they held (PostgreSQL only).
func (s *sqlStore) dropPartitions(ctx context.Context, tier Tier, before int64) (int64, error) {
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		return tx.QueryRowContext(ctx, `SELECT noba_drop_partitions(?, ?, ?)`, tierTable[tier], before, partWidth[tier]).Scan(&n)
	})
	if err != nil {
		return 0, fmt.Errorf("drop %s partitions: %w", tierName(tier), err)
	}
	if tier == TierRaw {
		s.pmu.Lock()
		for d := range s.parts {
			if (d+1)*partWidth[TierRaw] <= before {
				delete(s.parts, d)
			}
		}
		s.pmu.Unlock()
	}
	return n, nil
}
