-- Received webhook events, stored before the receiver answers 2xx, and their delivery state.
-- One row per distinct (source, event_id): a redelivered or duplicated event finds its row.
CREATE TABLE webhook_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    received_at_ms INTEGER NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at_ms INTEGER NOT NULL,
    UNIQUE (source, event_id)
);
CREATE INDEX webhook_events_pending ON webhook_events (seq) WHERE state = 'pending';
CREATE INDEX webhook_events_type ON webhook_events (event_type, seq);
