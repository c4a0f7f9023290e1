"""An append is one statement and one round trip: counted in libpq's own protocol trace."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from uuid import uuid4

import pytest
from pg_events import Deposited, registry
from psycopg import pq

from eventsource import ExpectedVersion, SyncPostgreSQLEventStore


@contextmanager
def traced(store: SyncPostgreSQLEventStore) -> Iterator[list[str]]:
    """The messages the client sends on the store's only connection while the block runs."""
    messages: list[str] = []
    with tempfile.TemporaryFile("w+") as trace:
        with store.pool.connection() as conn:
            conn.pgconn.trace(trace.fileno())
            conn.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)
        yield messages
        with store.pool.connection() as conn:
            conn.pgconn.untrace()
        trace.seek(0)
        messages.extend(
            line.split("\t")[2] for line in trace.read().splitlines() if line.startswith("F\t")
        )


@pytest.mark.parametrize("batch_size", [1, 50])
def test_an_append_costs_one_round_trip(pg_url: str, batch_size: int) -> None:
    aggregate_id = uuid4()
    with SyncPostgreSQLEventStore.from_url(
        pg_url, event_registry=registry, outbox_enabled=True, min_size=1, max_size=1
    ) as store:
        # Each kind of expected version, single event or batch, has its prepared
        # statement: warm them up once.
        def batch() -> list[Deposited]:
            return [
                Deposited(aggregate_id=aggregate_id, amount=Decimal(1)) for _ in range(batch_size)
            ]

        for expected in (ExpectedVersion.NO_STREAM, batch_size, ExpectedVersion.ANY):
            store.append_events(aggregate_id, "Account", batch(), expected)
        with traced(store) as messages:
            store.append_events(aggregate_id, "Account", batch(), 3 * batch_size)
        assert store.get_stream_version(aggregate_id, "Account") == 4 * batch_size
    # One Bind/Execute of the prepared statement, one Sync: a single round trip, no BEGIN/COMMIT.
    assert messages.count("Sync") + messages.count("Query") == 1, messages
    assert messages.count("Execute") == 1, messages


def test_round_trip_does_not_depend_on_the_pool_autocommit(pg_url: str) -> None:
    aggregate_id = uuid4()
    import psycopg_pool

    with psycopg_pool.ConnectionPool(pg_url, min_size=1, max_size=1, open=True) as pool:
        store = SyncPostgreSQLEventStore(pool, event_registry=registry)
        for expected in (0, 1):  # prepares the statement of exact versions
            event = Deposited(aggregate_id=aggregate_id, amount=Decimal(1))
            store.append_events(aggregate_id, "Account", [event], expected)
        with traced(store) as messages:
            store.append_events(
                aggregate_id,
                "Account",
                [Deposited(aggregate_id=aggregate_id, amount=Decimal(2))],
                2,
            )
        store.close()
        assert not pool.closed, "a store given a pool never closes it"
    assert messages.count("Sync") + messages.count("Query") == 1, messages


def test_a_pool_of_dict_row_connections_serves_the_store(pg_url: str) -> None:
    import psycopg_pool
    from psycopg.rows import dict_row

    aggregate_id = uuid4()
    with psycopg_pool.ConnectionPool(
        pg_url, min_size=1, max_size=1, open=True, kwargs={"row_factory": dict_row}
    ) as pool:
        store = SyncPostgreSQLEventStore(pool, event_registry=registry)
        event = Deposited(aggregate_id=aggregate_id, amount=Decimal(1))
        assert store.append_events(aggregate_id, "Account", [event], 0).new_version == 1
        (stored,) = store.get_events(aggregate_id, "Account").events
        assert stored.event_id == event.event_id
        with pool.connection() as conn:  # the application's rows keep their factory
            assert conn.execute("SELECT 1 AS one").fetchone() == {"one": 1}


def test_a_pooled_connection_keeps_no_large_result(pg_url: str) -> None:
    # The store keeps one cursor per connection (a cursor per query costs CPU), but not
    # one holding a large result while the connection sits idle in the pool.
    aggregate_id = uuid4()
    with SyncPostgreSQLEventStore.from_url(
        pg_url, event_registry=registry, min_size=1, max_size=1
    ) as store:
        events = [Deposited(aggregate_id=aggregate_id, amount=Decimal(i)) for i in range(300)]
        store.append_events(aggregate_id, "Account", events, 0)
        assert store.get_stream_version(aggregate_id, "Account") == 300
        with store.pool.connection() as conn:
            kept = getattr(conn, "_eventsource_cursor")  # noqa: B009
        assert not kept.closed, "small results: the cursor is kept for the next query"
        assert len(store.get_events(aggregate_id, "Account").events) == 300
        assert kept.closed, "large results: released at once"
        assert kept.pgresult is None
        assert store.get_stream_version(aggregate_id, "Account") == 300  # a new cursor
