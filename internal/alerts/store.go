package alerts

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/errs"
)

// AlertRecord is one alert episode (alert_history row).
type AlertRecord struct {
	ID         int64  `json:"id"`
	RuleID     string `json:"rule_id"`
	Source     string `json:"source"`
	Timestamp  int64  `json:"timestamp"`
	Severity   string `json:"severity"`
	Message    string `json:"message"`
	ResolvedAt *int64 `json:"resolved_at"`
}

// HistoryQuery filters the alert history.
type HistoryQuery struct {
	Limit    int
	RuleID   string
	From, To int64
}

// Incident is the incident recorded with an episode.
type Incident struct {
	Severity, Source, Title, Details string
	// Resolved closes the incident at once (auto_close_alerts).
	Resolved bool
}

// InAppNotification is one in-app notification.
type InAppNotification struct {
	ID        int64   `json:"id"`
	Timestamp int64   `json:"timestamp"`
	Level     string  `json:"level"`
	Title     string  `json:"title"`
	Message   string  `json:"message"`
	Read      bool    `json:"read"`
	Username  *string `json:"username"`
}

// MaintenanceWindow is a maintenance window (spec 30 §1.10).
type MaintenanceWindow struct {
	ID               int64   `json:"id"`
	Name             string  `json:"name"`
	Schedule         *string `json:"schedule"`
	DurationMin      int     `json:"duration_min"`
	OneOffStart      *int64  `json:"one_off_start"`
	OneOffEnd        *int64  `json:"one_off_end"`
	SuppressAlerts   bool    `json:"suppress_alerts"`
	OverrideAutonomy *string `json:"override_autonomy"`
	AutoCloseAlerts  bool    `json:"auto_close_alerts"`
	Enabled          bool    `json:"enabled"`
	CreatedBy        string  `json:"created_by"`
	CreatedAt        int64   `json:"created_at"`
}

// Store is the alerts room's persistence.
type Store interface {
	// OpenEpisode inserts an open alert_history row (and the incident, when
	// inc is not nil) in one transaction.
	OpenEpisode(ctx context.Context, ruleID, source string, at int64, severity, message string, inc *Incident) (int64, error)
	// ResolveEpisodes closes every open row of ruleID and its incidents.
	ResolveEpisodes(ctx context.Context, ruleID string, at int64) error
	// OpenEpisodes lists the open rows, oldest first.
	OpenEpisodes(ctx context.Context) ([]AlertRecord, error)
	// History lists rows newest first.
	History(ctx context.Context, q HistoryQuery) ([]AlertRecord, error)
	// Intervals lists the episodes of ruleID overlapping [from, to], clipped.
	Intervals(ctx context.Context, ruleID string, from, to int64) ([][2]int64, error)

	// AddNotification adds an in-app notification (username "" = everyone).
	AddNotification(ctx context.Context, at int64, username, level, title, message string) (int64, error)
	// Notifications lists what username sees, newest first, and its unread count.
	Notifications(ctx context.Context, username string, unreadOnly bool, limit int) ([]InAppNotification, int, error)
	// MarkRead marks one visible notification read for username.
	MarkRead(ctx context.Context, id int64, username string, at int64) error
	// MarkAllRead marks every visible notification read for username.
	MarkAllRead(ctx context.Context, username string, at int64) error

	// Windows lists the maintenance windows, newest first.
	Windows(ctx context.Context) ([]MaintenanceWindow, error)
	// MaintenanceWindow reads one window (NotFound "Window not found").
	MaintenanceWindow(ctx context.Context, id int64) (MaintenanceWindow, error)
	// CreateWindow inserts a window and returns its id.
	CreateWindow(ctx context.Context, w MaintenanceWindow) (int64, error)
	// SaveWindow updates a window.
	SaveWindow(ctx context.Context, w MaintenanceWindow) error
	// DeleteWindow deletes a window.
	DeleteWindow(ctx context.Context, id int64) error

	// Prune deletes old notifications and resolved episodes.
	Prune(ctx context.Context, notificationsBefore, historyBefore int64) error
}

