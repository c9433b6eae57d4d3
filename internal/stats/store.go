package stats

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/noba-go/noba/internal/db"
)

// Sample is one value of one series at one time.
type Sample struct {
	Host   string // "" = this server
	Metric string
	Label  string // mount, interface, IP... ("" when none)
	TS     int64
	Value  float64
}

// SeriesKey names a series.
type SeriesKey struct{ Host, Metric, Label string }

// Tier is a table of samples: raw, 1-minute or 1-hour averages.
type Tier int

// The storage tiers, finest first.
const (
	TierRaw Tier = iota
	Tier1m
	Tier1h
)

var tierTable = [...]string{"metric_samples", "metric_rollup_1m", "metric_rollup_1h"}

// Slot is the sum and count of one bucket (merged across tiers).
type Slot struct {
	Time  int64
	Sum   float64
	Count int64
}

// Store is the stats room's SQL.
type Store interface {
	// WriteBatch inserts samples in one transaction, creating series.
	WriteBatch(ctx context.Context, samples []Sample) error
	// SeriesIDs lists the series of a metric (host exact; label "" = all).
	SeriesIDs(host, metric, label string) []int64
	// Series lists every known series.
	Series() []SeriesKey
	// Buckets returns per-slot sums and counts of the given series in tier
	// for from <= ts < to, slots of res seconds.
	Buckets(ctx context.Context, tier Tier, ids []int64, from, to, res int64) ([]Slot, error)
	// RollupState returns how far a tier (1m, 1h) is rolled up (0 = never).
	RollupState(ctx context.Context, tier Tier) (int64, error)
	// Rollup recomputes tier's buckets for from <= bucket < to and records
	// to as its progress.
	Rollup(ctx context.Context, tier Tier, from, to int64) error
	// Prune deletes tier rows older than before; it returns the count.
	Prune(ctx context.Context, tier Tier, before int64) (int64, error)
	// Dashboard returns a user's legacy layout (ErrNoDashboard if none).
	Dashboard(ctx context.Context, user string) (Dashboard, error)
	// SaveDashboard upserts the given (non-nil) columns.
	SaveDashboard(ctx context.Context, user string, order, vis, theme json.RawMessage, now int64) error
}

// Dashboard is the legacy per-user layout of /api/dashboard.
type Dashboard struct {
	Username  string          `json:"username"`
	CardOrder json.RawMessage `json:"card_order"`
	CardVis   json.RawMessage `json:"card_vis"`
	CardTheme json.RawMessage `json:"card_theme"`
	UpdatedAt int64           `json:"updated_at"`
}

// ErrNoDashboard is returned when a user never saved a layout.
var ErrNoDashboard = errors.New("no dashboard")

// sqlStore is Store on the NOBA database. Series ids are cached in memory.
type sqlStore struct {
	db *db.DB

	mu       sync.RWMutex
	ids      map[SeriesKey]int64
	byMetric map[[2]string][]int64 // host, metric -> ids

	// Minute accumulators: every committed sample is added to its
	// (series, minute) sum, so the 1-minute rollup writes averages from
	// memory instead of re-reading raw rows. Minutes before accSince (the
	// first minute this process saw whole) are rolled up from SQL.
	amu      sync.Mutex
	acc      map[accKey]*accVal
	accSince int64

	// Days whose partitions exist (PostgreSQL; partitions.go).
	pmu   sync.Mutex
	parts map[int64]bool
}

type accKey struct{ id, minute int64 }

type accVal struct {
	sum float64
	n   int64
}

// maxAcc bounds the accumulators when rollups do not run; past it the
// store falls back to SQL rollups for the minutes it dropped.
const maxAcc = 500_000

// NewStore returns the SQL store and loads the series index.
func NewStore(ctx context.Context, d *db.DB) (Store, error) {
	s := &sqlStore{db: d, ids: map[SeriesKey]int64{}, byMetric: map[[2]string][]int64{}}
	rows, err := d.R.QueryContext(ctx, `SELECT id, host, metric, label FROM metric_series`)
	if err != nil {
		return nil, fmt.Errorf("load series: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k SeriesKey
		if err := rows.Scan(&id, &k.Host, &k.Metric, &k.Label); err != nil {
			return nil, fmt.Errorf("load series: %w", err)
		}
		s.addLocked(k, id)
	}
	return s, rows.Err()
}

func (s *sqlStore) addLocked(k SeriesKey, id int64) {
	s.ids[k] = id
	mk := [2]string{k.Host, k.Metric}
	s.byMetric[mk] = append(s.byMetric[mk], id)
}

// SeriesIDs implements Store.
func (s *sqlStore) SeriesIDs(host, metric, label string) []int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if label != "" {
		if id, ok := s.ids[SeriesKey{host, metric, label}]; ok {
			return []int64{id}
		}
		return nil
	}
	return append([]int64(nil), s.byMetric[[2]string{host, metric}]...)
}

