package healing

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/noba-go/noba/internal/db"
)

// Store is the healing tables (spec 30 §6.2).
type Store struct{ db *db.DB }

// NewStore wraps the database.
func NewStore(d *db.DB) *Store { return &Store{db: d} }

// LedgerRow is one heal_ledger row; JSON columns are strings and booleans
// 0/1/null as the reference returns them.
type LedgerRow struct {
	ID                  int64   `json:"id"`
	CorrelationKey      string  `json:"correlation_key"`
	RuleID              string  `json:"rule_id"`
	Condition           string  `json:"condition"`
	Target              string  `json:"target"`
	ActionType          string  `json:"action_type"`
	ActionParams        string  `json:"action_params"`
	EscalationStep      int     `json:"escalation_step"`
	ActionSuccess       *int    `json:"action_success"`
	Verified            int     `json:"verified"`
	DurationS           float64 `json:"duration_s"`
	MetricsBefore       string  `json:"metrics_before"`
	MetricsAfter        string  `json:"metrics_after"`
	TrustLevel          string  `json:"trust_level"`
	Source              string  `json:"source"`
	ApprovalID          *int64  `json:"approval_id"`
	CreatedAt           int64   `json:"created_at"`
	RiskLevel           *string `json:"risk_level"`
	SnapshotID          *int64  `json:"snapshot_id"`
	RollbackStatus      *string `json:"rollback_status"`
	DependencyRoot      *string `json:"dependency_root"`
	SuppressedBy        *string `json:"suppressed_by"`
	MaintenanceWindowID *int64  `json:"maintenance_window_id"`
	InstanceID          *string `json:"instance_id"`
	VerificationDetail  *string `json:"verification_detail"`
}

const ledgerCols = `id, correlation_key, rule_id, condition, target, action_type, action_params, escalation_step, action_success,
 verified, duration_s, metrics_before, metrics_after, trust_level, source, approval_id, created_at, risk_level, snapshot_id,
 rollback_status, dependency_root, suppressed_by, maintenance_window_id, instance_id, verification_detail`

func scanLedger(sc interface{ Scan(...any) error }) (LedgerRow, error) {
	var l LedgerRow
	err := sc.Scan(&l.ID, &l.CorrelationKey, &l.RuleID, &l.Condition, &l.Target, &l.ActionType, &l.ActionParams, &l.EscalationStep,
		&l.ActionSuccess, &l.Verified, &l.DurationS, &l.MetricsBefore, &l.MetricsAfter, &l.TrustLevel, &l.Source, &l.ApprovalID,
		&l.CreatedAt, &l.RiskLevel, &l.SnapshotID, &l.RollbackStatus, &l.DependencyRoot, &l.SuppressedBy, &l.MaintenanceWindowID,
		&l.InstanceID, &l.VerificationDetail)
	return l, err
}

func jsonText(v any) string {
	if v == nil {
		return "{}"
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "{}"
	}
	return string(b)
}

// InsertLedger writes one outcome row and returns its id.
func (s *Store) InsertLedger(ctx context.Context, l LedgerRow) (int64, error) {
	var newID int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO heal_ledger (correlation_key, rule_id, condition, target, action_type,
 action_params, escalation_step, action_success, verified, duration_s, metrics_before, metrics_after, trust_level, source,
 approval_id, created_at, risk_level, snapshot_id, rollback_status, dependency_root, suppressed_by, maintenance_window_id,
 instance_id, verification_detail) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		l.CorrelationKey, l.RuleID, l.Condition, l.Target, l.ActionType, l.ActionParams, l.EscalationStep, l.ActionSuccess,
		l.Verified, l.DurationS, l.MetricsBefore, l.MetricsAfter, l.TrustLevel, l.Source, l.ApprovalID, l.CreatedAt, l.RiskLevel,
		l.SnapshotID, l.RollbackStatus, l.DependencyRoot, l.SuppressedBy, l.MaintenanceWindowID, l.InstanceID, l.VerificationDetail).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("insert ledger: %w", err)
	}
	return newID, nil
}

