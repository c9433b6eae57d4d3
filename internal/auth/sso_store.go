package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/noba-go/noba/internal/errs"
)

// Link is one stored single-sign-on link: the external identity (provider,
// subject) signs in as the local user.
type Link struct {
	Username string
	Provider string
	Subject  string
	Email    string
	Name     string
	LinkedAt int64
}

// linkStore keeps the single-sign-on links (table linked_providers). The
// SQL store implements it; a store without it leaves SSO unavailable.
type linkStore interface {
	LinkByIdentity(ctx context.Context, provider, subject string) (Link, error)
	Links(ctx context.Context, username string) ([]Link, error)
	// SaveLink links the identity to the user, replacing the user's earlier
	// link to that provider; ErrExists when the identity is linked to
	// another user.
	SaveLink(ctx context.Context, l Link) error
	DeleteLink(ctx context.Context, username, provider string) (bool, error)
}

func (s *sqlStore) LinkByIdentity(ctx context.Context, provider, subject string) (Link, error) {
	var l Link
	err := s.db.R.QueryRowContext(ctx, `SELECT u.username, l.provider, l.subject, l.provider_email, l.provider_name, l.linked_at
		FROM linked_providers l JOIN users u ON u.id = l.user_id WHERE l.provider = ? AND l.subject = ?`, provider, subject).
		Scan(&l.Username, &l.Provider, &l.Subject, &l.Email, &l.Name, &l.LinkedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return l, ErrNotFound
	}
	if err != nil {
		return l, fmt.Errorf("get link: %w", err)
	}
	return l, nil
}

func (s *sqlStore) Links(ctx context.Context, username string) ([]Link, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT u.username, l.provider, l.subject, l.provider_email, l.provider_name, l.linked_at
		FROM linked_providers l JOIN users u ON u.id = l.user_id WHERE u.username = ? ORDER BY l.provider`, username)
	if err != nil {
		return nil, fmt.Errorf("list links: %w", err)
	}
	defer rows.Close()
	var out []Link
	for rows.Next() {
		var l Link
		if err := rows.Scan(&l.Username, &l.Provider, &l.Subject, &l.Email, &l.Name, &l.LinkedAt); err != nil {
			return nil, fmt.Errorf("list links: %w", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

func (s *sqlStore) SaveLink(ctx context.Context, l Link) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var uid int64
		if err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE username = ?`, l.Username).Scan(&uid); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return ErrNotFound
			}
			return fmt.Errorf("link user: %w", err)
		}
		var other int64
		err := tx.QueryRowContext(ctx, `SELECT user_id FROM linked_providers WHERE provider = ? AND subject = ?`, l.Provider, l.Subject).Scan(&other)
		switch {
		case err == nil && other != uid:
			return ErrExists
		case err != nil && !errors.Is(err, sql.ErrNoRows):
			return fmt.Errorf("link lookup: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM linked_providers WHERE user_id = ? AND provider = ?`, uid, l.Provider); err != nil {
			return fmt.Errorf("link replace: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO linked_providers (user_id, provider, subject, provider_email, provider_name, linked_at)
			VALUES (?, ?, ?, ?, ?, ?)`, uid, l.Provider, l.Subject, l.Email, l.Name, l.LinkedAt); err != nil {
			if errs.UniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("link insert: %w", err)
		}
		return nil
	})
}

func (s *sqlStore) DeleteLink(ctx context.Context, username, provider string) (bool, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM linked_providers WHERE provider = ?
		AND user_id = (SELECT id FROM users WHERE username = ?)`, provider, username)
	if err != nil {
		return false, fmt.Errorf("unlink: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}
