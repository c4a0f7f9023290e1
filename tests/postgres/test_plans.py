"""The plans of the store's own queries: filters served by indexes, stream versions read cheaply."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from uuid import UUID, uuid4

import psycopg
import pytest
from pg_events import Deposited, registry
from psycopg import sql

from eventsource import ExpectedVersion, ReadOptions
from eventsource._core.operations import Query, StreamSelection
from eventsource._core.paging import log_page
from eventsource._core.rules import AppendRequest, prepare_append
from eventsource.postgres.queries import PostgresQueries

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
        lambda q: q.read_all_page(log_page(ReadOptions(tenant_id=TENANT), None, 500)),
        "idx_events_tenant",
    ),
    "read_all(from_timestamp=, to_timestamp=)": (
        lambda q: q.read_all_page(
            log_page(
                ReadOptions(
                    from_timestamp=START + timedelta(days=3),
                    to_timestamp=START + timedelta(days=3, hours=2),
                ),
                None,
                500,
            )
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


STREAM_LENGTH = 5_000


@pytest.fixture
def long_stream(pg_url: str) -> tuple[str, UUID]:
    """One 5,000-event stream in a table never analyzed (as after a TRUNCATE)."""
    aggregate_id = uuid4()
    with psycopg.connect(pg_url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO events (event_id, event_type, aggregate_type, aggregate_id, version,
                                   "timestamp", payload)
               SELECT gen_random_uuid(), 'Deposited', 'Account', %s, n,
                      %s + n * interval '1 minute', '{}'
               FROM generate_series(1, %s) AS n""",
            (aggregate_id, START, STREAM_LENGTH),
        )
    return pg_url, aggregate_id


def _request(aggregate_id: UUID, expected: int) -> AppendRequest:
    event = Deposited(aggregate_id=aggregate_id, amount=Decimal(1))
    return prepare_append(aggregate_id, "Account", [event], expected, registry)


VERSION_READS = {
    "get_stream_version": lambda q, a: q.stream_version(a, "Account"),
    "the status of a failed append": lambda q, a: q.append_status(_request(a, 1)),
    "append(exact version)": lambda q, a: q.append(_request(a, STREAM_LENGTH)),
    "append(ANY)": lambda q, a: q.append(_request(a, ExpectedVersion.ANY)),
    "append(STREAM_EXISTS)": lambda q, a: q.append(_request(a, ExpectedVersion.STREAM_EXISTS)),
    "get_events(to_timestamp=)": lambda q, a: q.stream_events(
        StreamSelection(a, "Account", STREAM_LENGTH - 2, None, START + timedelta(days=365))
    ),
}


@pytest.mark.parametrize("plan_mode", ["force_custom_plan", "force_generic_plan"])
@pytest.mark.parametrize("name", VERSION_READS)
def test_the_stream_version_is_read_off_the_top_of_the_index(
    long_stream: tuple[str, UUID], name: str, plan_mode: str
) -> None:
    # `max(version)` would read all 5,000 index entries of the stream on a table without
    # statistics: the store reads the highest one only, with the values or without them
    # (the generic plan a prepared statement settles on).
    url, aggregate_id = long_stream
    query = VERSION_READS[name](PostgresQueries(), aggregate_id)
    with psycopg.connect(url) as conn:
        conn.execute(sql.SQL("SET plan_cache_mode = {}").format(sql.Identifier(plan_mode)))
        rows = conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + query.sql, query.params).fetchall()
        conn.rollback()  # the appends explained were carried out
    shown = "\n".join(row[0] for row in rows)
    assert "Scan Backward" in shown, shown
    # The buffers of the version's subquery: the line after its `Limit`.
    limit = re.search(r"->  Limit .*\n\s*Buffers: shared hit=(\d+)", shown)
    assert limit is not None, shown
    assert int(limit.group(1)) < 10, shown
