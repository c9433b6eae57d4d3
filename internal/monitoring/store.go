package monitoring

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/errs"
)

// Monitor is one endpoint monitor.
type EndpointMonitor struct {
	ID             int64   `json:"id"`
	Name           string  `json:"name"`
	Type           string  `json:"type"`
	URL            string  `json:"url"`
	Method         string  `json:"method"`
	ExpectedStatus int     `json:"expected_status"`
	Keyword        string  `json:"keyword"`
	VerifyTLS      bool    `json:"verify_tls"`
	DNSServer      string  `json:"dns_server"`
	CheckInterval  int     `json:"check_interval"`
	Timeout        int     `json:"timeout"`
	AgentHostname  *string `json:"agent_hostname"`
	Enabled        bool    `json:"enabled"`
	CreatedAt      int64   `json:"created_at"`
	LastChecked    *int64  `json:"last_checked"`
	LastStatus     *string `json:"last_status"`
	LastResponseMS *int64  `json:"last_response_ms"`
	LastStatusCode *int    `json:"last_status_code"`
	LastError      *string `json:"last_error"`
	CertExpiryDays *int    `json:"cert_expiry_days"`
	CertError      *string `json:"cert_error"`
	NotifyCertDays int     `json:"notify_cert_days"`

	// Derived, filled by the list handler.
	UptimePercent *float64        `json:"uptime_percent"`
	AvgResponseMS *float64        `json:"avg_response_ms"`
	Events        []EndpointEvent `json:"events"`
	History       []EndpointCheck `json:"history,omitempty"`

	certAlertLevel string
	certAlertedAt  int64
	downAlerted    bool
}

// HistoryEntry is one stored check result.
type EndpointCheck struct {
	Timestamp  int64  `json:"timestamp"`
	Status     string `json:"status"`
	ResponseMS *int64 `json:"response_ms"`
	StatusCode *int   `json:"status_code"`
	Error      string `json:"error"`
}

// Event is one state change of a monitor (down, recovered, cert_expiry,
// cert_ok), as raised to the alerts room.
type EndpointEvent struct {
	Timestamp int64  `json:"timestamp"`
	Kind      string `json:"kind"`
	Severity  string `json:"severity"`
	Message   string `json:"message"`
}

// Saved is what one check writes: the monitor's new state, the history row
// (unless NoHistory) and the state-change events.
type Saved struct {
	Now int64
	// Day is the calendar day of Now (days since the epoch in the page's zone).
	Day            int64
	Result         CheckResult
	NoHistory      bool
	CertAlertLevel string
	CertAlertedAt  int64
	DownAlerted    bool
	Events         []EndpointEvent
}

// Window is a statistics window: rows from Since to DayStart (the start of
// FirstDay), then the daily counts from FirstDay on.
type Window struct {
	Since, DayStart, FirstDay int64
}

// Stat is a monitor's uptime over a window.
type Stat struct {
	Uptime *float64
	AvgMS  *float64
}

// DayUptime is the up ratio of one monitor on one calendar day.
type DayUptime struct {
	Day   int64 // days since the epoch in the page's zone
	Up    int
	Total int
}

// Component is one status page component.
type StatusComponent struct {
	ID           int64   `json:"id"`
	Name         string  `json:"name"`
	GroupName    string  `json:"group_name"`
	ServiceKey   *string `json:"service_key"`
	MonitorID    *int64  `json:"monitor_id"`
	DisplayOrder int     `json:"display_order"`
	Enabled      bool    `json:"enabled"`
}

// Incident is one status page incident with its updates (oldest first).
type StatusIncident struct {
	ID         int64          `json:"id"`
	Title      string         `json:"title"`
	Severity   string         `json:"severity"`
	Status     string         `json:"status"`
	CreatedAt  int64          `json:"created_at"`
	ResolvedAt *int64         `json:"resolved_at"`
	CreatedBy  string         `json:"created_by,omitempty"`
	AssignedTo string         `json:"assigned_to,omitempty"`
	Updates    []StatusUpdate `json:"updates"`
}

// Update is one incident update.
type StatusUpdate struct {
	ID        int64  `json:"id"`
	Message   string `json:"message"`
	Status    string `json:"status"`
	CreatedAt int64  `json:"created_at"`
	CreatedBy string `json:"created_by,omitempty"`
}

