-- +goose Up
-- Self-healing (spec 30 §6.2): the ledger of outcomes, trust per rule,
-- suggestions, healing maintenance windows, pre-action snapshots and the
-- healing dependency topology. Capability manifests live in 00004.
CREATE TABLE heal_ledger (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    correlation_key       TEXT NOT NULL,
    rule_id               TEXT NOT NULL,
    condition             TEXT NOT NULL DEFAULT '',
    target                TEXT NOT NULL DEFAULT '',
    action_type           TEXT NOT NULL,
    action_params         TEXT NOT NULL DEFAULT '{}',
    escalation_step       INTEGER NOT NULL DEFAULT 0,
    action_success        INTEGER,
    verified              INTEGER NOT NULL DEFAULT 0,
    duration_s            REAL NOT NULL DEFAULT 0,
    metrics_before        TEXT NOT NULL DEFAULT '{}',
    metrics_after         TEXT NOT NULL DEFAULT '{}',
    trust_level           TEXT NOT NULL DEFAULT 'notify',
    source                TEXT NOT NULL DEFAULT '',
    approval_id           INTEGER,
    created_at            INTEGER NOT NULL,
    risk_level            TEXT,
    snapshot_id           INTEGER,
    rollback_status       TEXT,
    dependency_root       TEXT,
    suppressed_by         TEXT,
    maintenance_window_id INTEGER,
    instance_id           TEXT,
    verification_detail   TEXT
);
CREATE INDEX idx_heal_ledger_rule ON heal_ledger(rule_id, condition, target, created_at);
CREATE INDEX idx_heal_ledger_created ON heal_ledger(created_at DESC);

CREATE TABLE trust_state (
    rule_id         TEXT PRIMARY KEY,
    current_level   TEXT NOT NULL DEFAULT 'notify',
    ceiling         TEXT NOT NULL DEFAULT 'execute',
    promoted_at     INTEGER,
    demoted_at      INTEGER,
    promotion_count INTEGER NOT NULL DEFAULT 0,
    demotion_count  INTEGER NOT NULL DEFAULT 0,
    last_evaluated  INTEGER
);

CREATE TABLE heal_suggestions (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    category         TEXT NOT NULL,
    severity         TEXT NOT NULL DEFAULT 'info',
    message          TEXT NOT NULL,
    rule_id          TEXT NOT NULL DEFAULT '',
    suggested_action TEXT,
    evidence         TEXT,
    dismissed        INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    UNIQUE (category, rule_id)
);

CREATE TABLE heal_maintenance_windows (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    target      TEXT NOT NULL,
    cron_expr   TEXT,
    duration_s  INTEGER NOT NULL,
    reason      TEXT NOT NULL DEFAULT '',
    action      TEXT NOT NULL DEFAULT 'suppress',
    active      INTEGER NOT NULL DEFAULT 1,
    created_by  TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    expires_at  INTEGER
);
CREATE INDEX idx_heal_maint_active ON heal_maintenance_windows(active, expires_at);

CREATE TABLE heal_snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    ledger_id   INTEGER,
    target      TEXT NOT NULL DEFAULT '',
    action_type TEXT NOT NULL,
    state       TEXT NOT NULL DEFAULT '{}',
    created_at  INTEGER NOT NULL
);
CREATE INDEX idx_heal_snapshots_ledger ON heal_snapshots(ledger_id);

CREATE TABLE dependency_graph (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    target          TEXT NOT NULL UNIQUE,
    depends_on      TEXT NOT NULL DEFAULT '[]',
    node_type       TEXT NOT NULL DEFAULT 'service',
    health_check    TEXT,
    site            TEXT,
    auto_discovered INTEGER NOT NULL DEFAULT 0,
    confirmed       INTEGER NOT NULL DEFAULT 1,
    created_at      INTEGER NOT NULL
);

-- +goose Down
DROP TABLE IF EXISTS dependency_graph;
DROP INDEX IF EXISTS idx_heal_snapshots_ledger;
DROP TABLE IF EXISTS heal_snapshots;
DROP INDEX IF EXISTS idx_heal_maint_active;
DROP TABLE IF EXISTS heal_maintenance_windows;
DROP TABLE IF EXISTS heal_suggestions;
DROP TABLE IF EXISTS trust_state;
DROP INDEX IF EXISTS idx_heal_ledger_created;
DROP INDEX IF EXISTS idx_heal_ledger_rule;
