-- +goose Up
CREATE TABLE agent_registry (
    hostname      TEXT PRIMARY KEY,
    ip            TEXT NOT NULL DEFAULT '',
    platform      TEXT NOT NULL DEFAULT '',
    arch          TEXT NOT NULL DEFAULT '',
    agent_version TEXT NOT NULL DEFAULT '',
    first_seen    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    config_json   TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE agent_command_history (
    id          TEXT PRIMARY KEY,
    hostname    TEXT NOT NULL,
    cmd_type    TEXT NOT NULL,
    params      TEXT NOT NULL DEFAULT '{}',
    queued_by   TEXT NOT NULL,
    queued_at   BIGINT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'queued',
    result      TEXT,
    finished_at BIGINT,
    -- SQLite's implicit rowid (insertion order), which the store uses to
    -- order commands queued in the same second.
    rowid       BIGINT GENERATED ALWAYS AS IDENTITY
);
CREATE INDEX idx_agent_cmd_host ON agent_command_history(hostname, queued_at DESC);
CREATE INDEX idx_agent_cmd_status ON agent_command_history(status);
CREATE INDEX idx_agent_cmd_queued ON agent_command_history(queued_at DESC);

CREATE TABLE IF NOT EXISTS capability_manifests (
    hostname              TEXT PRIMARY KEY,
    manifest              TEXT NOT NULL DEFAULT '{}',
    probed_at             BIGINT NOT NULL DEFAULT 0,
    degraded_capabilities TEXT NOT NULL DEFAULT '[]'
);

-- +goose Down
DROP INDEX IF EXISTS idx_agent_cmd_queued;
DROP INDEX IF EXISTS idx_agent_cmd_status;
DROP INDEX IF EXISTS idx_agent_cmd_host;
DROP TABLE IF EXISTS agent_command_history;
DROP TABLE IF EXISTS agent_registry;