// Store is the monitoring room's persistence. Not-found is errs.ErrNotFound.
type Store interface {
	ListMonitors(ctx context.Context) ([]EndpointMonitor, error)
	GetMonitor(ctx context.Context, id int64) (EndpointMonitor, error)
	CreateMonitor(ctx context.Context, m EndpointMonitor) (int64, error)
	UpdateMonitor(ctx context.Context, id int64, cols map[string]any) error
	DeleteMonitor(ctx context.Context, id int64) error
	SaveCheck(ctx context.Context, id int64, s Saved) error
	Stats(ctx context.Context, w Window) (map[int64]Stat, error)
	Events(ctx context.Context, limit int) (map[int64][]EndpointEvent, error)
	History(ctx context.Context, id int64, limit int) ([]EndpointCheck, error)
	DailyUptime(ctx context.Context, ids []int64, firstDay int64) (map[int64][]DayUptime, error)
	Prune(ctx context.Context, before int64) (int64, error)

	ListComponents(ctx context.Context) ([]StatusComponent, error)
	CreateComponent(ctx context.Context, c StatusComponent) (int64, error)
	UpdateComponent(ctx context.Context, id int64, cols map[string]any) error
	DeleteComponent(ctx context.Context, id int64) error

	CreateIncident(ctx context.Context, in StatusIncident, firstUpdate string) (int64, error)
	AddUpdate(ctx context.Context, incidentID int64, u StatusUpdate, resolvedAt *int64) (int64, error)
	ResolveIncident(ctx context.Context, id, now int64, by string) (bool, error)
	Incidents(ctx context.Context, activeOnly bool, limit int) ([]StatusIncident, error)
	IncidentsSince(ctx context.Context, since int64) ([]StatusIncident, error)
	// Began reports when this server's database was created (its first
	// migration); ok is false when that is not known.
	Began(ctx context.Context) (at int64, ok bool, err error)
}

// Began reads the time of the first schema migration: the day the server
// started keeping data. Days before it are drawn as "no data".
func (s *sqlStore) Began(ctx context.Context) (int64, bool, error) {
	var ts sql.NullString
	err := s.db.R.QueryRowContext(ctx, `SELECT MIN(tstamp) FROM goose_db_version`).Scan(&ts)
	if err != nil {
		return 0, false, fmt.Errorf("server start: %w", err)
	}
	if !ts.Valid {
		return 0, false, nil
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05", "2006-01-02T15:04:05Z"} {
		if t, err := time.Parse(layout, ts.String); err == nil {
			return t.Unix(), true, nil
		}
	}
	return 0, false, nil
}

type sqlStore struct{ db *db.DB }

// NewStore returns the SQLite store.
func NewStore(d *db.DB) Store { return &sqlStore{db: d} }

const monitorCols = `id, name, type, url, method, expected_status, keyword, verify_tls, dns_server, check_interval, timeout,
	agent_hostname, enabled, created_at, last_checked, last_status, last_response_ms, last_status_code, last_error,
	cert_expiry_days, cert_error, notify_cert_days, cert_alert_level, cert_alerted_at, down_alerted`

type scanner interface{ Scan(dest ...any) error }

func scanMonitor(s scanner) (EndpointMonitor, error) {
	var m EndpointMonitor
	var agent, status, lastErr, certErr sql.NullString
	var checked, respMS, code, certDays sql.NullInt64
	var verify, enabled, downAlerted int
	err := s.Scan(&m.ID, &m.Name, &m.Type, &m.URL, &m.Method, &m.ExpectedStatus, &m.Keyword, &verify, &m.DNSServer,
		&m.CheckInterval, &m.Timeout, &agent, &enabled, &m.CreatedAt, &checked, &status, &respMS, &code, &lastErr,
		&certDays, &certErr, &m.NotifyCertDays, &m.certAlertLevel, &m.certAlertedAt, &downAlerted)
	if err != nil {
		return m, err
	}
	m.VerifyTLS, m.Enabled, m.downAlerted = verify != 0, enabled != 0, downAlerted != 0
	m.AgentHostname = nullStr(agent)
	m.LastStatus, m.LastError, m.CertError = nullStr(status), nullStr(lastErr), nullStr(certErr)
	m.LastChecked, m.LastResponseMS = nullInt64(checked), nullInt64(respMS)
	m.LastStatusCode, m.CertExpiryDays = nullInt(code), nullInt(certDays)
	return m, nil
}

func nullStr(n sql.NullString) *string {
	if !n.Valid {
		return nil
	}
	return &n.String
}

