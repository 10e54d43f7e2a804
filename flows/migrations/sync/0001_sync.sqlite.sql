-- One row per sync: the incremental cursor of the next run, the run in progress (its resume
-- point, the greatest cursor value it saw) and the last event handled on change.
CREATE TABLE sync_state (
    sync TEXT PRIMARY KEY,
    cursor TEXT,
    run_id INTEGER,
    run_full INTEGER NOT NULL DEFAULT 0,
    run_resume TEXT,
    run_cursor TEXT,
    event_seq INTEGER NOT NULL DEFAULT 0
);
-- The id map: each source record's destination key and the hash of what was written.
CREATE TABLE sync_records (
    sync TEXT NOT NULL,
    source_key TEXT NOT NULL,
    dest_key TEXT,
    hash TEXT,
    seen_run INTEGER,
    deleted INTEGER NOT NULL DEFAULT 0,
    pending TEXT,
    updated_ms INTEGER NOT NULL,
    PRIMARY KEY (sync, source_key)
);
CREATE TABLE sync_quarantine (
    sync TEXT NOT NULL,
    source_key TEXT NOT NULL,
    record TEXT NOT NULL,
    problems TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 1,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (sync, source_key)
);
CREATE TABLE sync_runs (
    sync TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    worker TEXT NOT NULL,
    full_scan INTEGER NOT NULL,
    started_ms INTEGER NOT NULL,
    finished_ms INTEGER,
    status TEXT NOT NULL,
    counts TEXT NOT NULL,
    cursor TEXT,
    error TEXT,
    PRIMARY KEY (sync, run_id)
);
CREATE TABLE sync_leases (
    sync TEXT PRIMARY KEY,
    worker TEXT NOT NULL,
    expires_ms INTEGER NOT NULL
);
