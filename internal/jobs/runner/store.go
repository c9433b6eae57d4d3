package runner

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/noba-go/noba/internal/db"
)

// Run is one row of job_runs (spec 30 §1.1). Output is only filled by Get.
type Run struct {
	ID           int64   `json:"id"`
	AutomationID *string `json:"automation_id"`
	Trigger      string  `json:"trigger"`
	Status       string  `json:"status"`
	StartedAt    int64   `json:"started_at"`
	FinishedAt   *int64  `json:"finished_at"`
	ExitCode     *int    `json:"exit_code"`
	Output       *string `json:"output,omitempty"`
	TriggeredBy  string  `json:"triggered_by"`
	Error        *string `json:"error"`
}

// Filter selects runs for List.
type Filter struct {
	Limit         int
	Status        string
	AutomationID  string
	TriggerPrefix string
	// WithOutput includes the output column, cut to OutputMax characters when positive.
	WithOutput bool
	OutputMax  int
}

// ErrNotFound is returned by Get for an unknown run.
var ErrNotFound = errors.New("run not found")

// Store persists job runs in the job_runs table.
type Store struct{ db *db.DB }

// NewStore returns the job_runs store of d.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

func nullStr(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// Insert adds a run in status and returns its id.
func (s *Store) Insert(ctx context.Context, automationID, trigger, status, triggeredBy string, started int64) (int64, error) {
	var newID int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO job_runs (automation_id, trigger, status, started_at, triggered_by)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, nullStr(automationID), trigger, status, started, triggeredBy).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("insert run: %w", err)
	}
	return newID, nil
}

// Finish records the end of a run that has not ended yet (a run's first
// end wins). exit may be nil; empty output and errText are stored as NULL.
func (s *Store) Finish(ctx context.Context, id int64, status string, exit *int, output, errText string, finished int64) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE job_runs SET status = ?, exit_code = ?, output = ?, error = ?, finished_at = ?
		WHERE id = ? AND finished_at IS NULL`, status, exit, nullStr(output), nullStr(errText), finished, id)
	if err != nil {
		return fmt.Errorf("finish run %d: %w", id, err)
	}
	return nil
}

// SetStatus changes the status of a run that is not finished.
func (s *Store) SetStatus(ctx context.Context, id int64, status string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE job_runs SET status = ? WHERE id = ? AND finished_at IS NULL`, status, id)
	if err != nil {
		return fmt.Errorf("set run %d status: %w", id, err)
	}
	return nil
}

const runCols = `id, automation_id, trigger, status, started_at, finished_at, exit_code, triggered_by, error`

func scanRun(sc interface{ Scan(...any) error }, withOutput bool) (Run, error) {
	var r Run
	var aid, errText, out sql.NullString
	var fin, exit sql.NullInt64
	dest := []any{&r.ID, &aid, &r.Trigger, &r.Status, &r.StartedAt, &fin, &exit, &r.TriggeredBy, &errText}
	if withOutput {
		dest = append(dest, &out)
	}
	if err := sc.Scan(dest...); err != nil {
		return r, err
	}
	if aid.Valid {
		r.AutomationID = &aid.String
	}
	if errText.Valid {
		r.Error = &errText.String
	}
	if fin.Valid {
		r.FinishedAt = &fin.Int64
	}
	if exit.Valid {
		e := int(exit.Int64)
		r.ExitCode = &e
	}
	if withOutput {
		s := out.String
		if out.Valid {
			r.Output = &s
		}
	}
	return r, nil
}

// Get returns one run with its output.
func (s *Store) Get(ctx context.Context, id int64) (Run, error) {
	row := s.db.R.QueryRowContext(ctx, `SELECT `+runCols+`, output FROM job_runs WHERE id = ?`, id)
	r, err := scanRun(row, true)
	if errors.Is(err, sql.ErrNoRows) {
		return r, ErrNotFound
	}
	if err != nil {
		return r, fmt.Errorf("get run %d: %w", id, err)
	}
	return r, nil
}

// List returns runs newest first (by id).
func (s *Store) List(ctx context.Context, f Filter) ([]Run, error) {
	q := `SELECT ` + runCols
	var where []string
	var args []any
	switch {
	case f.WithOutput && f.OutputMax > 0:
		q, args = q+`, substr(output, 1, ?)`, append(args, f.OutputMax)
	case f.WithOutput:
		q += `, output`
	}
	q += ` FROM job_runs`
	if f.Status != "" {
		where, args = append(where, "status = ?"), append(args, f.Status)
	}
	if f.AutomationID != "" {
		where, args = append(where, "automation_id = ?"), append(args, f.AutomationID)
	}
	if f.TriggerPrefix != "" {
		where, args = append(where, "substr(trigger, 1, ?) = ?"), append(args, len(f.TriggerPrefix), f.TriggerPrefix)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q += " ORDER BY id DESC LIMIT ?"
	args = append(args, f.Limit)
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list runs: %w", err)
	}
	defer rows.Close()
	out := []Run{}
	for rows.Next() {
		r, err := scanRun(rows, f.WithOutput)
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Recover marks every run left running or queued by a previous process as
// failed ("Server restarted"), with finished_at set so retention sees it.
func (s *Store) Recover(ctx context.Context, now int64) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `UPDATE job_runs SET status = 'failed', error = 'Server restarted', finished_at = ?
		WHERE status IN ('running', 'queued')`, now)
	if err != nil {
		return 0, fmt.Errorf("recover runs: %w", err)
	}
	return res.RowsAffected()
}

// Prune deletes runs finished before cutoff.
func (s *Store) Prune(ctx context.Context, cutoff int64) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM job_runs WHERE finished_at IS NOT NULL AND finished_at < ?`, cutoff)
	if err != nil {
		return 0, fmt.Errorf("prune runs: %w", err)
	}
	return res.RowsAffected()
}