// SetLedgerSnapshot links a snapshot to its ledger row.
func (s *Store) SetLedgerSnapshot(ctx context.Context, ledgerID, snapID int64) error {
	if _, err := s.db.W.ExecContext(ctx, `UPDATE heal_snapshots SET ledger_id=? WHERE id=?`, ledgerID, snapID); err != nil {
		return fmt.Errorf("link snapshot: %w", err)
	}
	_, err := s.db.W.ExecContext(ctx, `UPDATE heal_ledger SET snapshot_id=? WHERE id=?`, snapID, ledgerID)
	return err
}

// SetRollbackStatus records a rollback outcome on a ledger row.
func (s *Store) SetRollbackStatus(ctx context.Context, id int64, status string) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE heal_ledger SET rollback_status=? WHERE id=?`, status, id)
	return err
}

// Ledger lists rows newest first with optional exact filters.
func (s *Store) Ledger(ctx context.Context, limit int, ruleID, target string) ([]LedgerRow, error) {
	q := `SELECT ` + ledgerCols + ` FROM heal_ledger WHERE 1=1`
	var args []any
	if ruleID != "" {
		q += ` AND rule_id=?`
		args = append(args, ruleID)
	}
	if target != "" {
		q += ` AND target=?`
		args = append(args, target)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	args = append(args, limit)
	rows, err := s.db.R.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("ledger: %w", err)
	}
	defer rows.Close()
	out := []LedgerRow{}
	for rows.Next() {
		l, err := scanLedger(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// LedgerByID returns one row.
func (s *Store) LedgerByID(ctx context.Context, id int64) (LedgerRow, error) {
	l, err := scanLedger(s.db.R.QueryRowContext(ctx, `SELECT `+ledgerCols+` FROM heal_ledger WHERE id=?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return l, errNotFound
	}
	return l, err
}

var errNotFound = errors.New("not found")

// SuccessRate is the verified share (percent) of executed rows of
// action/condition(/target) since since; ok false when there is no data.
func (s *Store) SuccessRate(ctx context.Context, action, condition, target string, since int64) (float64, bool, error) {
	q := `SELECT COUNT(*), COALESCE(SUM(verified),0) FROM heal_ledger WHERE action_type=? AND condition=? AND created_at>=? AND action_success IS NOT NULL`
	args := []any{action, condition, since}
	if target != "" {
		q += ` AND target=?`
		args = append(args, target)
	}
	var n, v int64
	if err := s.db.R.QueryRowContext(ctx, q, args...).Scan(&n, &v); err != nil {
		return 0, false, fmt.Errorf("success rate: %w", err)
	}
	if n == 0 {
		return 0, false, nil
	}
	return float64(v) * 100 / float64(n), true, nil
}

// UnverifiedRecent counts, among the rule's latest 50 rows, executed and
// unverified rows created at or after since (the circuit breaker).
func (s *Store) UnverifiedRecent(ctx context.Context, ruleID string, since int64) (int, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT created_at, action_success, verified FROM heal_ledger
 WHERE rule_id=? ORDER BY created_at DESC, id DESC LIMIT 50) AS recent WHERE created_at>=? AND action_success IS NOT NULL AND verified=0`,
		ruleID, since).Scan(&n)
	return n, err
}

// Effectiveness summarises the latest 500 rows.
func (s *Store) Effectiveness(ctx context.Context) (total, verified, pending int, err error) {
	err = s.db.R.QueryRowContext(ctx, `SELECT COUNT(*), COALESCE(SUM(CASE WHEN verified=1 THEN 1 ELSE 0 END),0),
 COALESCE(SUM(CASE WHEN action_success IS NULL THEN 1 ELSE 0 END),0) FROM (SELECT verified, action_success FROM heal_ledger
 ORDER BY created_at DESC, id DESC LIMIT 500) AS recent`).Scan(&total, &verified, &pending)
	return
}

// MTTR is the mean duration of verified rows per condition since since.
func (s *Store) MTTR(ctx context.Context, since int64) (map[string]float64, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT condition, AVG(duration_s) FROM heal_ledger WHERE verified=1 AND created_at>=? GROUP BY condition`, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]float64{}
	for rows.Next() {
		var c string
		var v float64
		if err := rows.Scan(&c, &v); err != nil {
			return nil, err
		}
		out[c] = v
	}
	return out, rows.Err()
}

