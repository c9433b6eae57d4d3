-- Infrastructure and operations rooms (spec 20 §1.1, §16.4, §17.7):
-- discovered network devices, backup verifications, 3-2-1 tracking.

-- +goose Up
CREATE TABLE network_devices (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    ip            TEXT NOT NULL,
    mac           TEXT NOT NULL DEFAULT '',
    hostname      TEXT,
    vendor        TEXT,
    open_ports    TEXT NOT NULL DEFAULT '[]',
    discovered_by TEXT,
    first_seen    INTEGER NOT NULL,
    last_seen     INTEGER NOT NULL,
    UNIQUE (ip, mac)
);
CREATE INDEX idx_network_devices_last_seen ON network_devices (last_seen);

CREATE TABLE backup_verifications (
    id                INTEGER PRIMARY KEY AUTOINCREMENT,
    backup_path       TEXT NOT NULL,
    hostname          TEXT NOT NULL,
    verification_type TEXT NOT NULL,
    status            TEXT NOT NULL,
    details           TEXT,
    command_id        TEXT,
    verified_at       INTEGER NOT NULL
);
CREATE INDEX idx_backup_verifications_at ON backup_verifications (verified_at);
CREATE INDEX idx_backup_verifications_cmd ON backup_verifications (command_id);

CREATE TABLE backup_321_status (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    backup_name   TEXT NOT NULL UNIQUE,
    copies        INTEGER NOT NULL DEFAULT 0,
    media_types   TEXT NOT NULL DEFAULT '[]',
    has_offsite   INTEGER NOT NULL DEFAULT 0,
    last_verified INTEGER,
    updated_at    INTEGER NOT NULL
);

-- +goose Down
DROP TABLE backup_321_status;
DROP TABLE backup_verifications;
DROP TABLE network_devices;