func nullInt64(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

func nullInt(n sql.NullInt64) *int {
	if !n.Valid {
		return nil
	}
	v := int(n.Int64)
	return &v
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s *sqlStore) ListMonitors(ctx context.Context) ([]EndpointMonitor, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+monitorCols+` FROM endpoint_monitors ORDER BY name, id`)
	if err != nil {
		return nil, fmt.Errorf("list monitors: %w", err)
	}
	defer rows.Close()
	out := []EndpointMonitor{}
	for rows.Next() {
		m, err := scanMonitor(rows)
		if err != nil {
			return nil, fmt.Errorf("list monitors: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *sqlStore) GetMonitor(ctx context.Context, id int64) (EndpointMonitor, error) {
	// Read through the writer so a check sees the state the previous check wrote.
	m, err := scanMonitor(s.db.W.QueryRowContext(ctx, `SELECT `+monitorCols+` FROM endpoint_monitors WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return m, errs.NotFound("Monitor not found")
	}
	if err != nil {
		return m, fmt.Errorf("get monitor: %w", err)
	}
	return m, nil
}

func (s *sqlStore) CreateMonitor(ctx context.Context, m EndpointMonitor) (int64, error) {
	var id int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO endpoint_monitors (name, type, url, method, expected_status, keyword,
		verify_tls, dns_server, check_interval, timeout, agent_hostname, enabled, created_at, notify_cert_days)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		m.Name, m.Type, m.URL, m.Method, m.ExpectedStatus, m.Keyword, b2i(m.VerifyTLS), m.DNSServer, m.CheckInterval,
		m.Timeout, m.AgentHostname, b2i(m.Enabled), m.CreatedAt, m.NotifyCertDays).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create monitor: %w", err)
	}
	return id, nil
}

// setClause builds "a = ?, b = ?" from cols in a stable order.
func setClause(cols map[string]any, order []string) (string, []any) {
	var parts []string
	var args []any
	for _, k := range order {
		if v, ok := cols[k]; ok {
			parts = append(parts, k+" = ?")
			args = append(args, v)
		}
	}
	return strings.Join(parts, ", "), args
}

var monitorUpdatable = []string{"name", "type", "url", "method", "expected_status", "keyword", "verify_tls", "dns_server",
	"check_interval", "timeout", "agent_hostname", "enabled", "notify_cert_days", "down_alerted", "cert_alert_level", "cert_alerted_at"}

func (s *sqlStore) UpdateMonitor(ctx context.Context, id int64, cols map[string]any) error {
	set, args := setClause(cols, monitorUpdatable)
	if set == "" {
		return errs.NotFound("Monitor not found or no changes")
	}
	res, err := s.db.W.ExecContext(ctx, `UPDATE endpoint_monitors SET `+set+` WHERE id = ?`, append(args, id)...)
	if err != nil {
		return fmt.Errorf("update monitor: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFound("Monitor not found or no changes")
	}
	return nil
}

func (s *sqlStore) DeleteMonitor(ctx context.Context, id int64) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM endpoint_monitors WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete monitor: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFound("Monitor not found")
	}
	return nil
}

func (s *sqlStore) SaveCheck(ctx context.Context, id int64, sv Saved) error {
	r := sv.Result
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE endpoint_monitors SET last_checked = ?, last_status = ?, last_response_ms = ?,
			last_status_code = ?, last_error = ?, cert_expiry_days = ?, cert_error = ?, cert_alert_level = ?, cert_alerted_at = ?,
			down_alerted = ? WHERE id = ?`,
			sv.Now, r.Status, r.ResponseMS, r.StatusCode, emptyNil(r.Error), r.CertExpiryDays, emptyNil(r.CertError),
			sv.CertAlertLevel, sv.CertAlertedAt, b2i(sv.DownAlerted), id)
		if err != nil {
			return fmt.Errorf("save check: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound("Monitor not found")
		}
		if !sv.NoHistory {
			if _, err := tx.ExecContext(ctx, `INSERT INTO endpoint_check_history (monitor_id, timestamp, status, response_ms,
				status_code, error) VALUES (?, ?, ?, ?, ?, ?)`, id, sv.Now, r.Status, r.ResponseMS, r.StatusCode, emptyNil(r.Error)); err != nil {
				return fmt.Errorf("save check history: %w", err)
			}
			if r.Status != StatusSkipped {
				upMS := int64(0)
				if r.Status == StatusUp {
					upMS = r.ResponseMS
				}
				q := `INSERT INTO endpoint_daily (monitor_id, day, up, total, up_ms) VALUES (?, ?, ?, 1, ?)` +
					s.db.SQL().Upsert([]string{"monitor_id", "day"}, "up = endpoint_daily.up + excluded.up",
						"total = endpoint_daily.total + 1", "up_ms = endpoint_daily.up_ms + excluded.up_ms")
				if _, err := tx.ExecContext(ctx, s.db.SQL().Rebind(q), id, sv.Day, b2i(r.Status == StatusUp), upMS); err != nil {
					return fmt.Errorf("save check day: %w", err)
				}
			}
		}
		for _, e := range sv.Events {
			if _, err := tx.ExecContext(ctx, `INSERT INTO endpoint_events (monitor_id, timestamp, kind, severity, message)
				VALUES (?, ?, ?, ?, ?)`, id, e.Timestamp, e.Kind, e.Severity, e.Message); err != nil {
				return fmt.Errorf("save check event: %w", err)
			}
		}
		return nil
	})
}

func emptyNil(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *sqlStore) Stats(ctx context.Context, w Window) (map[int64]Stat, error) {
	// Whole days from the daily counts, the partial first day from the rows.
	rows, err := s.db.R.QueryContext(ctx, `SELECT monitor_id, SUM(up), SUM(total), SUM(up_ms) FROM (
		SELECT monitor_id, up, total, up_ms FROM endpoint_daily WHERE day >= ?
		UNION ALL
		SELECT monitor_id, CASE WHEN status = 'up' THEN 1 ELSE 0 END, 1, CASE WHEN status = 'up' THEN COALESCE(response_ms, 0) ELSE 0 END
		FROM endpoint_check_history WHERE monitor_id IN (SELECT id FROM endpoint_monitors)
		AND timestamp >= ? AND timestamp < ? AND status <> 'skipped'
	) AS c GROUP BY monitor_id`, w.FirstDay, w.Since, w.DayStart)
	if err != nil {
		return nil, fmt.Errorf("monitor stats: %w", err)
	}
	defer rows.Close()
	out := map[int64]Stat{}
	for rows.Next() {
		var id, up, total, upMS int64
		if err := rows.Scan(&id, &up, &total, &upMS); err != nil {
			return nil, fmt.Errorf("monitor stats: %w", err)
		}
		st := Stat{}
		if total > 0 {
			u := round(float64(up)/float64(total)*100, 2)
			st.Uptime = &u
		}
		if up > 0 {
			a := round(float64(upMS)/float64(up), 1)
			st.AvgMS = &a
		}
		out[id] = st
	}
	return out, rows.Err()
}

func (s *sqlStore) Events(ctx context.Context, limit int) (map[int64][]EndpointEvent, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT monitor_id, timestamp, kind, severity, message FROM (
		SELECT e.*, ROW_NUMBER() OVER (PARTITION BY monitor_id ORDER BY timestamp DESC, id DESC) AS rn FROM endpoint_events e
	) AS ranked WHERE rn <= ? ORDER BY monitor_id, timestamp DESC, id DESC`, limit)
	if err != nil {
		return nil, fmt.Errorf("monitor events: %w", err)
	}
	defer rows.Close()
	out := map[int64][]EndpointEvent{}
	for rows.Next() {
		var id int64
		var e EndpointEvent
		if err := rows.Scan(&id, &e.Timestamp, &e.Kind, &e.Severity, &e.Message); err != nil {
			return nil, fmt.Errorf("monitor events: %w", err)
		}
		out[id] = append(out[id], e)
	}
	return out, rows.Err()
}

func (s *sqlStore) History(ctx context.Context, id int64, limit int) ([]EndpointCheck, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT timestamp, status, response_ms, status_code, error FROM endpoint_check_history
		WHERE monitor_id = ? ORDER BY timestamp DESC, id DESC LIMIT ?`, id, limit)
	if err != nil {
		return nil, fmt.Errorf("monitor history: %w", err)
	}
	defer rows.Close()
	out := []EndpointCheck{}
	for rows.Next() {
		var h EndpointCheck
		var ms, code sql.NullInt64
		var e sql.NullString
		if err := rows.Scan(&h.Timestamp, &h.Status, &ms, &code, &e); err != nil {
			return nil, fmt.Errorf("monitor history: %w", err)
		}
		h.ResponseMS, h.StatusCode, h.Error = nullInt64(ms), nullInt(code), e.String
		out = append(out, h)
	}
	return out, rows.Err()
}

func (s *sqlStore) DailyUptime(ctx context.Context, ids []int64, firstDay int64) (map[int64][]DayUptime, error) {
	out := map[int64][]DayUptime{}
	if len(ids) == 0 {
		return out, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(ids)), ", ")
	args := []any{firstDay}
	for _, id := range ids {
		args = append(args, id)
	}
	rows, err := s.db.R.QueryContext(ctx, `SELECT monitor_id, day, up, total FROM endpoint_daily
		WHERE day >= ? AND monitor_id IN (`+ph+`) ORDER BY monitor_id, day`, args...)
	if err != nil {
		return nil, fmt.Errorf("daily uptime: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var d DayUptime
		if err := rows.Scan(&id, &d.Day, &d.Up, &d.Total); err != nil {
			return nil, fmt.Errorf("daily uptime: %w", err)
		}
		out[id] = append(out[id], d)
	}
	return out, rows.Err()
}

func (s *sqlStore) Prune(ctx context.Context, before int64) (int64, error) {
	var n int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM endpoint_check_history WHERE timestamp < ?`, before)
		if err != nil {
			return fmt.Errorf("prune history: %w", err)
		}
		n, _ = res.RowsAffected()
		if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_events WHERE timestamp < ?`, before); err != nil {
			return fmt.Errorf("prune events: %w", err)
		}
		// Days are kept a day longer than rows, so a partial first day stays whole.
		if _, err := tx.ExecContext(ctx, `DELETE FROM endpoint_daily WHERE day < ?`, before/86400-1); err != nil {
			return fmt.Errorf("prune days: %w", err)
		}
		return nil
	})
	return n, err
}

