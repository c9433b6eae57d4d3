-- Intelligence and security rooms (spec 30 §4, §5): incident war room and
-- assignment (on the alert incidents of 00003), the service dependency
-- graph, config baselines with their drift checks, and security scans.

-- +goose Up
CREATE TABLE incident_messages (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL,
    author      TEXT NOT NULL DEFAULT '',
    message     TEXT NOT NULL,
    msg_type    TEXT NOT NULL DEFAULT 'comment',
    created_at  INTEGER NOT NULL
);
CREATE INDEX idx_incident_messages_incident ON incident_messages(incident_id, id);

CREATE TABLE incident_assignments (
    incident_id INTEGER PRIMARY KEY,
    assigned_to TEXT NOT NULL,
    assigned_by TEXT NOT NULL DEFAULT '',
    assigned_at INTEGER NOT NULL
);

CREATE TABLE service_dependencies (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    source_service  TEXT NOT NULL,
    target_service  TEXT NOT NULL,
    dependency_type TEXT NOT NULL DEFAULT 'requires',
    auto_discovered INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL
);

CREATE TABLE config_baselines (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    path          TEXT NOT NULL,
    expected_hash TEXT NOT NULL,
    agent_group   TEXT NOT NULL DEFAULT '__all__',
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);

CREATE TABLE drift_checks (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    baseline_id INTEGER NOT NULL REFERENCES config_baselines(id) ON DELETE CASCADE,
    hostname    TEXT NOT NULL,
    actual_hash TEXT,
    status      TEXT NOT NULL,
    checked_at  INTEGER NOT NULL
);
CREATE INDEX idx_drift_checks_baseline ON drift_checks(baseline_id, hostname, checked_at DESC, id DESC);

CREATE TABLE security_scores (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    hostname      TEXT NOT NULL,
    score         INTEGER NOT NULL,
    scanned_at    INTEGER NOT NULL,
    findings_json TEXT NOT NULL DEFAULT '[]'
);
CREATE INDEX idx_security_scores_host ON security_scores(hostname, scanned_at DESC, id DESC);

CREATE TABLE security_findings (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    hostname    TEXT NOT NULL,
    category    TEXT NOT NULL DEFAULT '',
    severity    TEXT NOT NULL DEFAULT 'low',
    description TEXT NOT NULL DEFAULT '',
    remediation TEXT NOT NULL DEFAULT '',
    score       INTEGER NOT NULL,
    found_at    INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX idx_security_findings_host ON security_findings(hostname);

-- +goose Down
DROP TABLE security_findings;
DROP TABLE security_scores;
DROP TABLE drift_checks;
DROP TABLE config_baselines;
DROP TABLE service_dependencies;
DROP TABLE incident_assignments;
DROP TABLE incident_messages;
