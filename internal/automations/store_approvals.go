package automations

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/noba-go/noba/internal/httpx"
)

// Approval is one row of approval_queue (spec 30 §1.9).
type Approval struct {
	ID            int64          `json:"id"`
	AutomationID  string         `json:"automation_id"`
	RunID         *int64         `json:"run_id"`
	Trigger       string         `json:"trigger"`
	TriggerSource *string        `json:"trigger_source"`
	ActionType    string         `json:"action_type"`
	ActionParams  map[string]any `json:"action_params"`
	Target        *string        `json:"target"`
	Status        string         `json:"status"`
	RequestedAt   int64          `json:"requested_at"`
	RequestedBy   *string        `json:"requested_by"`
	DecidedAt     *int64         `json:"decided_at"`
	DecidedBy     *string        `json:"decided_by"`
	AutoApproveAt *int64         `json:"auto_approve_at"`
	Result        *string        `json:"result"`
	// Context is the paused workflow of an approval gate.
	Context *WorkflowContext `json:"-"`
}

// WorkflowContext is what a graph workflow needs to resume after a gate.
type WorkflowContext struct {
	AutoID       string           `json:"auto_id"`
	RunID        int64            `json:"run_id"`
	NodeID       string           `json:"node_id"`
	Nodes        []map[string]any `json:"nodes"`
	Edges        []map[string]any `json:"edges"`
	ApprovedNext string           `json:"approved_next"`
	DeniedNext   string           `json:"denied_next"`
	TriggeredBy  string           `json:"triggered_by"`
	AuthorRole   string           `json:"author_role"`
	OnTimeout    string           `json:"on_timeout,omitempty"`
}

const apprCols = `id, automation_id, run_id, trigger, trigger_source, action_type, action_params, target, status, requested_at,
	requested_by, decided_at, decided_by, auto_approve_at, result, workflow_context`

func scanApproval(sc scanner) (Approval, error) {
	var a Approval
	var run, dec, auto sql.NullInt64
	var src, target, reqBy, decBy, result, wctx sql.NullString
	var params string
	if err := sc.Scan(&a.ID, &a.AutomationID, &run, &a.Trigger, &src, &a.ActionType, &params, &target, &a.Status, &a.RequestedAt,
		&reqBy, &dec, &decBy, &auto, &result, &wctx); err != nil {
		return a, err
	}
	a.RunID, a.DecidedAt, a.AutoApproveAt = ptrInt(run), ptrInt(dec), ptrInt(auto)
	a.TriggerSource, a.Target, a.RequestedBy, a.DecidedBy, a.Result = ptrStr(src), ptrStr(target), ptrStr(reqBy), ptrStr(decBy), ptrStr(result)
	if err := json.Unmarshal([]byte(params), &a.ActionParams); err != nil || a.ActionParams == nil {
		a.ActionParams = map[string]any{}
	}
	if wctx.Valid && wctx.String != "" {
		var c WorkflowContext
		if json.Unmarshal([]byte(wctx.String), &c) == nil {
			a.Context = &c
		}
	}
	return a, nil
}

func ptrInt(v sql.NullInt64) *int64 {
	if !v.Valid {
		return nil
	}
	return &v.Int64
}

func ptrStr(v sql.NullString) *string {
	if !v.Valid {
		return nil
	}
	return &v.String
}

func optStr(s *string) any {
	if s == nil {
		return nil
	}
	return *s
}

// InsertApproval adds a pending approval and returns its id.
func (s *Store) InsertApproval(ctx context.Context, a Approval) (int64, error) {
	params, _ := json.Marshal(a.ActionParams)
	if a.ActionParams == nil {
		params = []byte("{}")
	}
	var wctx any
	if a.Context != nil {
		b, err := json.Marshal(a.Context)
		if err != nil {
			return 0, fmt.Errorf("encode workflow context: %w", err)
		}
		wctx = string(b)
	}
	var newID int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO approval_queue (automation_id, run_id, trigger, trigger_source, action_type,
		action_params, target, status, requested_at, requested_by, auto_approve_at, workflow_context)
		VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?) RETURNING id`, a.AutomationID, a.RunID, a.Trigger, optStr(a.TriggerSource),
		a.ActionType, string(params), optStr(a.Target), a.RequestedAt, optStr(a.RequestedBy), a.AutoApproveAt, wctx).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("insert approval: %w", err)
	}
	return newID, nil
}

// GetApproval returns one approval or a 404 error.
func (s *Store) GetApproval(ctx context.Context, id int64) (Approval, error) {
	a, err := scanApproval(s.db.R.QueryRowContext(ctx, `SELECT `+apprCols+` FROM approval_queue WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return a, httpx.NotFound("Approval not found")
	}
	if err != nil {
		return a, fmt.Errorf("get approval: %w", err)
	}
	return a, nil
}

