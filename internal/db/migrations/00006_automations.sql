-- Automations room (spec 30 §1.1): automations, job runs (the job runner's
-- record, shared with healing), approvals, the remediation action audit,
-- playbook templates, inbound webhook endpoints and graph workflow traces.

-- +goose Up
CREATE TABLE automations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL,
    config      TEXT NOT NULL DEFAULT '{}',
    schedule    TEXT,
    enabled     INTEGER NOT NULL DEFAULT 1,
    created_by  TEXT NOT NULL DEFAULT '',
    author_role TEXT NOT NULL DEFAULT 'admin',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX idx_automations_name ON automations(name);

CREATE TABLE job_runs (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    automation_id TEXT,
    trigger       TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    started_at    INTEGER NOT NULL,
    finished_at   INTEGER,
    exit_code     INTEGER,
    output        TEXT,
    triggered_by  TEXT NOT NULL DEFAULT '',
    error         TEXT
);
CREATE INDEX idx_job_runs_automation ON job_runs(automation_id, started_at DESC);
CREATE INDEX idx_job_runs_status ON job_runs(status);

CREATE TABLE approval_queue (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    automation_id    TEXT NOT NULL,
    run_id           INTEGER,
    trigger          TEXT NOT NULL,
    trigger_source   TEXT,
    action_type      TEXT NOT NULL,
    action_params    TEXT NOT NULL DEFAULT '{}',
    target           TEXT,
    status           TEXT NOT NULL DEFAULT 'pending',
    requested_at     INTEGER NOT NULL,
    requested_by     TEXT,
    decided_at       INTEGER,
    decided_by       TEXT,
    auto_approve_at  INTEGER,
    result           TEXT,
    workflow_context TEXT
);
CREATE INDEX idx_approval_status ON approval_queue(status, requested_at DESC);

CREATE TABLE action_audit (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp       INTEGER NOT NULL,
    trigger_type    TEXT,
    trigger_id      TEXT,
    action_type     TEXT,
    action_params   TEXT,
    target          TEXT,
    outcome         TEXT,
    duration_s      REAL,
    output          TEXT,
    approved_by     TEXT,
    rollback_result TEXT,
    error           TEXT
);
CREATE INDEX idx_action_audit_ts ON action_audit(timestamp DESC);

CREATE TABLE playbook_templates (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category    TEXT NOT NULL DEFAULT '',
    config      TEXT NOT NULL DEFAULT '{}',
    version     INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE webhook_endpoints (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    name           TEXT NOT NULL,
    hook_id        TEXT NOT NULL UNIQUE,
    secret         TEXT NOT NULL,
    automation_id  TEXT,
    enabled        INTEGER NOT NULL DEFAULT 1,
    last_triggered INTEGER,
    trigger_count  INTEGER NOT NULL DEFAULT 0,
    created_at     INTEGER NOT NULL
);

-- One row per graph workflow node visited by an execution (run_id is the
-- workflow-level job run).
CREATE TABLE workflow_trace (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id      INTEGER NOT NULL,
    node_id     TEXT NOT NULL,
    node_type   TEXT NOT NULL,
    outcome     TEXT NOT NULL,
    detail      TEXT NOT NULL DEFAULT '',
    job_run_id  INTEGER,
    started_at  INTEGER NOT NULL,
    finished_at INTEGER
);
CREATE INDEX idx_workflow_trace_run ON workflow_trace(run_id, id);

-- +goose Down
DROP TABLE workflow_trace;
DROP TABLE webhook_endpoints;
DROP TABLE playbook_templates;
DROP TABLE action_audit;
DROP TABLE approval_queue;
DROP TABLE job_runs;
DROP TABLE automations;