type sqlStore struct{ d *db.DB }

// NewStore returns the SQLite store.
func NewStore(d *db.DB) Store { return &sqlStore{d: d} }

func (s *sqlStore) OpenEpisode(ctx context.Context, ruleID, source string, at int64, severity, message string, inc *Incident) (int64, error) {
	var id int64
	err := s.d.Tx(ctx, func(tx *sql.Tx) error {
		var newID int64
		err := tx.QueryRowContext(ctx, `INSERT INTO alert_history (rule_id, source, timestamp, severity, message) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			ruleID, source, at, severity, message).Scan(&newID)
		if err != nil {
			return err
		}
		id = newID
		if inc != nil {
			var resolved int64
			if inc.Resolved {
				resolved = at
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO incidents (timestamp, severity, source, title, details, resolved_at, auto_generated) VALUES (?, ?, ?, ?, ?, ?, 1)`,
				at, inc.Severity, inc.Source, inc.Title, inc.Details, resolved); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("open alert episode: %w", err)
	}
	return id, nil
}

// ResolveEpisodes closes the open rows of ruleID and the open incidents
// recorded with them (same start time and title).
func (s *sqlStore) ResolveEpisodes(ctx context.Context, ruleID string, at int64) error {
	err := s.d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE incidents SET resolved_at = ? WHERE resolved_at = 0 AND id IN (
			SELECT i.id FROM incidents i JOIN alert_history h ON h.timestamp = i.timestamp AND h.message = i.title AND h.source = i.source
			WHERE h.rule_id = ? AND h.resolved_at IS NULL)`, at, ruleID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE alert_history SET resolved_at = ? WHERE rule_id = ? AND resolved_at IS NULL`, at, ruleID)
		return err
	})
	if err != nil {
		return fmt.Errorf("resolve alert episodes: %w", err)
	}
	return nil
}

