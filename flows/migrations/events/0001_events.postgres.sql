-- Received webhook events, stored before the receiver answers 2xx, and their delivery state.
-- One row per distinct (source, event_id): a redelivered or duplicated event finds its row,
-- also when another receiver process stored it.
CREATE TABLE webhook_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL,
    headers TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    updated_at_ms BIGINT NOT NULL,
    UNIQUE (source, event_id)
);
CREATE INDEX webhook_events_pending ON webhook_events (seq) WHERE state = 'pending';
CREATE INDEX webhook_events_type ON webhook_events (event_type, seq);
