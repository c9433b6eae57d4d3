-- Integration instances room (spec 30 §3.1): several configured instances
-- of each integration platform, each with its own URL, credentials, TLS
-- settings and health, and named groups of instances.

-- +goose Up
CREATE TABLE integration_instances (
    id            TEXT PRIMARY KEY,
    category      TEXT NOT NULL,
    platform      TEXT NOT NULL,
    url           TEXT NOT NULL DEFAULT '',
    auth_config   TEXT NOT NULL DEFAULT '{}',
    site          TEXT,
    tags          TEXT NOT NULL DEFAULT '[]',
    enabled       BIGINT NOT NULL DEFAULT 1,
    health_status TEXT NOT NULL DEFAULT 'unknown',
    health_error  TEXT NOT NULL DEFAULT '',
    last_checked  BIGINT,
    last_seen     BIGINT,
    created_at    BIGINT NOT NULL,
    verify_ssl    BIGINT NOT NULL DEFAULT 1,
    ca_bundle     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX idx_integration_instances_category ON integration_instances(category);
CREATE INDEX idx_integration_instances_platform ON integration_instances(platform);

CREATE TABLE integration_groups (
    group_name  TEXT NOT NULL,
    instance_id TEXT NOT NULL REFERENCES integration_instances(id) ON DELETE CASCADE,
    PRIMARY KEY (group_name, instance_id)
);
CREATE INDEX idx_integration_groups_instance ON integration_groups(instance_id);

-- +goose Down
DROP TABLE integration_groups;
DROP TABLE integration_instances;
