-- Auth hardening (issue 11 item 2): a per-user credential version. It
-- grows whenever a user's password or role changes; each session stores
-- the version it was issued under, and a session whose version is not the
-- user's current one is dead (also after a restart).

-- +goose Up
ALTER TABLE users ADD COLUMN cred_version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE tokens ADD COLUMN cred_version BIGINT NOT NULL DEFAULT 1;

-- +goose Down
ALTER TABLE tokens DROP COLUMN cred_version;
ALTER TABLE users DROP COLUMN cred_version;
