-- +goose Up
-- Stats room: metric series (one per host, metric and label), raw samples
-- and their 1-minute / 1-hour rollups, and the legacy per-user dashboard.
-- host '' is this server; label carries the mount, interface, IP... of a
-- series ('' when the metric has one series per host).
CREATE TABLE metric_series (
    id     INTEGER PRIMARY KEY,
    host   TEXT NOT NULL DEFAULT '',
    metric TEXT NOT NULL,
    label  TEXT NOT NULL DEFAULT '',
    UNIQUE (host, metric, label)
);
CREATE INDEX idx_metric_series_metric ON metric_series(metric, host);

CREATE TABLE metric_samples (
    series_id INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE metric_rollup_1m (
    series_id INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

CREATE TABLE metric_rollup_1h (
    series_id INTEGER NOT NULL,
    ts        INTEGER NOT NULL,
    value     DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (series_id, ts)
) WITHOUT ROWID;

-- Rollup progress per tier: every bucket before upto is rolled up.
CREATE TABLE metric_rollup_state (
    tier TEXT PRIMARY KEY,
    upto INTEGER NOT NULL
);

CREATE TABLE user_dashboards (
    username   TEXT PRIMARY KEY,
    card_order TEXT,
    card_vis   TEXT,
    card_theme TEXT,
    updated_at INTEGER NOT NULL
);

-- +goose Down
DROP TABLE user_dashboards;
DROP TABLE metric_rollup_state;
DROP TABLE metric_rollup_1h;
DROP TABLE metric_rollup_1m;
DROP TABLE metric_samples;
DROP TABLE metric_series;
