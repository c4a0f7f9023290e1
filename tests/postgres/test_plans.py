"""Tenant and timestamp filters are served by indexes: the plans of the store's own queries."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

import psycopg
import pytest

from eventsource import ReadOptions
from eventsource._operations import Query
from eventsource._sql import PostgresQueries

TENANTS = 200
EVENTS = 40_000
START = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def busy_table(pg_url: str) -> str:
    """40,000 events over 200 tenants, 50 aggregate types and 40,000 minutes, analyzed."""
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO events (event_id, event_type, aggregate_type, aggregate_id, tenant_id,
                                   version, "timestamp", payload)
               SELECT gen_random_uuid(), 'Deposited', 'Type' || (n %% 50), gen_random_uuid(),
                      '00000000-0000-0000-0000-' || lpad((n %% %s)::text, 12, '0'), 1,
                      %s + n * interval '1 minute', '{}'
               FROM generate_series(1, %s) AS n""",
            (TENANTS, START, EVENTS),
        )
        conn.execute("ANALYZE events")
    return pg_url


def plan(url: str, query: Query) -> str:
    with psycopg.connect(url) as conn:
        explain = "EXPLAIN " + query.sql
        return "\n".join(row[0] for row in conn.execute(explain, query.params))


TENANT = UUID("00000000-0000-0000-0000-000000000007")
QUERIES = {
    "get_events_by_type(tenant_id=)": (
        lambda q: q.events_by_type("Type7", TENANT, None),
        "idx_events_tenant",
    ),
    "read_all(tenant_id=)": (
        lambda q: q.read_all_page(ReadOptions(tenant_id=TENANT), None, 500),
        "idx_events_tenant",
    ),
    "read_all(from_timestamp=, to_timestamp=)": (
        lambda q: q.read_all_page(
            ReadOptions(
                from_timestamp=START + timedelta(days=3),
                to_timestamp=START + timedelta(days=3, hours=2),
            ),
            None,
            500,
        ),
        "idx_events_timestamp",
    ),
    "get_events_by_type(from_timestamp=)": (
        lambda q: q.events_by_type("Type7", None, START + timedelta(days=27)),
        "idx_events_timestamp",
    ),
}


@pytest.mark.parametrize("name", QUERIES)
def test_filter_uses_its_index(busy_table: str, name: str) -> None:
    build, index = QUERIES[name]
    shown = plan(busy_table, build(PostgresQueries()))
    assert index in shown, shown
    assert "Seq Scan" not in shown, shown
