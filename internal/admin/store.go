package admin

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/noba-go/noba/internal/db"
)

// Entry is one audit log row.
type Entry struct {
	Time     int64  `json:"time"`
	Username string `json:"username"`
	Action   string `json:"action"`
	Details  string `json:"details"`
	IP       string `json:"ip"`
}

// AuditQuery filters the audit log.
type AuditQuery struct {
	Limit    int
	Username string
	Action   string
	From, To int64 // inclusive unix bounds; 0 = open
}

// ChangeSet is one settings save in the changelog.
type ChangeSet struct {
	Timestamp int64           `json:"timestamp"`
	Username  string          `json:"username"`
	Changes   json.RawMessage `json:"changes"`
}

// Store is the admin room's persistence.
type Store interface {
	AddAudit(ctx context.Context, e Entry) error
	Audit(ctx context.Context, q AuditQuery) ([]Entry, error)
	PruneAudit(ctx context.Context, before int64) (int64, error)
	AddChanges(ctx context.Context, ts int64, username string, changes []byte) error
	Changes(ctx context.Context, limit int) ([]ChangeSet, error)
}

type sqlStore struct{ db *db.DB }

// NewStore returns the SQLite store.
func NewStore(d *db.DB) Store { return &sqlStore{db: d} }

func (s *sqlStore) AddAudit(ctx context.Context, e Entry) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO audit (timestamp, username, action, details, ip) VALUES (?, ?, ?, ?, ?)`,
		e.Time, e.Username, e.Action, e.Details, e.IP)
	if err != nil {
		return fmt.Errorf("add audit: %w", err)
	}
	return nil
}

func (s *sqlStore) Audit(ctx context.Context, q AuditQuery) ([]Entry, error) {
	sqlq := `SELECT timestamp, username, action, details, ip FROM audit WHERE 1=1`
	var args []any
	if q.Username != "" {
		sqlq += ` AND username = ?`
		args = append(args, q.Username)
	}
	if q.Action != "" {
		sqlq += ` AND action = ?`
		args = append(args, q.Action)
	}
	if q.From > 0 {
		sqlq += ` AND timestamp >= ?`
		args = append(args, q.From)
	}
	if q.To > 0 {
		sqlq += ` AND timestamp <= ?`
		args = append(args, q.To)
	}
	sqlq += ` ORDER BY timestamp DESC, id DESC LIMIT ?`
	args = append(args, q.Limit)
	rows, err := s.db.R.QueryContext(ctx, sqlq, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	out := []Entry{}
	for rows.Next() {
		var e Entry
		if err := rows.Scan(&e.Time, &e.Username, &e.Action, &e.Details, &e.IP); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s *sqlStore) PruneAudit(ctx context.Context, before int64) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM audit WHERE timestamp < ?`, before)
	if err != nil {
		return 0, fmt.Errorf("prune audit: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (s *sqlStore) AddChanges(ctx context.Context, ts int64, username string, changes []byte) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO settings_changes (timestamp, username, changes) VALUES (?, ?, ?)`, ts, username, string(changes))
	if err != nil {
		return fmt.Errorf("add settings changes: %w", err)
	}
	return nil
}

func (s *sqlStore) Changes(ctx context.Context, limit int) ([]ChangeSet, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT timestamp, username, changes FROM settings_changes ORDER BY timestamp DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("read changelog: %w", err)
	}
	defer rows.Close()
	out := []ChangeSet{}
	for rows.Next() {
		var c ChangeSet
		var raw string
		if err := rows.Scan(&c.Timestamp, &c.Username, &raw); err != nil {
			return nil, fmt.Errorf("read changelog: %w", err)
		}
		c.Changes = json.RawMessage(raw)
		out = append(out, c)
	}
	return out, rows.Err()
}

// AddAudits writes es in one transaction (the Auditor's batches).
func (s *sqlStore) AddAudits(ctx context.Context, es []Entry) error {
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		for _, e := range es {
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit (timestamp, username, action, details, ip) VALUES (?, ?, ?, ?, ?)`,
				e.Time, e.Username, e.Action, e.Details, e.IP); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add audit: %w", err)
	}
	return nil
}