// Series implements Store.
func (s *sqlStore) Series() []SeriesKey {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]SeriesKey, 0, len(s.ids))
	for k := range s.ids {
		out = append(out, k)
	}
	return out
}

// insertChunk is the number of rows per multi-row INSERT.
const insertChunk = 300

// WriteBatch implements Store.
func (s *sqlStore) WriteBatch(ctx context.Context, samples []Sample) error {
	if len(samples) == 0 {
		return nil
	}
	s.mu.RLock()
	ids := make([]int64, len(samples))
	var missing []int
	for i, sm := range samples {
		id, ok := s.ids[SeriesKey{sm.Host, sm.Metric, sm.Label}]
		if !ok {
			missing = append(missing, i)
		}
		ids[i] = id
	}
	s.mu.RUnlock()
	created := map[SeriesKey]int64{}
	var newDays []int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if lo, hi, ok := s.needPartitions(samples); ok {
			var err error
			if newDays, err = s.ensurePartitions(ctx, tx, lo, hi); err != nil {
				return err
			}
		}
		for _, i := range missing {
			k := SeriesKey{samples[i].Host, samples[i].Metric, samples[i].Label}
			if id, ok := created[k]; ok {
				ids[i] = id
				continue
			}
			var id int64
			q := `INSERT INTO metric_series (host, metric, label) VALUES (?, ?, ?)` +
				s.db.SQL().Upsert([]string{"host", "metric", "label"}, "metric = excluded.metric") + ` RETURNING id`
			err := tx.QueryRowContext(ctx, s.db.SQL().Rebind(q), k.Host, k.Metric, k.Label).Scan(&id)
			if err != nil {
				return fmt.Errorf("create series %s: %w", k.Metric, err)
			}
			created[k], ids[i] = id, id
		}
		var full *sql.Stmt
		for start := 0; start < len(samples); start += insertChunk {
			end := min(start+insertChunk, len(samples))
			n := end - start
			var stmt *sql.Stmt
			var err error
			if n == insertChunk && full != nil {
				stmt = full
			} else {
				stmt, err = tx.PrepareContext(ctx, insertSQL(s.db.SQL(), n))
				if err != nil {
					return fmt.Errorf("prepare samples: %w", err)
				}
				if n == insertChunk {
					full = stmt
				} else {
					defer stmt.Close()
				}
			}
			args := make([]any, 0, n*3)
			for i := start; i < end; i++ {
				args = append(args, ids[i], samples[i].TS, samples[i].Value)
			}
			if _, err := stmt.ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("insert samples: %w", err)
			}
		}
		if full != nil {
			full.Close()
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.markPartitions(newDays)
	s.accumulate(samples, ids)
	if len(created) > 0 {
		s.mu.Lock()
		for k, id := range created {
			if _, ok := s.ids[k]; !ok {
				s.addLocked(k, id)
			}
		}
		s.mu.Unlock()
	}
	return nil
}

func insertSQL(d db.Dialect, n int) string {
	var b strings.Builder
	b.WriteString("INSERT INTO metric_samples (series_id, ts, value) VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(?,?,?)")
	}
	b.WriteString(d.Upsert([]string{"series_id", "ts"}, "value = excluded.value"))
	return d.Rebind(b.String())
}

func idList(ids []int64) string {
	var b strings.Builder
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%d", id)
	}
	return b.String()
}

// Buckets implements Store.
func (s *sqlStore) Buckets(ctx context.Context, tier Tier, ids []int64, from, to, res int64) ([]Slot, error) {
	if len(ids) == 0 || from >= to || res <= 0 {
		return nil, nil
	}
	q := fmt.Sprintf(`SELECT (ts / %d) * %d AS slot, SUM(value), COUNT(*) FROM %s
		WHERE series_id IN (%s) AND ts >= ? AND ts < ? GROUP BY slot ORDER BY slot`,
		res, res, tierTable[tier], idList(ids))
	rows, err := s.db.R.QueryContext(ctx, q, from, to)
	if err != nil {
		return nil, fmt.Errorf("history buckets: %w", err)
	}
	defer rows.Close()
	var out []Slot
	for rows.Next() {
		var sl Slot
		if err := rows.Scan(&sl.Time, &sl.Sum, &sl.Count); err != nil {
			return nil, fmt.Errorf("history buckets: %w", err)
		}
		out = append(out, sl)
	}
	return out, rows.Err()
}