const componentCols = `id, name, group_name, service_key, monitor_id, display_order, enabled`

func (s *sqlStore) ListComponents(ctx context.Context) ([]StatusComponent, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+componentCols+` FROM status_components ORDER BY display_order, id`)
	if err != nil {
		return nil, fmt.Errorf("list components: %w", err)
	}
	defer rows.Close()
	out := []StatusComponent{}
	for rows.Next() {
		var c StatusComponent
		var key sql.NullString
		var mon sql.NullInt64
		var enabled int
		if err := rows.Scan(&c.ID, &c.Name, &c.GroupName, &key, &mon, &c.DisplayOrder, &enabled); err != nil {
			return nil, fmt.Errorf("list components: %w", err)
		}
		c.ServiceKey, c.MonitorID, c.Enabled = nullStr(key), nullInt64(mon), enabled != 0
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s *sqlStore) CreateComponent(ctx context.Context, c StatusComponent) (int64, error) {
	var id int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO status_components (name, group_name, service_key, monitor_id, display_order, enabled)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, c.Name, c.GroupName, c.ServiceKey, c.MonitorID, c.DisplayOrder, b2i(c.Enabled)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("create component: %w", err)
	}
	return id, nil
}

var componentUpdatable = []string{"name", "group_name", "service_key", "monitor_id", "display_order", "enabled"}