func scanHistory(rows *sql.Rows) ([]AlertRecord, error) {
	defer rows.Close()
	out := []AlertRecord{}
	for rows.Next() {
		var h AlertRecord
		var res sql.NullInt64
		if err := rows.Scan(&h.ID, &h.RuleID, &h.Source, &h.Timestamp, &h.Severity, &h.Message, &res); err != nil {
			return nil, err
		}
		if res.Valid {
			v := res.Int64
			h.ResolvedAt = &v
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *sqlStore) OpenEpisodes(ctx context.Context) ([]AlertRecord, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT id, rule_id, source, timestamp, severity, message, resolved_at
		FROM alert_history WHERE resolved_at IS NULL ORDER BY timestamp`)
	if err != nil {
		return nil, fmt.Errorf("open alert episodes: %w", err)
	}
	out, err := scanHistory(rows)
	if err != nil {
		return nil, fmt.Errorf("open alert episodes: %w", err)
	}
	return out, nil
}

func (s *sqlStore) History(ctx context.Context, q HistoryQuery) ([]AlertRecord, error) {
	var where []string
	var args []any
	if q.RuleID != "" {
		where, args = append(where, "rule_id = ?"), append(args, q.RuleID)
	}
	if q.From > 0 {
		where, args = append(where, "timestamp >= ?"), append(args, q.From)
	}
	if q.To > 0 {
		where, args = append(where, "timestamp <= ?"), append(args, q.To)
	}
	query := `SELECT id, rule_id, source, timestamp, severity, message, resolved_at FROM alert_history`
	if len(where) > 0 {
		query += " WHERE " + strings.Join(where, " AND ")
	}
	query += " ORDER BY timestamp DESC, id DESC LIMIT ?"
	args = append(args, q.Limit)
	rows, err := s.d.R.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("alert history: %w", err)
	}
	out, err := scanHistory(rows)
	if err != nil {
		return nil, fmt.Errorf("alert history: %w", err)
	}
	return out, nil
}

// Intervals returns the [start, end] of every episode of ruleID that
// overlaps [from, to], clipped to it (open episodes end at to).
func (s *sqlStore) Intervals(ctx context.Context, ruleID string, from, to int64) ([][2]int64, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT timestamp, resolved_at FROM alert_history
		WHERE rule_id = ? AND timestamp <= ? AND (resolved_at IS NULL OR resolved_at >= ?) ORDER BY timestamp`, ruleID, to, from)
	if err != nil {
		return nil, fmt.Errorf("sla intervals: %w", err)
	}
	defer rows.Close()
	var out [][2]int64
	for rows.Next() {
		var start int64
		var end sql.NullInt64
		if err := rows.Scan(&start, &end); err != nil {
			return nil, fmt.Errorf("sla intervals: %w", err)
		}
		e := to
		if end.Valid && end.Int64 < to {
			e = end.Int64
		}
		out = append(out, [2]int64{max(start, from), e})
	}
	return out, rows.Err()
}

func (s *sqlStore) AddNotification(ctx context.Context, at int64, username, level, title, message string) (int64, error) {
	var user any
	if username != "" {
		user = username
	}
	var newID int64
	err := s.d.W.QueryRowContext(ctx, `INSERT INTO notifications (timestamp, level, title, message, username) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		at, level, title, message, user).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("add notification: %w", err)
	}
	return newID, nil
}

func (s *sqlStore) Notifications(ctx context.Context, username string, unreadOnly bool, limit int) ([]InAppNotification, int, error) {
	q := `SELECT n.id, n.timestamp, n.level, n.title, n.message, n.username, r.notification_id IS NOT NULL
		FROM notifications n LEFT JOIN notification_reads r ON r.notification_id = n.id AND r.username = ?
		WHERE (n.username = ? OR n.username IS NULL)`
	if unreadOnly {
		q += ` AND r.notification_id IS NULL`
	}
	q += ` ORDER BY n.timestamp DESC, n.id DESC LIMIT ?`
	rows, err := s.d.R.QueryContext(ctx, q, username, username, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("notifications: %w", err)
	}
	defer rows.Close()
	out := []InAppNotification{}
	for rows.Next() {
		var n InAppNotification
		var user sql.NullString
		if err := rows.Scan(&n.ID, &n.Timestamp, &n.Level, &n.Title, &n.Message, &user, &n.Read); err != nil {
			return nil, 0, fmt.Errorf("notifications: %w", err)
		}
		if user.Valid {
			u := user.String
			n.Username = &u
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("notifications: %w", err)
	}
	var unread int
	err = s.d.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM notifications n
		WHERE (n.username = ? OR n.username IS NULL)
		AND NOT EXISTS (SELECT 1 FROM notification_reads r WHERE r.notification_id = n.id AND r.username = ?)`, username, username).Scan(&unread)
	if err != nil {
		return nil, 0, fmt.Errorf("unread count: %w", err)
	}
	return out, unread, nil
}

func (s *sqlStore) MarkRead(ctx context.Context, id int64, username string, at int64) error {
	q := `INSERT INTO notification_reads (notification_id, username, read_at)
		SELECT id, ?, ? FROM notifications WHERE id = ? AND (username = ? OR username IS NULL)` + s.d.SQL().Ignore()
	_, err := s.d.W.ExecContext(ctx, s.d.SQL().Rebind(q), username, at, id, username)
	if err != nil {
		return fmt.Errorf("mark notification read: %w", err)
	}
	return nil
}

func (s *sqlStore) MarkAllRead(ctx context.Context, username string, at int64) error {
	q := `INSERT INTO notification_reads (notification_id, username, read_at)
		SELECT id, ?, ? FROM notifications WHERE username = ? OR username IS NULL` + s.d.SQL().Ignore()
	_, err := s.d.W.ExecContext(ctx, s.d.SQL().Rebind(q), username, at, username)
	if err != nil {
		return fmt.Errorf("mark all notifications read: %w", err)
	}
	return nil
}

const windowCols = `id, name, schedule, duration_min, one_off_start, one_off_end, suppress_alerts, override_autonomy,
	auto_close_alerts, enabled, created_by, created_at`

type scanner interface{ Scan(...any) error }

func scanWindow(r scanner) (MaintenanceWindow, error) {
	var w MaintenanceWindow
	var sched, override sql.NullString
	var start, end sql.NullInt64
	if err := r.Scan(&w.ID, &w.Name, &sched, &w.DurationMin, &start, &end, &w.SuppressAlerts, &override,
		&w.AutoCloseAlerts, &w.Enabled, &w.CreatedBy, &w.CreatedAt); err != nil {
		return w, err
	}
	if sched.Valid {
		w.Schedule = &sched.String
	}
	if override.Valid {
		w.OverrideAutonomy = &override.String
	}
	if start.Valid {
		w.OneOffStart = &start.Int64
	}
	if end.Valid {
		w.OneOffEnd = &end.Int64
	}
	return w, nil
}

func (s *sqlStore) Windows(ctx context.Context) ([]MaintenanceWindow, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT `+windowCols+` FROM maintenance_windows ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("maintenance windows: %w", err)
	}
	defer rows.Close()
	out := []MaintenanceWindow{}
	for rows.Next() {
		w, err := scanWindow(rows)
		if err != nil {
			return nil, fmt.Errorf("maintenance windows: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

func (s *sqlStore) MaintenanceWindow(ctx context.Context, id int64) (MaintenanceWindow, error) {
	w, err := scanWindow(s.d.R.QueryRowContext(ctx, `SELECT `+windowCols+` FROM maintenance_windows WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, errs.NotFound("Window not found")
	}
	if err != nil {
		return w, fmt.Errorf("maintenance window: %w", err)
	}
	return w, nil
}

func (s *sqlStore) CreateWindow(ctx context.Context, w MaintenanceWindow) (int64, error) {
	var newID int64
	err := s.d.W.QueryRowContext(ctx, `INSERT INTO maintenance_windows (name, schedule, duration_min, one_off_start, one_off_end,
		suppress_alerts, override_autonomy, auto_close_alerts, enabled, created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		w.Name, w.Schedule, w.DurationMin, w.OneOffStart, w.OneOffEnd, w.SuppressAlerts, w.OverrideAutonomy, w.AutoCloseAlerts,
		w.Enabled, w.CreatedBy, w.CreatedAt).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("create maintenance window: %w", err)
	}
	return newID, nil
}

func (s *sqlStore) SaveWindow(ctx context.Context, w MaintenanceWindow) error {
	res, err := s.d.W.ExecContext(ctx, `UPDATE maintenance_windows SET name = ?, schedule = ?, duration_min = ?, one_off_start = ?,
		one_off_end = ?, suppress_alerts = ?, override_autonomy = ?, auto_close_alerts = ?, enabled = ? WHERE id = ?`,
		w.Name, w.Schedule, w.DurationMin, w.OneOffStart, w.OneOffEnd, w.SuppressAlerts, w.OverrideAutonomy, w.AutoCloseAlerts,
		w.Enabled, w.ID)
	if err != nil {
		return fmt.Errorf("update maintenance window: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFound("Window not found")
	}
	return nil
}

func (s *sqlStore) DeleteWindow(ctx context.Context, id int64) error {
	res, err := s.d.W.ExecContext(ctx, `DELETE FROM maintenance_windows WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete maintenance window: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFound("Window not found")
	}
	return nil
}

func (s *sqlStore) Prune(ctx context.Context, notificationsBefore, historyBefore int64) error {
	return s.d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM notification_reads WHERE notification_id IN (SELECT id FROM notifications WHERE timestamp < ?)`, notificationsBefore); err != nil {
			return fmt.Errorf("prune notification reads: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM notifications WHERE timestamp < ?`, notificationsBefore); err != nil {
			return fmt.Errorf("prune notifications: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM alert_history WHERE resolved_at IS NOT NULL AND resolved_at < ?`, historyBefore); err != nil {
			return fmt.Errorf("prune alert history: %w", err)
		}
		return nil
	})
}
