package auth

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/errs"
)

// ErrNotFound is returned by the store for a missing row (a domain
// not-found: errors.Is(err, errs.ErrNotFound) holds).
var ErrNotFound error = &errs.Error{Kind: errs.ErrNotFound, Msg: "not found"}

// User is a local account.
type User struct {
	Username   string
	Hash       string
	Role       string
	TOTPSecret string
	// CredVersion grows with every password or role change (issue 11 item 2).
	CredVersion int64
	// ID is the row's id: a user removed and added again is another user.
	ID int64
}

// Session is a persisted session token (only its hash is stored).
type Session struct {
	Hash      string
	Prefix    string
	Username  string
	Role      string
	CreatedAt int64
	ExpiresAt int64
	// CredVersion is the user's credential version the session was issued under.
	CredVersion int64
	// UserID is the id of the user row the credentials were checked against
	// (checked when issuing, not stored).
	UserID int64
	// Has2FA tells (when listed) whether the user has TOTP set up; not stored.
	Has2FA bool
}

// ErrStale refuses issuing a session for a user whose credentials changed
// (or who was removed) since the password was checked.
var ErrStale = errors.New("credentials changed")

// APIKey is an API key (only its hash is stored).
type APIKey struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Hash      string `json:"-"`
	Role      string `json:"role"`
	CreatedAt int64  `json:"created_at"`
	ExpiresAt *int64 `json:"expires_at"`
	LastUsed  *int64 `json:"last_used"`
}

// AuditRow is an audit entry as the profile shows it.
type AuditRow struct {
	Time     int64  `json:"time"`
	Username string `json:"username"`
	Action   string `json:"action"`
	Details  string `json:"details"`
	IP       string `json:"ip"`
}

// Store is the auth room's persistence. The SQLite implementation is below;
// a PostgreSQL one can satisfy the same interface.
type Store interface {
	Users(ctx context.Context) ([]User, error)
	User(ctx context.Context, username string) (User, error)
	AddUser(ctx context.Context, u User, now int64) error
	// RemoveUser deletes the user and their sessions in one transaction,
	// refusing (ErrLastAdmin) to remove the last admin.
	RemoveUser(ctx context.Context, username string) error
	// SetPassword replaces the hash and deletes the user's sessions, except keepHash.
	SetPassword(ctx context.Context, username, hash, keepHash string) error
	// UpgradeHash replaces oldHash by hash (same password, more work), only
	// while oldHash is still the user's hash.
	UpgradeHash(ctx context.Context, username, oldHash, hash string) error
	SetRole(ctx context.Context, username, role string) error
	SetTOTP(ctx context.Context, username, secret string) error

	// IssueSession stores a session in one transaction with the check that
	// the user still exists with s.Role and s.CredVersion (else ErrStale).
	IssueSession(ctx context.Context, s Session) error
	// Sessions lists the live sessions whose user and credential version are current.
	Sessions(ctx context.Context, now int64) ([]Session, error)
	DeleteSession(ctx context.Context, hash string) error
	PurgeSessions(ctx context.Context, now int64) (int64, error)

	APIKeys(ctx context.Context) ([]APIKey, error)
	APIKeyByHash(ctx context.Context, hash string) (APIKey, error)
	AddAPIKey(ctx context.Context, k APIKey) error
	DeleteAPIKey(ctx context.Context, id string) error
	TouchAPIKey(ctx context.Context, id string, now int64) error

	Preferences(ctx context.Context, username string) (string, int64, error)
	SavePreferences(ctx context.Context, username, js string, now int64) error
	DeletePreferences(ctx context.Context, username string) error

	Audit(ctx context.Context, username, action string, limit int) ([]AuditRow, error)
}

// ErrLastAdmin refuses removing or demoting the last admin (a domain
// conflict with the current state).
var ErrLastAdmin error = &errs.Error{Kind: errs.ErrConflict, Msg: "last admin"}

type sqlStore struct{ db *db.DB }

// NewStore returns the SQLite store.
func NewStore(d *db.DB) Store { return &sqlStore{db: d} }

