-- 0004: values XPM sent that could not be read (left absent in the client), recorded with the run
-- that received them: at most 200 per run; `sync_runs.data_warnings` counts them all.
ALTER TABLE sync_runs ADD COLUMN data_warnings INTEGER NOT NULL DEFAULT 0;
CREATE TABLE sync_warnings (
    id          INTEGER PRIMARY KEY,
    run_id      INTEGER NOT NULL REFERENCES sync_runs(id) ON DELETE CASCADE,
    client_uuid TEXT,
    field       TEXT NOT NULL,
    raw_value   TEXT NOT NULL,
    reason      TEXT NOT NULL
);
CREATE INDEX sync_warnings_by_run ON sync_warnings (run_id);
