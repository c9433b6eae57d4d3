package automations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/httpx"
)

// Automation is one automation (spec 30 §1.1).
type Automation struct {
	ID        string         `json:"id"`
	Name      string         `json:"name"`
	Type      string         `json:"type"`
	Config    map[string]any `json:"config"`
	Schedule  *string        `json:"schedule"`
	Enabled   bool           `json:"enabled"`
	CreatedAt int64          `json:"created_at"`
	UpdatedAt int64          `json:"updated_at"`
	// AuthorRole is the role of the last writer: what the automation may do.
	AuthorRole string `json:"-"`
	CreatedBy  string `json:"-"`
}

// Store persists the room's tables.
type Store struct{ db *db.DB }

// NewStore returns the store of d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

const autoCols = `id, name, type, config, schedule, enabled, created_at, updated_at, author_role, created_by`

type scanner interface{ Scan(...any) error }

func scanAuto(sc scanner) (Automation, error) {
	var a Automation
	var cfg string
	var sched sql.NullString
	var en int
	if err := sc.Scan(&a.ID, &a.Name, &a.Type, &cfg, &sched, &en, &a.CreatedAt, &a.UpdatedAt, &a.AuthorRole, &a.CreatedBy); err != nil {
		return a, err
	}
	a.Enabled = en != 0
	if sched.Valid && sched.String != "" {
		a.Schedule = &sched.String
	}
	if err := json.Unmarshal([]byte(cfg), &a.Config); err != nil || a.Config == nil {
		a.Config = map[string]any{}
	}
	return a, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func schedArg(s *string) any {
	if s == nil || *s == "" {
		return nil
	}
	return *s
}

// List returns the automations ordered by name, optionally of one type.
func (s *Store) List(ctx context.Context, typ string) ([]Automation, error) {
	q, args := `SELECT `+autoCols+` FROM automations`, []any{}
	if typ != "" {
		q, args = q+` WHERE type = ?`, append(args, typ)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY name, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list automations: %w", err)
	}
	defer rows.Close()
	out := []Automation{}
	for rows.Next() {
		a, err := scanAuto(rows)
		if err != nil {
			return nil, fmt.Errorf("list automations: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Get returns one automation or a 404 error.
func (s *Store) Get(ctx context.Context, id string) (Automation, error) {
	a, err := scanAuto(s.db.R.QueryRowContext(ctx, `SELECT `+autoCols+` FROM automations WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, httpx.NotFound("Automation not found")
	}
	if err != nil {
		return a, fmt.Errorf("get automation: %w", err)
	}
	return a, nil
}

type execer interface {
	ExecContext(ctx context.Context, q string, args ...any) (sql.Result, error)
}

func insertAuto(ctx context.Context, x execer, a Automation) error {
	cfg, err := json.Marshal(a.Config)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	_, err = x.ExecContext(ctx, `INSERT INTO automations (`+autoCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		a.ID, a.Name, a.Type, string(cfg), schedArg(a.Schedule), b2i(a.Enabled), a.CreatedAt, a.UpdatedAt, a.AuthorRole, a.CreatedBy)
	if err != nil {
		return fmt.Errorf("insert automation: %w", err)
	}
	return nil
}

func updateAuto(ctx context.Context, x execer, a Automation) error {
	cfg, err := json.Marshal(a.Config)
	if err != nil {
		return fmt.Errorf("encode config: %w", err)
	}
	_, err = x.ExecContext(ctx, `UPDATE automations SET name = ?, type = ?, config = ?, schedule = ?, enabled = ?, updated_at = ?,
		author_role = ? WHERE id = ?`, a.Name, a.Type, string(cfg), schedArg(a.Schedule), b2i(a.Enabled), a.UpdatedAt, a.AuthorRole, a.ID)
	if err != nil {
		return fmt.Errorf("update automation: %w", err)
	}
	return nil
}

// Create inserts an automation.
func (s *Store) Create(ctx context.Context, a Automation) error { return insertAuto(ctx, s.db.W, a) }

// Update rewrites an automation.
func (s *Store) Update(ctx context.Context, a Automation) error { return updateAuto(ctx, s.db.W, a) }

// Delete removes an automation.
func (s *Store) Delete(ctx context.Context, id string) error {
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM automations WHERE id = ?`, id); err != nil {
		return fmt.Errorf("delete automation: %w", err)
	}
	return nil
}

// ImportItem is one automation of an import: insert or overwrite.
type ImportItem struct {
	A         Automation
	Overwrite bool
}

// Import writes every item in one transaction.
func (s *Store) Import(ctx context.Context, items []ImportItem) error {
	tx, err := s.db.W.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	for _, it := range items {
		if it.Overwrite {
			err = updateAuto(ctx, tx, it.A)
		} else {
			err = insertAuto(ctx, tx, it.A)
		}
		if err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("import: %w", err)
	}
	return nil
}

// AutoStats are the run statistics of one automation.
type AutoStats struct {
	Total       int      `json:"total"`
	OK          int      `json:"ok"`
	Fail        int      `json:"fail"`
	AvgDuration *float64 `json:"avg_duration"`
	LastRun     *int64   `json:"last_run"`
}

// Stats aggregates job runs per automation.
func (s *Store) Stats(ctx context.Context) (map[string]AutoStats, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT automation_id, COUNT(*),
		SUM(CASE WHEN status = 'done' THEN 1 ELSE 0 END), SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END),
		AVG(CASE WHEN finished_at IS NOT NULL THEN finished_at - started_at END), MAX(started_at)
		FROM job_runs WHERE automation_id IS NOT NULL GROUP BY automation_id`)
	if err != nil {
		return nil, fmt.Errorf("stats: %w", err)
	}
	defer rows.Close()
	out := map[string]AutoStats{}
	for rows.Next() {
		var id string
		var st AutoStats
		var avg sql.NullFloat64
		var last sql.NullInt64
		if err := rows.Scan(&id, &st.Total, &st.OK, &st.Fail, &avg, &last); err != nil {
			return nil, fmt.Errorf("stats: %w", err)
		}
		if avg.Valid {
			v := float64(int64(avg.Float64*10+0.5)) / 10
			st.AvgDuration = &v
		}
		if last.Valid {
			st.LastRun = &last.Int64
		}
		out[id] = st
	}
	return out, rows.Err()
}
