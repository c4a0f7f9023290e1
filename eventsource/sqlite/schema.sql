-- eventsource schema for SQLite 3.30 or later (with JSON functions). Idempotent.
--
-- The tables, columns, constraints and indexes of schema.sql (PostgreSQL) in SQLite's types:
-- UUIDs and timestamps are TEXT, a timestamp ISO 8601 in UTC with a fixed width
-- (2024-03-01T12:00:00.000000+00:00), so text order is time order. No transaction id:
-- writers take turns (BEGIN IMMEDIATE), so id order is commit order, the global log's order.

CREATE TABLE IF NOT EXISTS events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a position is never reused
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    tenant_id TEXT,
    actor_id TEXT,
    version INTEGER NOT NULL,
    "timestamp" TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    event_version INTEGER NOT NULL DEFAULT 1,
    correlation_id TEXT NOT NULL,
    causation_id TEXT,
    metadata TEXT NOT NULL DEFAULT '{}',

    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT uq_events_aggregate_version
        UNIQUE (aggregate_id, aggregate_type, version)
);

-- No idx_events_aggregate: uq_events_aggregate_version's index starts with those columns.
CREATE INDEX IF NOT EXISTS idx_events_type ON events(aggregate_type, "timestamp");
CREATE INDEX IF NOT EXISTS idx_events_tenant ON events(tenant_id);
CREATE INDEX IF NOT EXISTS idx_events_timestamp ON events("timestamp");

CREATE TABLE IF NOT EXISTS event_outbox (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    aggregate_id TEXT NOT NULL,
    aggregate_type TEXT NOT NULL,
    tenant_id TEXT,
    event_data TEXT NOT NULL,
    created_at TEXT NOT NULL,
    status TEXT DEFAULT 'pending',
    processed_at TEXT
);

CREATE INDEX IF NOT EXISTS idx_outbox_status ON event_outbox(status, created_at);
