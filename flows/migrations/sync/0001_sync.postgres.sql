-- One row per sync: the incremental cursor of the next run, the run in progress (its resume
-- point, the greatest cursor value it saw) and the last event handled on change.
CREATE TABLE sync_state (
    sync TEXT PRIMARY KEY,
    cursor TEXT,
    run_id BIGINT,
    run_full BIGINT NOT NULL DEFAULT 0,
    run_resume TEXT,
    run_cursor TEXT,
    event_seq BIGINT NOT NULL DEFAULT 0
);
-- The id map: each source record's destination key and the hash of what was written.
CREATE TABLE sync_records (
    sync TEXT NOT NULL,
    source_key TEXT NOT NULL,
    dest_key TEXT,
    hash TEXT,
    seen_run BIGINT,
    deleted BIGINT NOT NULL DEFAULT 0,
    pending TEXT,
    updated_ms BIGINT NOT NULL,
    PRIMARY KEY (sync, source_key)
);
CREATE TABLE sync_quarantine (
    sync TEXT NOT NULL,
    source_key TEXT NOT NULL,
    record TEXT NOT NULL,
    problems TEXT NOT NULL,
    run_id BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 1,
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (sync, source_key)
);
CREATE TABLE sync_runs (
    sync TEXT NOT NULL,
    run_id BIGINT NOT NULL,
    worker TEXT NOT NULL,
    full_scan BIGINT NOT NULL,
    started_ms BIGINT NOT NULL,
    finished_ms BIGINT,
    status TEXT NOT NULL,
    counts TEXT NOT NULL,
    cursor TEXT,
    error TEXT,
    PRIMARY KEY (sync, run_id)
);
CREATE TABLE sync_leases (
    sync TEXT PRIMARY KEY,
    worker TEXT NOT NULL,
    expires_ms BIGINT NOT NULL
);