// ListApprovals returns approvals of status newest first.
func (s *Store) ListApprovals(ctx context.Context, status string, limit int) ([]Approval, error) {
	return s.queryApprovals(ctx, `WHERE status = ? ORDER BY requested_at DESC, id DESC LIMIT ?`, status, limit)
}

// ApprovalsOfRun returns the approvals of a workflow run with status.
func (s *Store) ApprovalsOfRun(ctx context.Context, runID int64, status string) ([]Approval, error) {
	return s.queryApprovals(ctx, `WHERE run_id = ? AND status = ? ORDER BY id`, runID, status)
}

// DueApprovals returns pending approvals whose auto-approve time has come.
func (s *Store) DueApprovals(ctx context.Context, now int64) ([]Approval, error) {
	return s.queryApprovals(ctx, `WHERE status = 'pending' AND auto_approve_at IS NOT NULL AND auto_approve_at <= ? ORDER BY id`, now)
}

func (s *Store) queryApprovals(ctx context.Context, where string, args ...any) ([]Approval, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+apprCols+` FROM approval_queue `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("list approvals: %w", err)
	}
	defer rows.Close()
	out := []Approval{}
	for rows.Next() {
		a, err := scanApproval(rows)
		if err != nil {
			return nil, fmt.Errorf("list approvals: %w", err)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// CountPending counts pending approvals.
func (s *Store) CountPending(ctx context.Context) (int, error) {
	var n int
	err := s.db.R.QueryRowContext(ctx, `SELECT COUNT(*) FROM approval_queue WHERE status = 'pending'`).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("count approvals: %w", err)
	}
	return n, nil
}

// DecideApproval moves a pending approval to status; false when it was no
// longer pending (a concurrent decision won).
func (s *Store) DecideApproval(ctx context.Context, id int64, status string, by *string, now int64) (bool, error) {
	res, err := s.db.W.ExecContext(ctx, `UPDATE approval_queue SET status = ?, decided_at = ?, decided_by = ?
		WHERE id = ? AND status = 'pending'`, status, now, optStr(by), id)
	if err != nil {
		return false, fmt.Errorf("decide approval: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// SetApprovalResult stores the JSON result of an executed approval.
func (s *Store) SetApprovalResult(ctx context.Context, id int64, result string) error {
	if _, err := s.db.W.ExecContext(ctx, `UPDATE approval_queue SET result = ? WHERE id = ?`, result, id); err != nil {
		return fmt.Errorf("approval result: %w", err)
	}
	return nil
}

// ActionAudit is one row of action_audit.
type ActionAudit struct {
	ID             int64          `json:"id"`
	Timestamp      int64          `json:"timestamp"`
	TriggerType    string         `json:"trigger_type"`
	TriggerID      string         `json:"trigger_id"`
	ActionType     string         `json:"action_type"`
	ActionParams   map[string]any `json:"action_params"`
	Target         *string        `json:"target"`
	Outcome        string         `json:"outcome"`
	DurationS      float64        `json:"duration_s"`
	Output         *string        `json:"output"`
	ApprovedBy     *string        `json:"approved_by"`
	RollbackResult *string        `json:"rollback_result"`
	Error          *string        `json:"error"`
}

// InsertActionAudit records one remediation action execution.
func (s *Store) InsertActionAudit(ctx context.Context, a ActionAudit) (int64, error) {
	var params any
	if a.ActionParams != nil {
		b, _ := json.Marshal(a.ActionParams)
		params = string(b)
	}
	var newID int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO action_audit (timestamp, trigger_type, trigger_id, action_type, action_params,
		target, outcome, duration_s, output, approved_by, rollback_result, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		a.Timestamp, a.TriggerType, a.TriggerID, a.ActionType, params, optStr(a.Target), a.Outcome, a.DurationS, optStr(a.Output),
		optStr(a.ApprovedBy), optStr(a.RollbackResult), optStr(a.Error)).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("insert action audit: %w", err)
	}
	return newID, nil
}

// ListActionAudit returns audit rows newest first.
func (s *Store) ListActionAudit(ctx context.Context, limit int, triggerType, outcome string) ([]ActionAudit, error) {
	q, args := `SELECT id, timestamp, COALESCE(trigger_type, ''), COALESCE(trigger_id, ''), COALESCE(action_type, ''), action_params,
		target, COALESCE(outcome, ''), COALESCE(duration_s, 0), output, approved_by, rollback_result, error FROM action_audit WHERE 1 = 1`, []any{}
	if triggerType != "" {
		q, args = q+` AND trigger_type = ?`, append(args, triggerType)
	}
	if outcome != "" {
		q, args = q+` AND outcome = ?`, append(args, outcome)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY timestamp DESC, id DESC LIMIT ?`, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("action audit: %w", err)
	}
	defer rows.Close()
	out := []ActionAudit{}
	for rows.Next() {
		var a ActionAudit
		var params, target, output, appr, rb, e sql.NullString
		if err := rows.Scan(&a.ID, &a.Timestamp, &a.TriggerType, &a.TriggerID, &a.ActionType, &params, &target, &a.Outcome,
			&a.DurationS, &output, &appr, &rb, &e); err != nil {
			return nil, fmt.Errorf("action audit: %w", err)
		}
		if params.Valid {
			_ = json.Unmarshal([]byte(params.String), &a.ActionParams)
		}
		a.Target, a.Output, a.ApprovedBy, a.RollbackResult, a.Error = ptrStr(target), ptrStr(output), ptrStr(appr), ptrStr(rb), ptrStr(e)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Webhook is an inbound webhook endpoint (the secret is never listed).
type Webhook struct {
	ID            int64   `json:"id"`
	Name          string  `json:"name"`
	HookID        string  `json:"hook_id"`
	AutomationID  *string `json:"automation_id"`
	Enabled       bool    `json:"enabled"`
	LastTriggered *int64  `json:"last_triggered"`
	TriggerCount  int     `json:"trigger_count"`
	CreatedAt     int64   `json:"created_at"`
	secret        string
}

const hookCols = `id, name, hook_id, automation_id, enabled, last_triggered, trigger_count, created_at, secret`

func scanHook(sc scanner) (Webhook, error) {
	var w Webhook
	var aid sql.NullString
	var last sql.NullInt64
	var en int
	if err := sc.Scan(&w.ID, &w.Name, &w.HookID, &aid, &en, &last, &w.TriggerCount, &w.CreatedAt, &w.secret); err != nil {
		return w, err
	}
	w.AutomationID, w.LastTriggered, w.Enabled = ptrStr(aid), ptrInt(last), en != 0
	return w, nil
}

// ListWebhooks returns the endpoints newest first.
func (s *Store) ListWebhooks(ctx context.Context) ([]Webhook, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT `+hookCols+` FROM webhook_endpoints ORDER BY created_at DESC, id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	defer rows.Close()
	out := []Webhook{}
	for rows.Next() {
		w, err := scanHook(rows)
		if err != nil {
			return nil, fmt.Errorf("list webhooks: %w", err)
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// WebhookByHookID returns the endpoint of a hook id.
func (s *Store) WebhookByHookID(ctx context.Context, hookID string) (Webhook, error) {
	w, err := scanHook(s.db.R.QueryRowContext(ctx, `SELECT `+hookCols+` FROM webhook_endpoints WHERE hook_id = ?`, hookID))
	if errors.Is(err, sql.ErrNoRows) {
		return w, httpx.NotFound("Not found")
	}
	return w, err
}

// CreateWebhook inserts an endpoint.
func (s *Store) CreateWebhook(ctx context.Context, name, hookID, secret string, autoID *string, now int64) (int64, error) {
	var newID int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO webhook_endpoints (name, hook_id, secret, automation_id, enabled, trigger_count, created_at)
		VALUES (?, ?, ?, ?, 1, 0, ?) RETURNING id`, name, hookID, secret, optStr(autoID), now).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("create webhook: %w", err)
	}
	return newID, nil
}

// DeleteWebhook deletes an endpoint; false when it does not exist.
func (s *Store) DeleteWebhook(ctx context.Context, id int64) (bool, error) {
	res, err := s.db.W.ExecContext(ctx, `DELETE FROM webhook_endpoints WHERE id = ?`, id)
	if err != nil {
		return false, fmt.Errorf("delete webhook: %w", err)
	}
	n, _ := res.RowsAffected()
	return n == 1, nil
}

// TouchWebhook counts a delivery.
func (s *Store) TouchWebhook(ctx context.Context, id, now int64) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE webhook_endpoints SET trigger_count = trigger_count + 1, last_triggered = ? WHERE id = ?`, now, id)
	if err != nil {
		return fmt.Errorf("touch webhook: %w", err)
	}
	return nil
}

// Playbook is a playbook template.
type Playbook struct {
	ID          string         `json:"id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Category    string         `json:"category"`
	Config      map[string]any `json:"config"`
	Version     int            `json:"version"`
}

// SeedPlaybooks inserts the built-in playbooks that are absent.
func (s *Store) SeedPlaybooks(ctx context.Context, pbs []Playbook) error {
	for _, p := range pbs {
		cfg, _ := json.Marshal(p.Config)
		if _, err := s.db.W.ExecContext(ctx, `INSERT INTO playbook_templates (id, name, description, category, config, version)
			VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING`, p.ID, p.Name, p.Description, p.Category, string(cfg), p.Version); err != nil {
			return fmt.Errorf("seed playbooks: %w", err)
		}
	}
	return nil
}

// Playbooks lists the templates by category, then name; id "" lists all.
func (s *Store) Playbooks(ctx context.Context, id string) ([]Playbook, error) {
	q, args := `SELECT id, name, description, category, config, version FROM playbook_templates`, []any{}
	if id != "" {
		q, args = q+` WHERE id = ?`, append(args, id)
	}
	rows, err := s.db.R.QueryContext(ctx, q+` ORDER BY category, name`, args...)
	if err != nil {
		return nil, fmt.Errorf("playbooks: %w", err)
	}
	defer rows.Close()
	out := []Playbook{}
	for rows.Next() {
		var p Playbook
		var cfg string
		if err := rows.Scan(&p.ID, &p.Name, &p.Description, &p.Category, &cfg, &p.Version); err != nil {
			return nil, fmt.Errorf("playbooks: %w", err)
		}
		_ = json.Unmarshal([]byte(cfg), &p.Config)
		out = append(out, p)
	}
	return out, rows.Err()
}

// TraceNode is one visited node of a graph workflow execution.
type TraceNode struct {
	NodeID     string `json:"node_id"`
	Type       string `json:"type"`
	Outcome    string `json:"outcome"`
	Detail     string `json:"detail"`
	JobRunID   *int64 `json:"job_run_id"`
	StartedAt  int64  `json:"started_at"`
	FinishedAt *int64 `json:"finished_at"`
}

// AddTrace records a node's start and returns the trace row id.
func (s *Store) AddTrace(ctx context.Context, runID int64, nodeID, typ, outcome string, now int64) (int64, error) {
	var newID int64
	err := s.db.W.QueryRowContext(ctx, `INSERT INTO workflow_trace (run_id, node_id, node_type, outcome, started_at) VALUES (?, ?, ?, ?, ?) RETURNING id`,
		runID, nodeID, typ, outcome, now).Scan(&newID)
	if err != nil {
		return 0, fmt.Errorf("trace: %w", err)
	}
	return newID, nil
}

// FinishTrace records a node's outcome.
func (s *Store) FinishTrace(ctx context.Context, id int64, outcome, detail string, jobRun *int64, now int64) error {
	_, err := s.db.W.ExecContext(ctx, `UPDATE workflow_trace SET outcome = ?, detail = ?, job_run_id = COALESCE(?, job_run_id), finished_at = ?
		WHERE id = ?`, outcome, detail, jobRun, now, id)
	if err != nil {
		return fmt.Errorf("trace: %w", err)
	}
	return nil
}

// Trace returns the nodes of a workflow run in visiting order.
func (s *Store) Trace(ctx context.Context, runID int64) ([]TraceNode, error) {
	rows, err := s.db.R.QueryContext(ctx, `SELECT node_id, node_type, outcome, detail, job_run_id, started_at, finished_at
		FROM workflow_trace WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("trace: %w", err)
	}
	defer rows.Close()
	out := []TraceNode{}
	for rows.Next() {
		var n TraceNode
		var job, fin sql.NullInt64
		if err := rows.Scan(&n.NodeID, &n.Type, &n.Outcome, &n.Detail, &job, &n.StartedAt, &fin); err != nil {
			return nil, fmt.Errorf("trace: %w", err)
		}
		n.JobRunID, n.FinishedAt = ptrInt(job), ptrInt(fin)
		out = append(out, n)
	}
	return out, rows.Err()
}
