package intelligence

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/noba-go/noba/internal/db"
	"github.com/noba-go/noba/internal/httpx"
)

// Incident is an alert incident (table incidents, written by the alerts
// room) with its assignment.
type Incident struct {
	ID         int64  `json:"id"`
	Timestamp  int64  `json:"timestamp"`
	Severity   string `json:"severity"`
	Source     string `json:"source"`
	Title      string `json:"title"`
	Details    string `json:"details"`
	ResolvedAt int64  `json:"resolved_at"`
	AssignedTo string `json:"assigned_to"`
}

// IncidentMessage is one war-room message.
type IncidentMessage struct {
	ID         int64  `json:"id"`
	IncidentID int64  `json:"incident_id"`
	Author     string `json:"author"`
	Message    string `json:"message"`
	MsgType    string `json:"msg_type"`
	CreatedAt  int64  `json:"created_at"`
}

// Dependency is one edge: Source depends on Target.
type Dependency struct {
	ID             int64  `json:"id"`
	SourceService  string `json:"source_service"`
	TargetService  string `json:"target_service"`
	DependencyType string `json:"dependency_type"`
	AutoDiscovered bool   `json:"auto_discovered"`
	CreatedAt      int64  `json:"created_at"`
}

// Baseline is a config baseline.
type Baseline struct {
	ID           int64  `json:"id"`
	Path         string `json:"path"`
	ExpectedHash string `json:"expected_hash"`
	AgentGroup   string `json:"agent_group"`
	CreatedAt    int64  `json:"created_at"`
	UpdatedAt    int64  `json:"updated_at"`
}

// DriftResult is one drift check row.
type DriftResult struct {
	ID           int64   `json:"id"`
	BaselineID   int64   `json:"baseline_id"`
	Hostname     string  `json:"hostname"`
	ActualHash   *string `json:"actual_hash"`
	Status       string  `json:"status"`
	CheckedAt    int64   `json:"checked_at"`
	Path         string  `json:"path"`
	ExpectedHash string  `json:"expected_hash"`
}

// Store is the room's persistence.
type Store interface {
	Incidents(ctx context.Context, since int64, limit int) ([]Incident, error)
	Incident(ctx context.Context, id int64) (Incident, error)
	ResolveIncident(ctx context.Context, id, at int64) error
	Messages(ctx context.Context, incident int64, limit int) ([]IncidentMessage, error)
	AddMessage(ctx context.Context, m IncidentMessage) (int64, error)
	// Assign sets the assignee and posts the system message, in one transaction.
	Assign(ctx context.Context, incident int64, to, by string, at int64, note string) error

	Dependencies(ctx context.Context) ([]Dependency, error)
	AddDependency(ctx context.Context, d Dependency) (int64, error)
	DeleteDependency(ctx context.Context, id int64) error

	Baselines(ctx context.Context) ([]Baseline, error)
	Baseline(ctx context.Context, id int64) (Baseline, error)
	AddBaseline(ctx context.Context, b Baseline) (int64, error)
	DeleteBaseline(ctx context.Context, id int64) error
	SetExpected(ctx context.Context, id int64, hash string, at int64) error
	AddDrift(ctx context.Context, r DriftResult) error
	// LatestDrift lists the latest row per host of each baseline (all
	// baselines when id is 0), newest first.
	LatestDrift(ctx context.Context, id int64) ([]DriftResult, error)
	// PruneDrift deletes drift rows checked before the time, keeping the
	// latest row of each (baseline, host).
	PruneDrift(ctx context.Context, before int64) (int64, error)
}

type sqlStore struct{ d *db.DB }

// NewStore returns the SQLite store.
func NewStore(d *db.DB) Store { return &sqlStore{d: d} }

const incidentCols = `i.id, i.timestamp, i.severity, i.source, i.title, i.details, i.resolved_at, COALESCE(a.assigned_to, '')`

func scanIncident(sc interface{ Scan(...any) error }) (Incident, error) {
	var i Incident
	err := sc.Scan(&i.ID, &i.Timestamp, &i.Severity, &i.Source, &i.Title, &i.Details, &i.ResolvedAt, &i.AssignedTo)
	return i, err
}

