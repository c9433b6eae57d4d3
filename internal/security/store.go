package security

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/noba-go/noba/internal/db"
)

// Store is the room's persistence.
type Store interface {
	// Record inserts a score row and replaces host's findings, in one transaction.
	Record(ctx context.Context, host string, score int, fs []Finding, at int64) error
	// Latest lists each host's latest scan, by hostname.
	Latest(ctx context.Context) ([]HostScore, error)
	// Findings lists findings newest first.
	Findings(ctx context.Context, host, severity string, limit int) ([]StoredFinding, error)
	// History lists scans newest first.
	History(ctx context.Context, host string, limit int) ([]HistoryRow, error)
}

type sqlStore struct{ d *db.DB }

// NewStore returns the SQLite store.
func NewStore(d *db.DB) Store { return &sqlStore{d: d} }

func (s *sqlStore) Record(ctx context.Context, host string, score int, fs []Finding, at int64) error {
	b, err := json.Marshal(fs)
	if err != nil {
		return fmt.Errorf("record scan: %w", err)
	}
	err = s.d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO security_scores (hostname, score, scanned_at, findings_json) VALUES (?, ?, ?, ?)`,
			host, score, at, string(b)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM security_findings WHERE hostname = ?`, host); err != nil {
			return err
		}
		for _, f := range fs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO security_findings (hostname, category, severity, description, remediation, score, found_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`, host, f.Category, f.Severity, f.Description, f.Remediation, score, at); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record scan: %w", err)
	}
	return nil
}

func (s *sqlStore) Latest(ctx context.Context) ([]HostScore, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT s.hostname, s.score, s.scanned_at, s.findings_json FROM security_scores s
		WHERE s.id = (SELECT id FROM security_scores x WHERE x.hostname = s.hostname ORDER BY scanned_at DESC, id DESC LIMIT 1)
		ORDER BY s.hostname`)
	if err != nil {
		return nil, fmt.Errorf("latest scans: %w", err)
	}
	defer rows.Close()
	out := []HostScore{}
	for rows.Next() {
		var h HostScore
		var js string
		if err := rows.Scan(&h.Hostname, &h.Score, &h.ScannedAt, &js); err != nil {
			return nil, fmt.Errorf("latest scans: %w", err)
		}
		if err := json.Unmarshal([]byte(js), &h.Findings); err != nil || h.Findings == nil {
			h.Findings = []Finding{}
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *sqlStore) Findings(ctx context.Context, host, severity string, limit int) ([]StoredFinding, error) {
	var where []string
	var args []any
	if host != "" {
		where, args = append(where, "hostname = ?"), append(args, host)
	}
	if severity != "" {
		where, args = append(where, "severity = ?"), append(args, severity)
	}
	q := `SELECT id, hostname, category, severity, description, remediation, score, found_at, resolved_at FROM security_findings`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY found_at DESC, id DESC LIMIT ?"
	rows, err := s.d.R.QueryContext(ctx, q, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("findings: %w", err)
	}
	defer rows.Close()
	out := []StoredFinding{}
	for rows.Next() {
		var f StoredFinding
		var res sql.NullInt64
		if err := rows.Scan(&f.ID, &f.Hostname, &f.Category, &f.Severity, &f.Description, &f.Remediation, &f.Score, &f.FoundAt, &res); err != nil {
			return nil, fmt.Errorf("findings: %w", err)
		}
		if res.Valid {
			v := res.Int64
			f.ResolvedAt = &v
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func (s *sqlStore) History(ctx context.Context, host string, limit int) ([]HistoryRow, error) {
	q := `SELECT hostname, score, scanned_at FROM security_scores`
	var args []any
	if host != "" {
		q, args = q+" WHERE hostname = ?", append(args, host)
	}
	rows, err := s.d.R.QueryContext(ctx, q+" ORDER BY scanned_at DESC, id DESC LIMIT ?", append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("score history: %w", err)
	}
	defer rows.Close()
	out := []HistoryRow{}
	for rows.Next() {
		var h HistoryRow
		if err := rows.Scan(&h.Hostname, &h.Score, &h.ScannedAt); err != nil {
			return nil, fmt.Errorf("score history: %w", err)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}