func tierName(t Tier) string { return [...]string{"raw", "1m", "1h"}[t] }

// RollupState implements Store.
func (s *sqlStore) RollupState(ctx context.Context, tier Tier) (int64, error) {
	var upto int64
	err := s.db.R.QueryRowContext(ctx, `SELECT upto FROM metric_rollup_state WHERE tier = ?`, tierName(tier)).Scan(&upto)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("rollup state: %w", err)
	}
	return upto, nil
}

// accumulate adds committed samples to the minute accumulators.
func (s *sqlStore) accumulate(samples []Sample, ids []int64) {
	s.amu.Lock()
	defer s.amu.Unlock()
	if s.acc == nil {
		s.acc = map[accKey]*accVal{}
		lo := samples[0].TS
		for _, sm := range samples {
			lo = min(lo, sm.TS)
		}
		s.accSince = (lo/60 + 1) * 60
	}
	for i, sm := range samples {
		if sm.TS < s.accSince {
			continue
		}
		k := accKey{ids[i], sm.TS / 60 * 60}
		if v := s.acc[k]; v != nil {
			v.sum += sm.Value
			v.n++
		} else {
			s.acc[k] = &accVal{sm.Value, 1}
		}
	}
	if len(s.acc) > maxAcc {
		// Rollups are not keeping up: forget, and let SQL cover these minutes.
		var newest int64
		for k := range s.acc {
			newest = max(newest, k.minute)
		}
		s.acc, s.accSince = map[accKey]*accVal{}, newest+60
	}
}

// takeMinutes removes and returns the accumulated averages of the minutes
// in [from, to) (and drops older leftovers); ok=false when memory does not
// cover from.
func (s *sqlStore) takeMinutes(from, to int64) ([]accKey, []float64, int64) {
	s.amu.Lock()
	defer s.amu.Unlock()
	if s.acc == nil {
		return nil, nil, to
	}
	start := max(from, s.accSince)
	var keys []accKey
	var vals []float64
	for k, v := range s.acc {
		switch {
		case k.minute < start:
			delete(s.acc, k)
		case k.minute < to:
			keys = append(keys, k)
			vals = append(vals, v.sum/float64(v.n))
			delete(s.acc, k)
		}
	}
	return keys, vals, start
}

// Rollup implements Store.
func (s *sqlStore) Rollup(ctx context.Context, tier Tier, from, to int64) error {
	if tier == TierRaw {
		return errors.New("rollup: raw is not a rollup tier")
	}
	if tier == Tier1m && from < to {
		return s.rollupMinutes(ctx, from, to)
	}
	return s.rollupSQL(ctx, tier, from, to)
}

// rollupSQL recomputes tier's buckets in [from, to) from the finer tier's
// rows and records to as the tier's progress.
func (s *sqlStore) rollupSQL(ctx context.Context, tier Tier, from, to int64) error {
	size := int64(60)
	if tier == Tier1h {
		size = 3600
	}
	src := tierTable[tier-1]
	// The series table drives the join so that each series is one index
	// range on (series_id, ts).
	q := fmt.Sprintf(`INSERT INTO %s (series_id, ts, value)
		SELECT m.series_id, (m.ts / %d) * %d, AVG(m.value) FROM metric_series s CROSS JOIN %s m
		WHERE m.series_id = s.id AND m.ts >= ? AND m.ts < ?
		GROUP BY m.series_id, (m.ts / %d) * %d`, tierTable[tier], size, size, src, size, size) +
		s.db.SQL().Upsert([]string{"series_id", "ts"}, "value = excluded.value")
	q = s.db.SQL().Rebind(q)
	state := s.db.SQL().Rebind(`INSERT INTO metric_rollup_state (tier, upto) VALUES (?, ?)` +
		s.db.SQL().Upsert([]string{"tier"}, "upto = excluded.upto"))
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if from < to {
			if _, err := tx.ExecContext(ctx, q, from, to); err != nil {
				return fmt.Errorf("rollup %s: %w", tierName(tier), err)
			}
		}
		if _, err := tx.ExecContext(ctx, state, tierName(tier), to); err != nil {
			return fmt.Errorf("rollup %s state: %w", tierName(tier), err)
		}
		return nil
	})
}

