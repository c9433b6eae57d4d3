-- +goose Up
-- Alert episodes: one row per firing of a rule (or built-in/external alert
-- key), resolved_at set when it clears (spec 10 §1.1, §13 F2).
CREATE TABLE alert_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    rule_id     TEXT NOT NULL,
    source      TEXT NOT NULL DEFAULT 'rule',
    timestamp   INTEGER NOT NULL,
    severity    TEXT NOT NULL DEFAULT 'warning',
    message     TEXT NOT NULL DEFAULT '',
    resolved_at INTEGER
);
CREATE INDEX idx_alert_history_rule_ts ON alert_history(rule_id, timestamp);
CREATE INDEX idx_alert_history_ts ON alert_history(timestamp DESC);
CREATE INDEX idx_alert_history_open ON alert_history(resolved_at);

-- Alert incidents, written by the alert engine and read by the
-- intelligence room (spec 30 §4).
CREATE TABLE IF NOT EXISTS incidents (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp      INTEGER NOT NULL,
    severity       TEXT NOT NULL DEFAULT 'info',
    source         TEXT NOT NULL DEFAULT '',
    title          TEXT NOT NULL DEFAULT '',
    details        TEXT NOT NULL DEFAULT '',
    resolved_at    INTEGER NOT NULL DEFAULT 0,
    auto_generated INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS idx_incidents_ts ON incidents(timestamp DESC);

-- In-app notifications: username NULL is a broadcast to every user. Read
-- state is per user (§13 F12), in notification_reads.
CREATE TABLE notifications (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp INTEGER NOT NULL,
    level     TEXT NOT NULL DEFAULT 'info',
    title     TEXT NOT NULL DEFAULT '',
    message   TEXT NOT NULL DEFAULT '',
    username  TEXT
);
CREATE INDEX idx_notifications_user ON notifications(username, timestamp DESC);

CREATE TABLE notification_reads (
    notification_id INTEGER NOT NULL REFERENCES notifications(id) ON DELETE CASCADE,
    username        TEXT NOT NULL,
    read_at         INTEGER NOT NULL,
    PRIMARY KEY (notification_id, username)
);

-- Maintenance windows of the automation system (spec 30 §1.10).
CREATE TABLE maintenance_windows (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    name              TEXT NOT NULL,
    schedule          TEXT,
    duration_min      INTEGER NOT NULL DEFAULT 60,
    one_off_start     INTEGER,
    one_off_end       INTEGER,
    suppress_alerts   INTEGER NOT NULL DEFAULT 1,
    override_autonomy TEXT,
    auto_close_alerts INTEGER NOT NULL DEFAULT 0,
    enabled           INTEGER NOT NULL DEFAULT 1,
    created_by        TEXT NOT NULL DEFAULT '',
    created_at        INTEGER NOT NULL
);

-- +goose Down
DROP TABLE maintenance_windows;
DROP TABLE notification_reads;
DROP TABLE notifications;
DROP TABLE incidents;
DROP TABLE alert_history;
