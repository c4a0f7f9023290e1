-- eventsource schema for PostgreSQL 13 or later. Idempotent: safe to apply again.
--
-- The tables, columns, constraints and indexes of the reference schema, plus:
--   event_version, correlation_id, causation_id, metadata: the rest of the event envelope;
--   transaction_id: the writing transaction's id. The global log is ordered by
--     (transaction_id, id) and read only below pg_snapshot_xmin(pg_current_snapshot()),
--     so a reader never passes an event whose transaction has not committed yet.

CREATE TABLE IF NOT EXISTS events (
    id BIGSERIAL PRIMARY KEY,
    event_id UUID NOT NULL,
    event_type VARCHAR(255) NOT NULL,
    aggregate_type VARCHAR(255) NOT NULL,
    aggregate_id UUID NOT NULL,
    tenant_id VARCHAR(36),
    actor_id VARCHAR(255),
    version INTEGER NOT NULL,
    timestamp TIMESTAMPTZ NOT NULL,
    payload JSONB NOT NULL,
    created_at TIMESTAMPTZ DEFAULT NOW(),
    event_version INTEGER NOT NULL DEFAULT 1,
    correlation_id UUID NOT NULL DEFAULT gen_random_uuid(),
    causation_id UUID,
    metadata JSONB NOT NULL DEFAULT '{}',
    transaction_id XID8 NOT NULL DEFAULT pg_current_xact_id(),

    CONSTRAINT events_event_id_key UNIQUE (event_id),
    CONSTRAINT uq_events_aggregate_version
        UNIQUE (aggregate_id, aggregate_type, version)
);

-- With the version too, so a stream read in version order never sorts (even without stats).
CREATE INDEX IF NOT EXISTS idx_events_aggregate ON events(aggregate_id, aggregate_type, version);
-- The reference's names; the extra columns serve the store's orderings: events of a type by
-- time (get_events_by_type), a tenant's events in log order (read_all pages, keyset).
CREATE INDEX IF NOT EXISTS idx_events_type ON events(aggregate_type, timestamp);
CREATE INDEX IF NOT EXISTS idx_events_tenant ON events(tenant_id, transaction_id, id);
CREATE INDEX IF NOT EXISTS idx_events_timestamp ON events(timestamp);
CREATE INDEX IF NOT EXISTS idx_events_log ON events(transaction_id, id);

CREATE TABLE IF NOT EXISTS event_outbox (
    id UUID PRIMARY KEY,
    event_id UUID NOT NULL,
    event_type VARCHAR(255) NOT NULL,
    aggregate_id UUID NOT NULL,
    aggregate_type VARCHAR(255) NOT NULL,
    tenant_id VARCHAR(36),
    event_data JSONB NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    status VARCHAR(20) DEFAULT 'pending',
    processed_at TIMESTAMPTZ
);

CREATE INDEX IF NOT EXISTS idx_outbox_status ON event_outbox(status, created_at);
