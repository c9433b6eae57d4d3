-- +goose Up
CREATE TABLE users (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    username    TEXT NOT NULL UNIQUE,
    hash        TEXT NOT NULL,
    role        TEXT NOT NULL DEFAULT 'viewer',
    totp_secret TEXT NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL
);

CREATE TABLE tokens (
    token_hash TEXT PRIMARY KEY,
    prefix     TEXT NOT NULL DEFAULT '',
    kind       TEXT NOT NULL DEFAULT 'session',
    username   TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX idx_tokens_expires ON tokens(expires_at);
CREATE INDEX idx_tokens_user ON tokens(username);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    key_hash   TEXT NOT NULL UNIQUE,
    role       TEXT NOT NULL DEFAULT 'viewer',
    created_at INTEGER NOT NULL,
    expires_at INTEGER,
    last_used  INTEGER
);

CREATE TABLE audit (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp INTEGER NOT NULL,
    username  TEXT NOT NULL DEFAULT '',
    action    TEXT NOT NULL,
    details   TEXT NOT NULL DEFAULT '',
    ip        TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_audit_ts ON audit(timestamp DESC);
CREATE INDEX idx_audit_user_action ON audit(username, action);

CREATE TABLE settings_changes (
    id        INTEGER PRIMARY KEY AUTOINCREMENT,
    timestamp INTEGER NOT NULL,
    username  TEXT NOT NULL,
    changes   TEXT NOT NULL
);
CREATE INDEX idx_settings_changes_ts ON settings_changes(timestamp DESC);

CREATE TABLE user_preferences (
    username         TEXT PRIMARY KEY,
    preferences_json TEXT NOT NULL DEFAULT '{}',
    updated_at       INTEGER NOT NULL
);

-- +goose Down
DROP TABLE user_preferences;
DROP TABLE settings_changes;
DROP TABLE audit;
DROP TABLE api_keys;
DROP TABLE tokens;
DROP TABLE users;