func (s *sqlStore) Users(ctx context.Context) ([]User, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT username, hash, role, totp_secret, cred_version, id FROM users ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	defer rows.Close()
	var out []User
	for rows.Next() {
		var u User
		if err := rows.Scan(&u.Username, &u.Hash, &u.Role, &u.TOTPSecret, &u.CredVersion, &u.ID); err != nil {
			return nil, fmt.Errorf("list users: %w", err)
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

func (s *sqlStore) User(ctx context.Context, username string) (User, error) {
	var u User
	err := s.db.R.QueryRowContext(ctx, `SELECT username, hash, role, totp_secret, cred_version, id FROM users WHERE username = ?`, username).
		Scan(&u.Username, &u.Hash, &u.Role, &u.TOTPSecret, &u.CredVersion, &u.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return u, ErrNotFound
	}
	if err != nil {
		return u, fmt.Errorf("get user: %w", err)
	}
	return u, nil
}

// ErrExists is returned when adding a user (or linking an identity, or an
// API key id) that exists: a domain conflict (errors.Is(err,
// errs.ErrConflict) holds).
var ErrExists error = &errs.Error{Kind: errs.ErrConflict, Msg: "exists"}

func (s *sqlStore) AddUser(ctx context.Context, u User, now int64) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE username = ?`, u.Username).Scan(&n); err != nil {
			return fmt.Errorf("add user: %w", err)
		}
		if n > 0 {
			return ErrExists
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO users (username, hash, role, totp_secret, created_at) VALUES (?, ?, ?, ?, ?)`,
			u.Username, u.Hash, u.Role, u.TOTPSecret, now); err != nil {
			if errs.UniqueViolation(err) {
				return ErrExists
			}
			return fmt.Errorf("add user: %w", err)
		}
		return nil
	})
}

func lastAdmin(ctx context.Context, tx *sql.Tx, username string) (bool, error) {
	var role string
	if err := tx.QueryRowContext(ctx, `SELECT role FROM users WHERE username = ?`, username).Scan(&role); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return false, ErrNotFound
		}
		return false, err
	}
	if role != "admin" {
		return false, nil
	}
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'admin'`).Scan(&n); err != nil {
		return false, err
	}
	return n <= 1, nil
}

func (s *sqlStore) RemoveUser(ctx context.Context, username string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		last, err := lastAdmin(ctx, tx, username)
		if err != nil {
			return err
		}
		if last {
			return ErrLastAdmin
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE username = ?`, username); err != nil {
			return fmt.Errorf("remove user: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE username = ?`, username); err != nil {
			return fmt.Errorf("remove user sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM user_preferences WHERE username = ?`, username); err != nil {
			return fmt.Errorf("remove user preferences: %w", err)
		}
		return nil
	})
}

func (s *sqlStore) SetPassword(ctx context.Context, username, hash, keepHash string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE users SET hash = ?, cred_version = cred_version + 1 WHERE username = ?`, hash, username)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE username = ? AND token_hash <> ?`, username, keepHash); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		if keepHash != "" {
			// The session that changed the password lives on under the new version.
			if _, err := tx.ExecContext(ctx, `UPDATE tokens SET cred_version = (SELECT cred_version FROM users WHERE username = ?) WHERE token_hash = ?`,
				username, keepHash); err != nil {
				return fmt.Errorf("keep session: %w", err)
			}
		}
		return nil
	})
}

func (s *sqlStore) UpgradeHash(ctx context.Context, username, oldHash, hash string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE users SET hash = ? WHERE username = ? AND hash = ?`, hash, username, oldHash)
	if err != nil {
		return fmt.Errorf("upgrade hash: %w", err)
	}
	return nil
}

func (s *sqlStore) SetRole(ctx context.Context, username, role string) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		last, err := lastAdmin(ctx, tx, username)
		if err != nil {
			return err
		}
		if last && role != "admin" {
			return ErrLastAdmin
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = ?, cred_version = cred_version + 1 WHERE username = ?`, role, username); err != nil {
			return fmt.Errorf("set role: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM tokens WHERE username = ?`, username); err != nil {
			return fmt.Errorf("revoke sessions: %w", err)
		}
		return nil
	})
}

func (s *sqlStore) SetTOTP(ctx context.Context, username, secret string) error {
	res, err := s.db.W.ExecContext(ctx, `UPDATE users SET totp_secret = ? WHERE username = ?`, secret, username)
	if err != nil {
		return fmt.Errorf("set totp: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *sqlStore) IssueSession(ctx context.Context, x Session) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		var role string
		var ver, id int64
		err := tx.QueryRowContext(ctx, `SELECT role, cred_version, id FROM users WHERE username = ?`, x.Username).Scan(&role, &ver, &id)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrStale
		}
		if err != nil {
			return fmt.Errorf("issue session: %w", err)
		}
		if role != x.Role || ver != x.CredVersion || id != x.UserID {
			return ErrStale
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO tokens (token_hash, prefix, kind, username, role, created_at, expires_at, cred_version)
			VALUES (?, ?, 'session', ?, ?, ?, ?, ?)`, x.Hash, x.Prefix, x.Username, x.Role, x.CreatedAt, x.ExpiresAt, x.CredVersion); err != nil {
			return fmt.Errorf("add session: %w", err)
		}
		return nil
	})
}

func (s *sqlStore) Sessions(ctx context.Context, now int64) ([]Session, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT t.token_hash, t.prefix, t.username, t.role, t.created_at, t.expires_at, t.cred_version, u.totp_secret <> ''
		FROM tokens t JOIN users u ON u.username = t.username AND u.cred_version = t.cred_version AND u.role = t.role
		WHERE t.expires_at > ? ORDER BY t.created_at`, now)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var x Session
		if err := rows.Scan(&x.Hash, &x.Prefix, &x.Username, &x.Role, &x.CreatedAt, &x.ExpiresAt, &x.CredVersion, &x.Has2FA); err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, x)
	}
	return out, rows.Err()
}