func (s *sqlStore) UpdateComponent(ctx context.Context, id int64, cols map[string]any) error {
	set, args := setClause(cols, componentUpdatable)
	if set == "" {
		return errs.NotFound("Component not found or no changes")
	}
	res, err := s.db.W.ExecContext(ctx, `UPDATE status_components SET `+set+` WHERE id = ?`, append(args, id)...)
	if err != nil {
		return fmt.Errorf("update component: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFound("Component not found or no changes")
	}
	return nil
}

func (s *sqlStore) DeleteComponent(ctx context.Context, id int64) error {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM status_components WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete component: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return errs.NotFound("Component not found")
	}
	return nil
}

func (s *sqlStore) CreateIncident(ctx context.Context, in StatusIncident, firstUpdate string) (int64, error) {
	var id int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, `INSERT INTO status_incidents (title, severity, status, created_at, created_by, assigned_to)
			VALUES (?, ?, ?, ?, ?, ?) RETURNING id`, in.Title, in.Severity, in.Status, in.CreatedAt, in.CreatedBy, in.AssignedTo).Scan(&id); err != nil {
			return fmt.Errorf("create incident: %w", err)
		}
		if firstUpdate != "" {
			if _, err := tx.ExecContext(ctx, `INSERT INTO status_updates (incident_id, message, status, created_at, created_by)
				VALUES (?, ?, ?, ?, ?)`, id, firstUpdate, in.Status, in.CreatedAt, in.CreatedBy); err != nil {
				return fmt.Errorf("create incident update: %w", err)
			}
		}
		return nil
	})
	return id, err
}

