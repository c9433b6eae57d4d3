-- Monitoring room (spec 20 §1.1, §15): endpoint monitors, their check
-- history and state changes, and the public status page.

-- +goose Up
CREATE TABLE endpoint_monitors (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    name             TEXT NOT NULL,
    type             TEXT NOT NULL DEFAULT 'http',
    url              TEXT NOT NULL,
    method           TEXT NOT NULL DEFAULT 'GET',
    expected_status  INTEGER NOT NULL DEFAULT 200,
    keyword          TEXT NOT NULL DEFAULT '',
    verify_tls       INTEGER NOT NULL DEFAULT 1,
    dns_server       TEXT NOT NULL DEFAULT '',
    check_interval   INTEGER NOT NULL DEFAULT 300,
    timeout          INTEGER NOT NULL DEFAULT 10,
    agent_hostname   TEXT,
    enabled          INTEGER NOT NULL DEFAULT 1,
    created_at       INTEGER NOT NULL,
    last_checked     INTEGER,
    last_status      TEXT,
    last_response_ms INTEGER,
    last_status_code INTEGER,
    last_error       TEXT,
    cert_expiry_days INTEGER,
    cert_error       TEXT,
    notify_cert_days INTEGER NOT NULL DEFAULT 14,
    cert_alert_level TEXT NOT NULL DEFAULT '',
    cert_alerted_at  INTEGER NOT NULL DEFAULT 0,
    down_alerted     INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX idx_endpoint_monitors_enabled ON endpoint_monitors(enabled);

CREATE TABLE endpoint_check_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    monitor_id  INTEGER NOT NULL REFERENCES endpoint_monitors(id) ON DELETE CASCADE,
    timestamp   INTEGER NOT NULL,
    status      TEXT NOT NULL,
    response_ms INTEGER,
    status_code INTEGER,
    error       TEXT
);
CREATE INDEX idx_endpoint_check_history_monitor ON endpoint_check_history(monitor_id, timestamp, status, response_ms);
CREATE INDEX idx_endpoint_check_history_ts ON endpoint_check_history(timestamp);

-- Per-day check counts of a monitor (day = days since the epoch in the
-- server's time zone), kept beside the raw history so that the public
-- status page's 90-day bars and the 30-day uptime never scan the raw rows
-- (up_ms sums the response times of the up checks).
CREATE TABLE endpoint_daily (
    monitor_id INTEGER NOT NULL REFERENCES endpoint_monitors(id) ON DELETE CASCADE,
    day        INTEGER NOT NULL,
    up         INTEGER NOT NULL DEFAULT 0,
    total      INTEGER NOT NULL DEFAULT 0,
    up_ms      INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (monitor_id, day)
);

-- State changes of a monitor (down, recovered, certificate warnings): what
-- was sent to the alerts room, kept here so it is observable on its own.
CREATE TABLE endpoint_events (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    monitor_id INTEGER NOT NULL REFERENCES endpoint_monitors(id) ON DELETE CASCADE,
    timestamp  INTEGER NOT NULL,
    kind       TEXT NOT NULL,
    severity   TEXT NOT NULL,
    message    TEXT NOT NULL
);
CREATE INDEX idx_endpoint_events_monitor ON endpoint_events(monitor_id, timestamp);

CREATE TABLE status_components (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    group_name    TEXT NOT NULL DEFAULT 'Default',
    service_key   TEXT,
    monitor_id    INTEGER REFERENCES endpoint_monitors(id) ON DELETE SET NULL,
    display_order INTEGER NOT NULL DEFAULT 0,
    enabled       INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE status_incidents (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    title       TEXT NOT NULL,
    severity    TEXT NOT NULL DEFAULT 'minor',
    status      TEXT NOT NULL DEFAULT 'investigating',
    created_at  INTEGER NOT NULL,
    resolved_at INTEGER,
    created_by  TEXT NOT NULL DEFAULT '',
    assigned_to TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_status_incidents_created ON status_incidents(created_at);

CREATE TABLE status_updates (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    incident_id INTEGER NOT NULL REFERENCES status_incidents(id) ON DELETE CASCADE,
    message     TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'investigating',
    created_at  INTEGER NOT NULL,
    created_by  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_status_updates_incident ON status_updates(incident_id, created_at);

-- +goose Down
DROP TABLE status_updates;
DROP TABLE status_incidents;
DROP TABLE status_components;
DROP TABLE endpoint_events;
DROP TABLE endpoint_daily;
DROP TABLE endpoint_check_history;
DROP TABLE endpoint_monitors;