func (s *sqlStore) DeleteSession(ctx context.Context, hash string) error {
	if _, err := s.db.W.ExecContext(ctx, `DELETE FROM tokens WHERE token_hash = ?`, hash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

func (s *sqlStore) PurgeSessions(ctx context.Context, now int64) (int64, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM tokens WHERE expires_at <= ?`, now)
	if err != nil {
		return 0, fmt.Errorf("purge sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func scanKey(sc interface{ Scan(...any) error }) (APIKey, error) {
	var k APIKey
	var exp, used sql.NullInt64
	if err := sc.Scan(&k.ID, &k.Name, &k.Hash, &k.Role, &k.CreatedAt, &exp, &used); err != nil {
		return k, err
	}
	if exp.Valid {
		k.ExpiresAt = &exp.Int64
	}
	if used.Valid {
		k.LastUsed = &used.Int64
	}
	return k, nil
}

const keyCols = `id, name, key_hash, role, created_at, expires_at, last_used`

func (s *sqlStore) APIKeys(ctx context.Context) ([]APIKey, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+keyCols+` FROM api_keys ORDER BY created_at DESC, rowid DESC`)
	if err != nil {
		return nil, fmt.Errorf("list api keys: %w", err)
	}
	defer rows.Close()
	out := []APIKey{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("list api keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

func (s *sqlStore) APIKeyByHash(ctx context.Context, hash string) (APIKey, error) {
	k, err := scanKey(s.db.R.QueryRowContext(ctx, `SELECT `+keyCols+` FROM api_keys WHERE key_hash = ?`, hash))
	if errors.Is(err, sql.ErrNoRows) {
		return k, ErrNotFound
	}
	if err != nil {
		return k, fmt.Errorf("get api key: %w", err)
	}
	return k, nil
}

func (s *sqlStore) AddAPIKey(ctx context.Context, k APIKey) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO api_keys (id, name, key_hash, role, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		k.ID, k.Name, k.Hash, k.Role, k.CreatedAt, k.ExpiresAt)
	if errs.UniqueViolation(err) {
		return ErrExists
	}
	if err != nil {
		return fmt.Errorf("add api key: %w", err)
	}
	return nil
}

func (s *sqlStore) DeleteAPIKey(ctx context.Context, id string) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM api_keys WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete api key: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

func (s *sqlStore) TouchAPIKey(ctx context.Context, id string, now int64) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE api_keys SET last_used = ? WHERE id = ?`, now, id)
	return err
}

func (s *sqlStore) Preferences(ctx context.Context, username string) (string, int64, error) {
	var js string
	var at int64
	err := s.db.R.QueryRowContext(ctx, `SELECT preferences_json, updated_at FROM user_preferences WHERE username = ?`, username).Scan(&js, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return "", 0, ErrNotFound
	}
	if err != nil {
		return "", 0, fmt.Errorf("get preferences: %w", err)
	}
	return js, at, nil
}

func (s *sqlStore) SavePreferences(ctx context.Context, username, js string, now int64) error {
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO user_preferences (username, preferences_json, updated_at) VALUES (?, ?, ?)`+
		s.db.SQL().Upsert([]string{"username"}, "preferences_json = excluded.preferences_json", "updated_at = excluded.updated_at"),
		username, js, now)
	if err != nil {
		return fmt.Errorf("save preferences: %w", err)
	}
	return nil
}

func (s *sqlStore) DeletePreferences(ctx context.Context, username string) error {
	_, err := s.db.W.ExecContext(ctx, `DELETE FROM user_preferences WHERE username = ?`, username)
	if err != nil {
		return fmt.Errorf("delete preferences: %w", err)
	}
	return nil
}

func (s *sqlStore) Audit(ctx context.Context, username, action string, limit int) ([]AuditRow, error) {
	q := `SELECT timestamp, username, action, details, ip FROM audit WHERE username = ?`
	args := []any{username}
	if action != "" {
		q += ` AND action = ?`
		args = append(args, action)
	}
	q += ` ORDER BY timestamp DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("read audit: %w", err)
	}
	defer rows.Close()
	out := []AuditRow{}
	for rows.Next() {
		var a AuditRow
		if err := rows.Scan(&a.Time, &a.Username, &a.Action, &a.Details, &a.IP); err != nil {
			return nil, fmt.Errorf("read audit: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}
