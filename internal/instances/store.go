package instances

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/noba-go/noba/internal/db"
)

// ErrNotFound and ErrExists are the store's domain errors.
var (
	ErrNotFound = errors.New("instance not found")
	ErrExists   = errors.New("instance already exists")
)

// Store is the SQL of the room. With a Cipher, the secret values of
// auth_config are sealed in the database.
type Store struct {
	db     *db.DB
	cipher Cipher
}

// NewStore builds the store on d; c may be nil (secrets stored as given).
func NewStore(d *db.DB, c Cipher) *Store { return &Store{db: d, cipher: c} }

// encode returns the stored JSON of auth_config and tags.
func (s *Store) encode(in Instance) (string, string, error) {
	sealed, err := sealConfig(s.cipher, in.AuthConfig)
	if err != nil {
		return "", "", fmt.Errorf("seal credentials: %w", err)
	}
	auth, _ := json.Marshal(sealed)
	tags, _ := json.Marshal(in.Tags)
	return string(auth), string(tags), nil
}

func (s *Store) scan(sc scanner) (Instance, error) {
	in, err := scanInstance(sc)
	if err == nil {
		in.AuthConfig = openConfig(s.cipher, in.AuthConfig)
	}
	return in, err
}

const cols = `id, category, platform, url, auth_config, site, tags, enabled, health_status, health_error, last_checked,
	last_seen, created_at, verify_ssl, ca_bundle`

type scanner interface{ Scan(...any) error }