func (s *sqlStore) Incidents(ctx context.Context, since int64, limit int) ([]Incident, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT `+incidentCols+` FROM incidents i LEFT JOIN incident_assignments a ON a.incident_id = i.id
		WHERE i.timestamp > ? ORDER BY i.timestamp DESC, i.id DESC LIMIT ?`, since, limit)
	if err != nil {
		return nil, fmt.Errorf("list incidents: %w", err)
	}
	defer rows.Close()
	out := []Incident{}
	for rows.Next() {
		i, err := scanIncident(rows)
		if err != nil {
			return nil, fmt.Errorf("list incidents: %w", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

func (s *sqlStore) Incident(ctx context.Context, id int64) (Incident, error) {
	i, err := scanIncident(s.d.R.QueryRowContext(ctx, `SELECT `+incidentCols+` FROM incidents i
		LEFT JOIN incident_assignments a ON a.incident_id = i.id WHERE i.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return i, httpx.NotFound("Incident not found")
	}
	if err != nil {
		return i, fmt.Errorf("read incident: %w", err)
	}
	return i, nil
}

func (s *sqlStore) ResolveIncident(ctx context.Context, id, at int64) error {
	res, err := s.d.W.ExecContext(ctx, `UPDATE incidents SET resolved_at = ? WHERE id = ?`, at, id)
	if err != nil {
		return fmt.Errorf("resolve incident: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return httpx.NotFound("Incident not found")
	}
	return nil
}

func (s *sqlStore) Messages(ctx context.Context, incident int64, limit int) ([]IncidentMessage, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT id, incident_id, author, message, msg_type, created_at FROM incident_messages
		WHERE incident_id = ? ORDER BY id LIMIT ?`, incident, limit)
	if err != nil {
		return nil, fmt.Errorf("incident messages: %w", err)
	}
	defer rows.Close()
	out := []IncidentMessage{}
	for rows.Next() {
		var m IncidentMessage
		if err := rows.Scan(&m.ID, &m.IncidentID, &m.Author, &m.Message, &m.MsgType, &m.CreatedAt); err != nil {
			return nil, fmt.Errorf("incident messages: %w", err)
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func (s *sqlStore) AddMessage(ctx context.Context, m IncidentMessage) (int64, error) {
	var newID int64
	err := s.d.W.QueryRowContext(ctx, `INSERT INTO incident_messages (incident_id, author, message, msg_type, created_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		m.IncidentID, m.Author, m.Message, m.MsgType, m.CreatedAt).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("post incident message: %w", err)
	}
	return newID, nil
}

func (s *sqlStore) Assign(ctx context.Context, incident int64, to, by string, at int64, note string) error {
	err := s.d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO incident_assignments (incident_id, assigned_to, assigned_by, assigned_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (incident_id) DO UPDATE SET assigned_to = excluded.assigned_to, assigned_by = excluded.assigned_by, assigned_at = excluded.assigned_at`,
			incident, to, by, at); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO incident_messages (incident_id, author, message, msg_type, created_at) VALUES (?, ?, ?, 'system', ?)`,
			incident, by, note, at)
		return err
	})
	if err != nil {
		return fmt.Errorf("assign incident: %w", err)
	}
	return nil
}