// TrustRow is one trust_state row.
type TrustRow struct {
	RuleID         string `json:"rule_id"`
	CurrentLevel   string `json:"current_level"`
	Ceiling        string `json:"ceiling"`
	PromotedAt     *int64 `json:"promoted_at"`
	DemotedAt      *int64 `json:"demoted_at"`
	PromotionCount int    `json:"promotion_count"`
	DemotionCount  int    `json:"demotion_count"`
	LastEvaluated  *int64 `json:"last_evaluated"`
}

const trustCols = `rule_id, current_level, ceiling, promoted_at, demoted_at, promotion_count, demotion_count, last_evaluated`

func scanTrust(sc interface{ Scan(...any) error }) (TrustRow, error) {
	var t TrustRow
	err := sc.Scan(&t.RuleID, &t.CurrentLevel, &t.Ceiling, &t.PromotedAt, &t.DemotedAt, &t.PromotionCount, &t.DemotionCount, &t.LastEvaluated)
	return t, err
}

// Trust returns the rule's trust row; ok false when there is none.
func (s *Store) Trust(ctx context.Context, ruleID string) (TrustRow, bool, error) {
	t, err := scanTrust(s.db.R.QueryRowContext(ctx, `SELECT `+trustCols+` FROM trust_state WHERE rule_id=?`, ruleID))
	if errors.Is(err, sql.ErrNoRows) {
		return t, false, nil
	}
	if err != nil {
		return t, false, fmt.Errorf("trust: %w", err)
	}
	return t, true, nil
}