func (s *sqlStore) AddUpdate(ctx context.Context, incidentID int64, u StatusUpdate, resolvedAt *int64) (int64, error) {
	var id int64
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		q := `UPDATE status_incidents SET status = ? WHERE id = ?`
		args := []any{u.Status, incidentID}
		if resolvedAt != nil {
			q = `UPDATE status_incidents SET status = ?, resolved_at = COALESCE(resolved_at, ?) WHERE id = ?`
			args = []any{u.Status, *resolvedAt, incidentID}
		}
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("add update: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errs.NotFound("Incident not found or failed to add update")
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO status_updates (incident_id, message, status, created_at, created_by)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, incidentID, u.Message, u.Status, u.CreatedAt, u.CreatedBy).Scan(&id); err != nil {
			return fmt.Errorf("add update: %w", err)
		}
		return nil
	})
	return id, err
}

// ResolveIncident resolves an open incident; changed is false when it was
// already resolved.
func (s *sqlStore) ResolveIncident(ctx context.Context, id, now int64, by string) (bool, error) {
	changed := false
	err := s.db.Tx(ctx, func(tx *sql.Tx) error {
		var resolved sql.NullInt64
		err := tx.QueryRowContext(ctx, `SELECT resolved_at FROM status_incidents WHERE id = ?`, id).Scan(&resolved)
		if errors.Is(err, sql.ErrNoRows) {
			return errs.NotFound("Incident not found")
		}
		if err != nil {
			return fmt.Errorf("resolve incident: %w", err)
		}
		if resolved.Valid {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE status_incidents SET status = 'resolved', resolved_at = ? WHERE id = ?`, now, id); err != nil {
			return fmt.Errorf("resolve incident: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO status_updates (incident_id, message, status, created_at, created_by)
			VALUES (?, 'This incident has been resolved.', 'resolved', ?, ?)`, id, now, by); err != nil {
			return fmt.Errorf("resolve incident: %w", err)
		}
		changed = true
		return nil
	})
	return changed, err
}

func (s *sqlStore) Incidents(ctx context.Context, activeOnly bool, limit int) ([]StatusIncident, error) {
	q := `SELECT id, title, severity, status, created_at, resolved_at, created_by, assigned_to FROM status_incidents`
	if activeOnly {
		q += ` WHERE resolved_at IS NULL`
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	return s.incidents(ctx, q, limit)
}

func (s *sqlStore) IncidentsSince(ctx context.Context, since int64) ([]StatusIncident, error) {
	return s.incidents(ctx, `SELECT id, title, severity, status, created_at, resolved_at, created_by, assigned_to
		FROM status_incidents WHERE created_at >= ? ORDER BY created_at DESC, id DESC`, since)
}

func (s *sqlStore) incidents(ctx context.Context, q string, arg any) ([]StatusIncident, error) {
	rows, err := s.db.R.QueryContext(ctx, q, arg)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	out := []StatusIncident{}
	byID := map[int64]int{}
	for rows.Next() {
		var in StatusIncident
		var res sql.NullInt64
		if err := rows.Scan(&in.ID, &in.Title, &in.Severity, &in.Status, &in.CreatedAt, &res, &in.CreatedBy, &in.AssignedTo); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		in.ResolvedAt = nullInt64(res)
		in.Updates = []StatusUpdate{}
		byID[in.ID] = len(out)
		out = append(out, in)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	if len(out) == 0 {
		return out, nil
	}
	ph := strings.TrimSuffix(strings.Repeat("?, ", len(out)), ", ")
	args := make([]any, 0, len(out))
	for _, in := range out {
		args = append(args, in.ID)
	}
	urows, err := s.db.R.QueryContext(ctx, `SELECT id, incident_id, message, status, created_at, created_by FROM status_updates
		WHERE incident_id IN (`+ph+`) ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list incident updates: %w", err)
	}
	defer urows.Close()
	for urows.Next() {
		var u StatusUpdate
		var iid int64
		if err := urows.Scan(&u.ID, &iid, &u.Message, &u.Status, &u.CreatedAt, &u.CreatedBy); err != nil {
			return nil, fmt.Errorf("list incident updates: %w", err)
		}
		if i, ok := byID[iid]; ok {
			out[i].Updates = append(out[i].Updates, u)
		}
	}
	return out, urows.Err()
}
