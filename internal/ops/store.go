package ops

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/noba-go/noba/internal/db"
)

// Verification is one backup verification.
type Verification struct {
	ID               int64          `json:"id"`
	BackupPath       string         `json:"backup_path"`
	Hostname         string         `json:"hostname"`
	VerificationType string         `json:"verification_type"`
	Status           string         `json:"status"`
	Details          map[string]any `json:"details"`
	VerifiedAt       int64          `json:"verified_at"`
}

// Status321 is the 3-2-1 tracking of one backup.
type Status321 struct {
	ID           int64    `json:"id"`
	BackupName   string   `json:"backup_name"`
	Copies       int      `json:"copies"`
	MediaTypes   []string `json:"media_types"`
	HasOffsite   bool     `json:"has_offsite"`
	LastVerified *int64   `json:"last_verified"`
	UpdatedAt    int64    `json:"updated_at"`
}

// Patch321 is a partial update: nil fields keep their stored values.
type Patch321 struct {
	Copies       *int
	MediaTypes   *[]string
	HasOffsite   *bool
	LastVerified *int64
}

// Store keeps backup verifications and 3-2-1 tracking.
type Store struct{ db *db.DB }

// Verifications lists verifications, newest first.
func (s *Store) Verifications(ctx context.Context, host string, limit int) ([]Verification, error) {
	q := `SELECT id, backup_path, hostname, verification_type, status, details, verified_at FROM backup_verifications`
	args := []any{}
	if host != "" {
		q += ` WHERE hostname = ?`
		args = append(args, host)
	}
	q += ` ORDER BY verified_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list verifications: %w", err)
	}
	defer rows.Close()
	out := []Verification{}
	for rows.Next() {
		var v Verification
		var details sql.NullString
		if err := rows.Scan(&v.ID, &v.BackupPath, &v.Hostname, &v.VerificationType, &v.Status, &details, &v.VerifiedAt); err != nil {
			return nil, fmt.Errorf("scan verification: %w", err)
		}
		if details.Valid {
			_ = json.Unmarshal([]byte(details.String), &v.Details)
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// AddVerification records a requested verification (status pending)
// unless its result is already stored.
func (s *Store) AddVerification(ctx context.Context, v Verification, commandID string) error {
	// The agent's result may arrive (and be stored) before this row is
	// written; the unique (command_id, hostname) key keeps that result.
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO backup_verifications (backup_path, hostname, verification_type, status, details, command_id, verified_at)
		VALUES (?, ?, ?, ?, NULL, ?, ?) ON CONFLICT (command_id, hostname) WHERE command_id <> '' DO NOTHING`,
		v.BackupPath, v.Hostname, v.VerificationType, v.Status, commandID, v.VerifiedAt)
	if err != nil {
		return fmt.Errorf("add verification: %w", err)
	}
	return nil
}

// CompleteVerification stores a result on the row of its command, or as a
// new row when no request is known (a verification run by other means).
func (s *Store) CompleteVerification(ctx context.Context, commandID, host, path, typ, status, details string, at int64) error {
	if commandID == "" {
		if path == "" {
			return nil
		}
		if typ == "" {
			typ = "checksum"
		}
		_, err := s.db.W.ExecContext(ctx, `INSERT INTO backup_verifications (backup_path, hostname, verification_type, status, details, command_id, verified_at)
			VALUES (?, ?, ?, ?, ?, '', ?)`, path, host, typ, status, details, at)
		if err != nil {
			return fmt.Errorf("insert verification: %w", err)
		}
		return nil
	}
	if path == "" {
		// Nothing to create a row from: only a request's row can take it.
		_, err := s.db.W.ExecContext(ctx, `UPDATE backup_verifications SET status = ?, details = ?, verified_at = ?
			WHERE command_id = ? AND hostname = ?`, status, details, at, commandID, host)
		if err != nil {
			return fmt.Errorf("complete verification: %w", err)
		}
		return nil
	}
	if typ == "" {
		typ = "checksum"
	}
	// One statement, so a request's pending row written at the same moment
	// cannot end up beside the result.
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO backup_verifications (backup_path, hostname, verification_type, status, details, command_id, verified_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (command_id, hostname) WHERE command_id <> ''
		DO UPDATE SET status = excluded.status, details = excluded.details, verified_at = excluded.verified_at`,
		path, host, typ, status, details, commandID, at)
	if err != nil {
		return fmt.Errorf("complete verification: %w", err)
	}
	return nil
}

// List321 lists the 3-2-1 tracking rows by name.
func (s *Store) List321(ctx context.Context) ([]Status321, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, backup_name, copies, media_types, has_offsite, last_verified, updated_at
		FROM backup_321_status ORDER BY backup_name`)
	if err != nil {
		return nil, fmt.Errorf("list 321: %w", err)
	}
	defer rows.Close()
	out := []Status321{}
	for rows.Next() {
		var st Status321
		var media string
		var off int
		var lv sql.NullInt64
		if err := rows.Scan(&st.ID, &st.BackupName, &st.Copies, &media, &off, &lv, &st.UpdatedAt); err != nil {
			return nil, fmt.Errorf("scan 321: %w", err)
		}
		_ = json.Unmarshal([]byte(media), &st.MediaTypes)
		if st.MediaTypes == nil {
			st.MediaTypes = []string{}
		}
		st.HasOffsite = off != 0
		if lv.Valid {
			v := lv.Int64
			st.LastVerified = &v
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// Upsert321 applies a partial update in one transaction and returns the row id.
func (s *Store) Upsert321(ctx context.Context, name string, p Patch321, now int64) (int64, error) {
	var id int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var copies, off int
		var media string
		var lv sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT id, copies, media_types, has_offsite, last_verified FROM backup_321_status WHERE backup_name = ?`, name).
			Scan(&id, &copies, &media, &off, &lv)
		exists := err == nil
		if err != nil && err != sql.ErrNoRows {
			return err
		}
		if !exists {
			media = "[]"
		}
		if p.Copies != nil {
			copies = *p.Copies
		}
		if p.MediaTypes != nil {
			b, _ := json.Marshal(*p.MediaTypes)
			media = string(b)
		}
		if p.HasOffsite != nil {
			off = 0
			if *p.HasOffsite {
				off = 1
			}
		}
		if p.LastVerified != nil {
			lv = sql.NullInt64{Int64: *p.LastVerified, Valid: true}
		}
		if exists {
			_, err = tx.ExecContext(ctx, `UPDATE backup_321_status SET copies = ?, media_types = ?, has_offsite = ?, last_verified = ?, updated_at = ? WHERE id = ?`,
				copies, media, off, lv, now, id)
			return err
		}
		var newID int64
		err = tx.QueryRowContext(ctx, `INSERT INTO backup_321_status (backup_name, copies, media_types, has_offsite, last_verified, updated_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			name, copies, media, off, lv, now).Scan(&newID)
		if err != nil {
			return err
		}
		id = newID
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("upsert 321: %w", err)
	}
	return id, nil
}