// TrustList lists every trust row by rule id.
func (s *Store) TrustList(ctx context.Context) ([]TrustRow, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+trustCols+` FROM trust_state ORDER BY rule_id`)
	if err != nil {
		return nil, fmt.Errorf("trust list: %w", err)
	}
	defer rows.Close()
	out := []TrustRow{}
	for rows.Next() {
		t, err := scanTrust(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// UpsertTrust applies a manual change (spec 30 §6.5, ranked with the full
// five-level order) inside one transaction and returns the old level.
func (s *Store) UpsertTrust(ctx context.Context, ruleID, level, ceiling string, now int64) (old string, err error) {
	err = s.db.Tx(ctx, func(tx *sql.Tx) error {
		var cur string
		e := tx.QueryRowContext(ctx, `SELECT current_level FROM trust_state WHERE rule_id=?`, ruleID).Scan(&cur)
		if errors.Is(e, sql.ErrNoRows) {
			_, e = tx.ExecContext(ctx, `INSERT INTO trust_state (rule_id, current_level, ceiling, last_evaluated) VALUES (?,?,?,?)`,
				ruleID, level, ceiling, now)
			return e
		}
		if e != nil {
			return e
		}
		old = cur
		switch {
		case cur == level:
			_, e = tx.ExecContext(ctx, `UPDATE trust_state SET ceiling=?, last_evaluated=? WHERE rule_id=?`, ceiling, now, ruleID)
		case rank(level) > rank(cur):
			_, e = tx.ExecContext(ctx, `UPDATE trust_state SET current_level=?, ceiling=?, promoted_at=?, last_evaluated=?,
 promotion_count=promotion_count+1 WHERE rule_id=?`, level, ceiling, now, now, ruleID)
		default:
			_, e = tx.ExecContext(ctx, `UPDATE trust_state SET current_level=?, ceiling=?, demoted_at=?, last_evaluated=?,
 demotion_count=demotion_count+1 WHERE rule_id=?`, level, ceiling, now, now, ruleID)
		}
		return e
	})
	if err != nil {
		return "", fmt.Errorf("upsert trust: %w", err)
	}
	return old, nil
}

// Suggestion is one heal_suggestions row (JSON columns as strings).
type Suggestion struct {
	ID              int64   `json:"id"`
	Category        string  `json:"category"`
	Severity        string  `json:"severity"`
	Message         string  `json:"message"`
	RuleID          *string `json:"rule_id"`
	SuggestedAction *string `json:"suggested_action"`
	Evidence        *string `json:"evidence"`
	Dismissed       int     `json:"dismissed"`
	CreatedAt       int64   `json:"created_at"`
	UpdatedAt       int64   `json:"updated_at"`
}

// UpsertSuggestion inserts or refreshes the (category, rule_id)
// suggestion, keeping its dismissed flag; an empty rule id is a value.
func (s *Store) UpsertSuggestion(ctx context.Context, sg Suggestion, now int64) error {
	rid := ""
	if sg.RuleID != nil {
		rid = *sg.RuleID
	}
	_, err := s.db.W.ExecContext(ctx, `INSERT INTO heal_suggestions (category, severity, message, rule_id, suggested_action, evidence,
 dismissed, created_at, updated_at) VALUES (?,?,?,?,?,?,0,?,?) ON CONFLICT(category, rule_id) DO UPDATE SET severity=excluded.severity,
 message=excluded.message, suggested_action=excluded.suggested_action, evidence=excluded.evidence, updated_at=excluded.updated_at`,
		sg.Category, sg.Severity, sg.Message, rid, sg.SuggestedAction, sg.Evidence, now, now)
	if err != nil {
		return fmt.Errorf("upsert suggestion: %w", err)
	}
	return nil
}

// Suggestions lists the non-dismissed suggestions newest first.
func (s *Store) Suggestions(ctx context.Context) ([]Suggestion, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, category, severity, message, rule_id, suggested_action, evidence, dismissed,
 created_at, updated_at FROM heal_suggestions WHERE dismissed=0 ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("suggestions: %w", err)
	}
	defer rows.Close()
	out := []Suggestion{}
	for rows.Next() {
		var sg Suggestion
		if err := rows.Scan(&sg.ID, &sg.Category, &sg.Severity, &sg.Message, &sg.RuleID, &sg.SuggestedAction, &sg.Evidence,
			&sg.Dismissed, &sg.CreatedAt, &sg.UpdatedAt); err != nil {
			return nil, err
		}
		if sg.RuleID != nil && *sg.RuleID == "" {
			sg.RuleID = nil
		}
		out = append(out, sg)
	}
	return out, rows.Err()
}

// DismissSuggestion marks a suggestion dismissed.
func (s *Store) DismissSuggestion(ctx context.Context, id, now int64) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE heal_suggestions SET dismissed=1, updated_at=? WHERE id=?`, now, id)
	return err
}

// Window is one healing maintenance window.
type Window struct {
	ID        int64   `json:"id"`
	Target    string  `json:"target"`
	CronExpr  *string `json:"cron_expr"`
	DurationS int64   `json:"duration_s"`
	Reason    string  `json:"reason"`
	Action    string  `json:"action"`
	Active    int     `json:"active"`
	CreatedBy string  `json:"created_by"`
	CreatedAt int64   `json:"created_at"`
	ExpiresAt *int64  `json:"expires_at"`
}

// InsertWindow creates a window.
func (s *Store) InsertWindow(ctx context.Context, w Window) (int64, error) {
	var newID int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO heal_maintenance_windows (target, duration_s, reason, action, active, created_by,
 created_at, expires_at) VALUES (?,?,?,?,1,?,?,?) RETURNING id`, w.Target, w.DurationS, w.Reason, w.Action, w.CreatedBy, w.CreatedAt, w.ExpiresAt).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("insert window: %w", err)
	}
	return newID, nil
}

// ActiveWindows lists active, unexpired windows newest first.
func (s *Store) ActiveWindows(ctx context.Context, now int64) ([]Window, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, target, cron_expr, duration_s, reason, action, active, created_by, created_at,
 expires_at FROM heal_maintenance_windows WHERE active=1 AND (expires_at IS NULL OR expires_at>?) ORDER BY created_at DESC, id DESC`, now)
	if err != nil {
		return nil, fmt.Errorf("windows: %w", err)
	}
	defer rows.Close()
	out := []Window{}
	for rows.Next() {
		var w Window
		if err := rows.Scan(&w.ID, &w.Target, &w.CronExpr, &w.DurationS, &w.Reason, &w.Action, &w.Active, &w.CreatedBy, &w.CreatedAt,
			&w.ExpiresAt); err != nil {
			return nil, err
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// EndWindow deactivates a window; false when the id does not exist.
func (s *Store) EndWindow(ctx context.Context, id int64) (bool, error) {
	res, err := s.db.W.ExecContext(ctx, `UPDATE heal_maintenance_windows SET active=0 WHERE id=?`, id)
	if err != nil {
		return false, fmt.Errorf("end window: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// InsertSnapshot stores a pre-action state.
func (s *Store) InsertSnapshot(ctx context.Context, target, action string, state map[string]any, now int64) (int64, error) {
	var newID int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO heal_snapshots (target, action_type, state, created_at) VALUES (?,?,?,?) RETURNING id`,
		target, action, jsonText(state), now).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("insert snapshot: %w", err)
	}
	return newID, nil
}