// Prune implements Store.
func (s *sqlStore) Prune(ctx context.Context, tier Tier, before int64) (int64, error) {
	s.mu.RLock()
	all := make([]int64, 0, len(s.ids))
	for _, id := range s.ids {
		all = append(all, id)
	}
	s.mu.RUnlock()
	var total int64
	if s.partitioned() {
		n, err := s.dropPartitions(ctx, tier, before)
		if err != nil {
			return 0, err
		}
		total = n
	}
	for start := 0; start < len(all); start += 500 {
		chunk := all[start:min(start+500, len(all))]
		q := fmt.Sprintf(`DELETE FROM %s WHERE series_id IN (%s) AND ts < ?`, tierTable[tier], idList(chunk))
		var n int64
		err := s.db.Tx(ctx, func(tx *sql.Tx) error {
			r, err := tx.ExecContext(ctx, q, before)
			if err != nil {
				return fmt.Errorf("prune %s: %w", tierName(tier), err)
			}
			n, _ = r.RowsAffected()
			return nil
		})
		if err != nil {
			return total, err
		}
		total += n
	}
	return total, nil
}

// Dashboard implements Store.
func (s *sqlStore) Dashboard(ctx context.Context, user string) (Dashboard, error) {
	var d Dashboard
	var order, vis, theme sql.NullString
	err := s.db.R.QueryRowContext(ctx, `SELECT username, card_order, card_vis, card_theme, updated_at
		FROM user_dashboards WHERE username = ?`, user).Scan(&d.Username, &order, &vis, &theme, &d.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return d, ErrNoDashboard
	}
	if err != nil {
		return d, fmt.Errorf("dashboard: %w", err)
	}
	raw := func(n sql.NullString) json.RawMessage {
		if !n.Valid || n.String == "" {
			return json.RawMessage("null")
		}
		return json.RawMessage(n.String)
	}
	d.CardOrder, d.CardVis, d.CardTheme = raw(order), raw(vis), raw(theme)
	return d, nil
}

// SaveDashboard implements Store.
func (s *sqlStore) SaveDashboard(ctx context.Context, user string, order, vis, theme json.RawMessage, now int64) error {
	str := func(r json.RawMessage) any {
		if r == nil {
			return nil
		}
		return string(r)
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		q := `INSERT INTO user_dashboards (username, card_order, card_vis, card_theme, updated_at) VALUES (?, ?, ?, ?, ?)` +
			s.db.SQL().Upsert([]string{"username"},
				"card_order = COALESCE(excluded.card_order, user_dashboards.card_order)",
				"card_vis = COALESCE(excluded.card_vis, user_dashboards.card_vis)",
				"card_theme = COALESCE(excluded.card_theme, user_dashboards.card_theme)",
				"updated_at = excluded.updated_at")
		_, err := tx.ExecContext(ctx, s.db.SQL().Rebind(q), user, str(order), str(vis), str(theme), now)
		if err != nil {
			return fmt.Errorf("save dashboard: %w", err)
		}
		return nil
	})
}

// rollupMinutes writes 1-minute averages: from memory where the
// accumulators cover the minutes, from raw rows before that.
func (s *sqlStore) rollupMinutes(ctx context.Context, from, to int64) error {
	keys, vals, memFrom := s.takeMinutes(from, to)
	if memFrom > from {
		if err := s.rollupSQL(ctx, Tier1m, from, min(memFrom, to)); err != nil {
			return err
		}
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(keys); start += insertChunk {
			end := min(start+insertChunk, len(keys))
			var b strings.Builder
			b.WriteString("INSERT INTO metric_rollup_1m (series_id, ts, value) VALUES ")
			args := make([]any, 0, (end-start)*3)
			for i := start; i < end; i++ {
				if i > start {
					b.WriteByte(',')
				}
				b.WriteString("(?,?,?)")
				args = append(args, keys[i].id, keys[i].minute, vals[i])
			}
			b.WriteString(s.db.SQL().Upsert([]string{"series_id", "ts"}, "value = excluded.value"))
			if _, err := tx.ExecContext(ctx, s.db.SQL().Rebind(b.String()), args...); err != nil {
				return fmt.Errorf("rollup 1m: %w", err)
			}
		}
		q := `INSERT INTO metric_rollup_state (tier, upto) VALUES ('1m', ?)` +
			s.db.SQL().Upsert([]string{"tier"}, "upto = excluded.upto")
		if _, err := tx.ExecContext(ctx, s.db.SQL().Rebind(q), to); err != nil {
			return fmt.Errorf("rollup 1m state: %w", err)
		}
		return nil
	})
}
