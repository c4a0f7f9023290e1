"""schema.sql: the packaged copy is the top-level file, and applying it twice is harmless."""

from __future__ import annotations

from pathlib import Path

import psycopg

import eventsource
from eventsource.postgres.queries import schema_sql

TOP_LEVEL = Path(__file__).resolve().parents[2] / "schema.sql"


def test_packaged_schema_is_the_top_level_file() -> None:
    packaged = Path(eventsource.__file__).parent / "postgres" / "schema.sql"
    assert packaged.read_bytes() == TOP_LEVEL.read_bytes()
    assert schema_sql() == TOP_LEVEL.read_text(encoding="utf-8")


def test_schema_applies_twice_and_keeps_the_reference_names(pg_url: str) -> None:
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(TOP_LEVEL.read_text(encoding="utf-8"))
        conn.execute(TOP_LEVEL.read_text(encoding="utf-8"))
        constraints = {
            row[0]
            for row in conn.execute(
                "SELECT conname FROM pg_constraint WHERE conrelid = 'events'::regclass"
            )
        }
        indexes = {
            row[0]
            for row in conn.execute(
                "SELECT indexname FROM pg_indexes WHERE tablename IN ('events', 'event_outbox')"
            )
        }
        outbox_columns = [
            row[0]
            for row in conn.execute(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'event_outbox' ORDER BY ordinal_position"
            )
        ]
    assert {"uq_events_aggregate_version", "events_event_id_key"} <= constraints
    assert {
        "idx_events_aggregate",
        "idx_events_type",
        "idx_events_tenant",
        "idx_events_timestamp",
        "idx_outbox_status",
    } <= indexes
    assert outbox_columns == [
        "id",
        "event_id",
        "event_type",
        "aggregate_id",
        "aggregate_type",
        "tenant_id",
        "event_data",
        "created_at",
        "status",
        "processed_at",
    ]
