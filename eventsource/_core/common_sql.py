"""What PostgreSQL's and SQLite's SQL share: the statistics queries word for word, and the
shape of an outbox row's document."""

from __future__ import annotations

from .operations import Query

OUTBOX_DOCUMENT = (
    ("event_id", "event_id"),
    ("event_type", "event_type"),
    ("event_version", "event_version"),
    ("aggregate_id", "aggregate_id"),
    ("aggregate_type", "aggregate_type"),
    ("aggregate_version", "version"),
    ("tenant_id", "tenant_id"),
    ("actor_id", "actor_id"),
    ("occurred_at", "timestamp"),
    ("correlation_id", "correlation_id"),
    ("causation_id", "causation_id"),
    ("metadata", "metadata"),
    ("payload", "payload"),
)
"""An outbox row's `event_data`: its keys and the `events` columns they take, in order."""

JSON_COLUMNS = frozenset({"metadata", "payload"})
"""The `events` columns that hold JSON documents (JSONB in PostgreSQL, text in SQLite)."""


class CommonQueries:
    """Queries without parameters, the same in every SQL dialect we support."""

    def count_by_type(self) -> Query:
        return Query("SELECT event_type, count(*) FROM events GROUP BY event_type ORDER BY 1")

    def count_by_tenant(self) -> Query:
        return Query(
            "SELECT tenant_id, count(*) FROM events GROUP BY tenant_id ORDER BY 1 NULLS FIRST"
        )

    def count_streams(self) -> Query:
        return Query(
            "SELECT count(*) FROM (SELECT DISTINCT aggregate_id, aggregate_type FROM events) s"
        )
