-- +goose Up
-- Live chaos runs (spec 30 §6.18 fix): each run's full result, kept so a
-- run is not lost. The run itself happens in an isolated scratch pipeline.
CREATE TABLE healing_chaos_runs (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    scenario     TEXT NOT NULL,
    status       TEXT NOT NULL,
    run_by       TEXT NOT NULL DEFAULT '',
    result       TEXT NOT NULL DEFAULT '{}',
    started_at   INTEGER NOT NULL,
    duration_s   REAL NOT NULL DEFAULT 0
);
CREATE INDEX idx_healing_chaos_runs_started ON healing_chaos_runs(started_at DESC);

-- +goose Down
DROP INDEX IF EXISTS idx_healing_chaos_runs_started;
DROP TABLE IF EXISTS healing_chaos_runs;
