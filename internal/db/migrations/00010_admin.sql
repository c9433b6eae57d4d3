-- +goose Up
-- Custom dashboards (router 14): config_json is the client's opaque JSON text.
CREATE TABLE custom_dashboards (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL,
    owner       TEXT NOT NULL,
    config_json TEXT NOT NULL,
    shared      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
CREATE INDEX idx_custom_dashboards_owner ON custom_dashboards(owner);

-- Single sign-on links: an external identity (provider + subject) signs in
-- as the local user it was linked to, and only through this row. Links die
-- with their user (a later user of the same name inherits nothing).
CREATE TABLE linked_providers (
    user_id        INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    provider       TEXT NOT NULL,
    subject        TEXT NOT NULL,
    provider_email TEXT NOT NULL DEFAULT '',
    provider_name  TEXT NOT NULL DEFAULT '',
    linked_at      INTEGER NOT NULL,
    PRIMARY KEY (user_id, provider)
);
CREATE UNIQUE INDEX idx_linked_providers_identity ON linked_providers(provider, subject);

-- Plugins: enabled state and saved configuration of installed plugins.
CREATE TABLE plugin_state (
    id          TEXT PRIMARY KEY,
    enabled     INTEGER NOT NULL DEFAULT 0,
    config_json TEXT NOT NULL DEFAULT '{}',
    updated_at  INTEGER NOT NULL
);

-- +goose Down
DROP TABLE plugin_state;
DROP INDEX idx_linked_providers_identity;
DROP TABLE linked_providers;
DROP INDEX idx_custom_dashboards_owner;
DROP TABLE custom_dashboards;