// SnapshotFor returns the latest snapshot of a ledger row.
func (s *Store) SnapshotFor(ctx context.Context, ledgerID int64) (id int64, action, target string, state map[string]any, err error) {
	var raw string
	err = s.db.R.QueryRowContext(ctx, `SELECT id, action_type, target, state FROM heal_snapshots WHERE ledger_id=? ORDER BY id DESC LIMIT 1`,
		ledgerID).Scan(&id, &action, &target, &raw)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, "", "", nil, errNotFound
	}
	if err != nil {
		return 0, "", "", nil, err
	}
	_ = json.Unmarshal([]byte(raw), &state)
	return id, action, target, state, nil
}

// Node is one dependency_graph row.
type Node struct {
	ID             int64   `json:"id"`
	Target         string  `json:"target"`
	DependsOn      string  `json:"depends_on"`
	NodeType       string  `json:"node_type"`
	HealthCheck    *string `json:"health_check"`
	Site           *string `json:"site"`
	AutoDiscovered int     `json:"auto_discovered"`
	Confirmed      int     `json:"confirmed"`
	CreatedAt      int64   `json:"created_at"`
}

// Nodes lists the dependency graph.
func (s *Store) Nodes(ctx context.Context) ([]Node, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, target, depends_on, node_type, health_check, site, auto_discovered, confirmed,
 created_at FROM dependency_graph ORDER BY target`)
	if err != nil {
		return nil, fmt.Errorf("nodes: %w", err)
	}
	defer rows.Close()
	out := []Node{}
	for rows.Next() {
		var n Node
		if err := rows.Scan(&n.ID, &n.Target, &n.DependsOn, &n.NodeType, &n.HealthCheck, &n.Site, &n.AutoDiscovered, &n.Confirmed,
			&n.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, rows.Err()
}

// ReplaceConfigNodes replaces the configured (not auto-discovered) nodes
// with nodes, in one transaction.
func (s *Store) ReplaceConfigNodes(ctx context.Context, nodes []Node, now int64) error {
	return s.db.Tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM dependency_graph WHERE auto_discovered=0`); err != nil {
			return err
		}
		for _, n := range nodes {
			if _, err := tx.ExecContext(ctx, `INSERT INTO dependency_graph (target, depends_on, node_type, health_check, site,
 auto_discovered, confirmed, created_at) VALUES (?,?,?,?,?,0,1,?) ON CONFLICT(target) DO UPDATE SET depends_on=excluded.depends_on,
 node_type=excluded.node_type, health_check=excluded.health_check, site=excluded.site, auto_discovered=0, confirmed=1`,
				n.Target, n.DependsOn, n.NodeType, n.HealthCheck, n.Site, now); err != nil {
				return err
			}
		}
		return nil
	})
}

// Manifest reads a stored capability manifest.
func (s *Store) Manifest(ctx context.Context, host string) (manifest map[string]any, probedAt int64, degraded []string, ok bool, err error) {
	var m, d string
	err = s.db.R.QueryRowContext(ctx, `SELECT manifest, probed_at, degraded_capabilities FROM capability_manifests WHERE hostname=?`,
		host).Scan(&m, &probedAt, &d)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, 0, nil, false, nil
	}
	if err != nil {
		return nil, 0, nil, false, fmt.Errorf("manifest: %w", err)
	}
	_ = json.Unmarshal([]byte(m), &manifest)
	if manifest == nil {
		manifest = map[string]any{}
	}
	_ = json.Unmarshal([]byte(d), &degraded)
	if degraded == nil {
		degraded = []string{}
	}
	return manifest, probedAt, degraded, true, nil
}

