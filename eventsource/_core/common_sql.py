"""SQL that PostgreSQL and SQLite share word for word: the statistics queries."""

from __future__ import annotations

from .operations import Query


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