func (s *sqlStore) Dependencies(ctx context.Context) ([]Dependency, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT id, source_service, target_service, dependency_type, auto_discovered, created_at
		FROM service_dependencies ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("list dependencies: %w", err)
	}
	defer rows.Close()
	out := []Dependency{}
	for rows.Next() {
		var d Dependency
		if err := rows.Scan(&d.ID, &d.SourceService, &d.TargetService, &d.DependencyType, &d.AutoDiscovered, &d.CreatedAt); err != nil {
			return nil, fmt.Errorf("list dependencies: %w", err)
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func (s *sqlStore) AddDependency(ctx context.Context, d Dependency) (int64, error) {
	var newID int64
	err := s.d.W.QueryRowContext(ctx, `INSERT INTO service_dependencies (source_service, target_service, dependency_type, auto_discovered, created_at)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, d.SourceService, d.TargetService, d.DependencyType, d.AutoDiscovered, d.CreatedAt).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("create dependency: %w", err)
	}
	return newID, nil
}

func (s *sqlStore) DeleteDependency(ctx context.Context, id int64) error {
	res, err := s.d.W.ExecContext(ctx, `DELETE FROM service_dependencies WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete dependency: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return httpx.NotFound("Dependency not found")
	}
	return nil
}

const baselineCols = `id, path, expected_hash, agent_group, created_at, updated_at`

func scanBaseline(sc interface{ Scan(...any) error }) (Baseline, error) {
	var b Baseline
	err := sc.Scan(&b.ID, &b.Path, &b.ExpectedHash, &b.AgentGroup, &b.CreatedAt, &b.UpdatedAt)
	return b, err
}

func (s *sqlStore) Baselines(ctx context.Context) ([]Baseline, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT `+baselineCols+` FROM config_baselines ORDER BY path, id`)
	if err != nil {
		return nil, fmt.Errorf("list baselines: %w", err)
	}
	defer rows.Close()
	out := []Baseline{}
	for rows.Next() {
		b, err := scanBaseline(rows)
		if err != nil {
			return nil, fmt.Errorf("list baselines: %w", err)
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func (s *sqlStore) Baseline(ctx context.Context, id int64) (Baseline, error) {
	b, err := scanBaseline(s.d.R.QueryRowContext(ctx, `SELECT `+baselineCols+` FROM config_baselines WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return b, httpx.NotFound("Baseline not found")
	}
	if err != nil {
		return b, fmt.Errorf("read baseline: %w", err)
	}
	return b, nil
}

func (s *sqlStore) AddBaseline(ctx context.Context, b Baseline) (int64, error) {
	var newID int64
	err := s.d.W.QueryRowContext(ctx, `INSERT INTO config_baselines (path, expected_hash, agent_group, created_at, updated_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		b.Path, b.ExpectedHash, b.AgentGroup, b.CreatedAt, b.UpdatedAt).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("create baseline: %w", err)
	}
	return newID, nil
}

func (s *sqlStore) DeleteBaseline(ctx context.Context, id int64) error {
	var n int64
	err := s.d.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM drift_checks WHERE baseline_id = ?`, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM config_baselines WHERE id = ?`, id)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return fmt.Errorf("delete baseline: %w", err)
	}
	if n == 0 {
		return httpx.NotFound("Baseline not found")
	}
	return nil
}

func (s *sqlStore) SetExpected(ctx context.Context, id int64, hash string, at int64) error {
	res, err := s.d.W.ExecContext(ctx, `UPDATE config_baselines SET expected_hash = ?, updated_at = ? WHERE id = ?`, hash, at, id)
	if err != nil {
		return fmt.Errorf("set baseline hash: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return httpx.NotFound("Baseline not found")
	}
	return nil
}

func (s *sqlStore) AddDrift(ctx context.Context, r DriftResult) error {
	// A baseline deleted while its check ran: the row has nowhere to go.
	_, err := s.d.W.ExecContext(ctx, `INSERT INTO drift_checks (baseline_id, hostname, actual_hash, status, checked_at)
		SELECT ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM config_baselines WHERE id = ?)`,
		r.BaselineID, r.Hostname, r.ActualHash, r.Status, r.CheckedAt, r.BaselineID)
	if err != nil {
		return fmt.Errorf("record drift check: %w", err)
	}
	return nil
}

func (s *sqlStore) LatestDrift(ctx context.Context, id int64) ([]DriftResult, error) {
	rows, err := s.d.R.QueryContext(ctx, `SELECT d.id, d.baseline_id, d.hostname, d.actual_hash, d.status, d.checked_at, b.path, b.expected_hash
		FROM drift_checks d JOIN config_baselines b ON b.id = d.baseline_id
		WHERE (? = 0 OR d.baseline_id = ?) AND d.id = (SELECT x.id FROM drift_checks x WHERE x.baseline_id = d.baseline_id AND x.hostname = d.hostname
			ORDER BY x.checked_at DESC, x.id DESC LIMIT 1)
		ORDER BY d.checked_at DESC, d.id DESC`, id, id)
	if err != nil {
		return nil, fmt.Errorf("drift results: %w", err)
	}
	defer rows.Close()
	out := []DriftResult{}
	for rows.Next() {
		var r DriftResult
		var h sql.NullString
		if err := rows.Scan(&r.ID, &r.BaselineID, &r.Hostname, &h, &r.Status, &r.CheckedAt, &r.Path, &r.ExpectedHash); err != nil {
			return nil, fmt.Errorf("drift results: %w", err)
		}
		if h.Valid {
			v := h.String
			r.ActualHash = &v
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

func (s *sqlStore) PruneDrift(ctx context.Context, before int64) (int64, error) {
	res, err := s.d.W.ExecContext(ctx, `DELETE FROM drift_checks WHERE checked_at < ? AND id <> (SELECT x.id FROM drift_checks x
		WHERE x.baseline_id = drift_checks.baseline_id AND x.hostname = drift_checks.hostname ORDER BY x.checked_at DESC, x.id DESC LIMIT 1)`, before)
	if err != nil {
		return 0, fmt.Errorf("prune drift checks: %w", err)
	}
	return res.RowsAffected()
}