// RecentLedger returns the latest n rows (learning jobs).
func (s *Store) RecentLedger(ctx context.Context, n int) ([]LedgerRow, error) {
	return s.Ledger(ctx, n, "", "")
}

// LedgerByApproval returns the approve-path row of an approval.
func (s *Store) LedgerByApproval(ctx context.Context, approvalID int64) (LedgerRow, error) {
	l, err := scanLedger(s.db.R.QueryRowContext(ctx, `SELECT `+ledgerCols+` FROM heal_ledger WHERE approval_id=? ORDER BY id DESC LIMIT 1`, approvalID))
	if errors.Is(err, sql.ErrNoRows) {
		return l, errNotFound
	}
	return l, err
}

// ClaimApproval records detail (the decision) on the approve-path row of
// an approval that has none yet and reports whether it did; the row is
// returned as it stands. A row already decided (approved, or auto-denied
// by ExpireApprovals) is left alone: whichever writes first wins.
func (s *Store) ClaimApproval(ctx context.Context, approvalID int64, detail string) (LedgerRow, bool, error) {
	res, err := s.db.W.ExecContext(ctx, `UPDATE heal_ledger SET verification_detail=? WHERE approval_id=? AND action_success IS NULL
 AND verification_detail IS NULL`, detail, approvalID)
	if err != nil {
		return LedgerRow{}, false, fmt.Errorf("claim approval %d: %w", approvalID, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return LedgerRow{}, false, fmt.Errorf("claim approval %d: %w", approvalID, err)
	}
	l, err := s.LedgerByApproval(ctx, approvalID)
	return l, n > 0, err
}

// ExpireApprovals records detail on every undecided approve-path row
// created at or before before and returns those rows.
func (s *Store) ExpireApprovals(ctx context.Context, before int64, detail string) ([]LedgerRow, error) {
	rows, err := s.db.W.QueryContext(ctx, `UPDATE heal_ledger SET verification_detail=? WHERE approval_id IS NOT NULL
 AND action_success IS NULL AND verification_detail IS NULL AND created_at <= ? RETURNING `+ledgerCols, detail, before)
	if err != nil {
		return nil, fmt.Errorf("expire approvals: %w", err)
	}
	defer rows.Close()
	var out []LedgerRow
	for rows.Next() {
		l, err := scanLedger(rows)
		if err != nil {
			return nil, fmt.Errorf("expire approvals: %w", err)
		}
		out = append(out, l)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("expire approvals: %w", err)
	}
	return out, nil
}

// InsertChaosRun stores a live chaos run's result (§6.18 fix).
func (s *Store) InsertChaosRun(ctx context.Context, scenario, status, by string, result map[string]any, startedAt int64, durationS float64) (int64, error) {
	var id int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO healing_chaos_runs (scenario, status, run_by, result, started_at, duration_s)
 VALUES (?,?,?,?,?,?) RETURNING id`, scenario, status, by, jsonText(result), startedAt, durationS).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("chaos run: %w", err)
	}
	return id, nil
}

// ChaosRuns returns the latest stored live chaos runs, newest first.
func (s *Store) ChaosRuns(ctx context.Context, limit int) ([]map[string]any, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT id, scenario, status, run_by, result, started_at, duration_s FROM healing_chaos_runs
 ORDER BY id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("chaos runs: %w", err)
	}
	defer func() { _ = rows.Close() }()
	out := []map[string]any{}
	for rows.Next() {
		var id, started int64
		var sc, st, by, res string
		var dur float64
		if err := rows.Scan(&id, &sc, &st, &by, &res, &started, &dur); err != nil {
			return nil, fmt.Errorf("chaos runs: %w", err)
		}
		var m map[string]any
		_ = json.Unmarshal([]byte(res), &m)
		out = append(out, map[string]any{"id": id, "scenario": sc, "status": st, "run_by": by, "result": m, "started_at": started, "duration_s": dur})
	}
	return out, rows.Err()
}