func scanInstance(s scanner) (Instance, error) {
	var in Instance
	var auth, tags string
	var site sql.NullString
	var checked, seen sql.NullInt64
	var enabled, verify int
	if err := s.Scan(&in.ID, &in.Category, &in.Platform, &in.URL, &auth, &site, &tags, &enabled, &in.HealthStatus,
		&in.HealthError, &checked, &seen, &in.CreatedAt, &verify, &in.CABundle); err != nil {
		return in, err
	}
	in.Enabled, in.VerifySSL = enabled != 0, verify != 0
	if site.Valid {
		in.Site = &site.String
	}
	if checked.Valid {
		in.LastChecked = &checked.Int64
	}
	if seen.Valid {
		in.LastSeen = &seen.Int64
	}
	if err := json.Unmarshal([]byte(auth), &in.AuthConfig); err != nil || in.AuthConfig == nil {
		in.AuthConfig = map[string]any{}
	}
	if err := json.Unmarshal([]byte(tags), &in.Tags); err != nil || in.Tags == nil {
		in.Tags = []string{}
	}
	return in, nil
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Filter selects instances by exact category and site ("" matches any).
type Filter struct{ Category, Site string }

// List returns the instances matching f, ordered by id.
func (s *Store) List(ctx context.Context, f Filter) ([]Instance, error) {
	q := `SELECT ` + cols + ` FROM integration_instances`
	var where []string
	var args []any
	if f.Category != "" {
		where, args = append(where, "category = ?"), append(args, f.Category)
	}
	if f.Site != "" {
		where, args = append(where, "site = ?"), append(args, f.Site)
	}
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	return s.query(ctx, q+" ORDER BY id", args...)
}

func (s *Store) query(ctx context.Context, q string, args ...any) ([]Instance, error) {
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	defer rows.Close()
	out := []Instance{}
	for rows.Next() {
		in, err := s.scan(rows)
		if err != nil {
			return nil, fmt.Errorf("scan instance: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// Get returns one instance (ErrNotFound when there is none).
func (s *Store) Get(ctx context.Context, id string) (Instance, error) {
	in, err := s.scan(s.db.R.QueryRowContext(ctx, `SELECT `+cols+` FROM integration_instances WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return in, ErrNotFound
	}
	if err != nil {
		return in, fmt.Errorf("get instance: %w", err)
	}
	return in, nil
}

// Create inserts in (ErrExists when the id is taken).
func (s *Store) Create(ctx context.Context, in Instance) error {
	auth, tags, err := s.encode(in)
	if err != nil {
		return err
	}
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM integration_instances WHERE id = ?`, in.ID).Scan(&n); err != nil {
			return fmt.Errorf("create instance: %w", err)
		}
		if n > 0 {
			return ErrExists
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO integration_instances (id, category, platform, url, auth_config, site, tags,
			enabled, created_at, verify_ssl, ca_bundle) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			in.ID, in.Category, in.Platform, in.URL, auth, in.Site, tags, b2i(in.Enabled), in.CreatedAt,
			b2i(in.VerifySSL), in.CABundle)
		if err != nil {
			return fmt.Errorf("create instance: %w", err)
		}
		return nil
	})
}

// Update applies fn to the stored instance id in one transaction and stores the result.
func (s *Store) Update(ctx context.Context, id string, fn func(*Instance) error) (Instance, error) {
	var out Instance
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		in, err := s.scan(tx.QueryRowContext(ctx, `SELECT `+cols+` FROM integration_instances WHERE id = ?`, id))
		if errors.Is(err, sql.ErrNoRows) {
			return ErrNotFound
		}
		if err != nil {
			return fmt.Errorf("update instance: %w", err)
		}
		if err := fn(&in); err != nil {
			return err
		}
		auth, tags, err := s.encode(in)
		if err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE integration_instances SET category = ?, platform = ?, url = ?, auth_config = ?,
			site = ?, tags = ?, enabled = ?, verify_ssl = ?, ca_bundle = ? WHERE id = ?`,
			in.Category, in.Platform, in.URL, auth, in.Site, tags, b2i(in.Enabled), b2i(in.VerifySSL),
			in.CABundle, id)
		if err != nil {
			return fmt.Errorf("update instance: %w", err)
		}
		out = in
		return nil
	})
	return out, err
}

// Delete removes an instance and its group memberships (ErrNotFound when there is none).
func (s *Store) Delete(ctx context.Context, id string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM integration_groups WHERE instance_id = ?`, id); err != nil {
			return fmt.Errorf("delete instance: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM integration_instances WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete instance: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// SetHealth records the outcome of a health check.
func (s *Store) SetHealth(ctx context.Context, id, status, errText string, at int64) error {
	q := `UPDATE integration_instances SET health_status = ?, health_error = ?, last_checked = ? WHERE id = ?`
	args := []any{status, errText, at, id}
	if status == "online" {
		q = `UPDATE integration_instances SET health_status = ?, health_error = ?, last_checked = ?, last_seen = ? WHERE id = ?`
		args = []any{status, errText, at, at, id}
	}
	if _, err := s.db.W.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("set health: %w", err)
	}
	return nil
}

// Groups returns the distinct group names, sorted.
func (s *Store) Groups(ctx context.Context) ([]string, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT DISTINCT group_name FROM integration_groups ORDER BY group_name`)
	if err != nil {
		return nil, fmt.Errorf("list groups: %w", err)
	}
	defer rows.Close()
	out := []string{}
	for rows.Next() {
		var g string
		if err := rows.Scan(&g); err != nil {
			return nil, fmt.Errorf("scan group: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Members returns the instances of group, ordered by id.
func (s *Store) Members(ctx context.Context, group string) ([]Instance, error) {
	return s.query(ctx, `SELECT `+prefixed("i.")+` FROM integration_instances i JOIN integration_groups g ON g.instance_id = i.id
		WHERE g.group_name = ? ORDER BY i.id`, group)
}

func prefixed(p string) string {
	parts := strings.Split(cols, ",")
	for i, c := range parts {
		parts[i] = p + strings.TrimSpace(c)
	}
	return strings.Join(parts, ", ")
}

// AddMember adds an instance to a group (idempotent; ErrNotFound for an unknown instance).
func (s *Store) AddMember(ctx context.Context, group, id string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM integration_instances WHERE id = ?`, id).Scan(&n); err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		if n == 0 {
			return ErrNotFound
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO integration_groups (group_name, instance_id) VALUES (?, ?)
			ON CONFLICT (group_name, instance_id) DO NOTHING`, group, id)
		if err != nil {
			return fmt.Errorf("add member: %w", err)
		}
		return nil
	})
}

// RemoveMember removes an instance from a group (idempotent).
func (s *Store) RemoveMember(ctx context.Context, group, id string) error {
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM integration_groups WHERE group_name = ? AND instance_id = ?`, group, id); err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	return nil
}
