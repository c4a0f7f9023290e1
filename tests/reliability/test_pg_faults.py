"""Faults injected into PostgreSQL stores: what a caller sees, and what is stored.

Every call must succeed or raise `StoreUnavailableError` (never a raw psycopg error; an
`OptimisticLockError` only where a test expects one); no batch is ever partially stored; the
pool recovers; and retrying an append whose outcome was unknown is safe, because the retry is
recognised by its event ids (DESIGN section 3). The appends go through
`reliability_ledger.Ledger`, which checks all of this after each failure and at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
import time
from collections.abc import Iterator
from typing import Any
from uuid import uuid4

import psycopg
import pytest
import reliability_report
from faults_proxy import CuttingProxy
from reliability_events import REGISTRY, ticks
from reliability_ledger import AGGREGATE_TYPE, Ledger, audit, retrying
from reliability_pg import (
    PG_MODES,
    RestartableServer,
    application_name,
    backends_waiting_on_a_lock,
    open_pg,
    pool_of,
    terminate,
    wait_until,
)

from eventsource import (
    ExpectedVersion,
    PostgreSQLEventStore,
    StoreUnavailableError,
    SyncEventStore,
    SyncPostgreSQLEventStore,
)
from eventsource._core.rules import prepare_append
from eventsource.postgres.queries import PostgresQueries

pytestmark = pytest.mark.postgres

POOL_SIZE = 3


def _finish(section: str, store: SyncEventStore, ledgers: list[Ledger], **figures: Any) -> None:
    """Audit the streams, record the figures, and require that nothing was lost or torn."""
    result = audit(store, ledgers)
    merged: dict[str, int] = {}
    for ledger in ledgers:
        for key, value in ledger.figures().items():
            merged[key] = merged.get(key, 0) + value
    reliability_report.record(section, **merged, **result.figures(), **figures)
    assert result.events_lost == 0
    assert result.events_duplicated == 0
    assert result.torn_or_misordered_streams == 0
    assert result.events_found == result.events_written


# -- connections terminated by the server ------------------------------------------------------


@pytest.mark.parametrize("is_async", PG_MODES)
@pytest.mark.parametrize("phase", ["before", "after"])
def test_connections_terminated_between_calls(
    pg_url: str, postgresql_admin_url: str, is_async: bool, phase: str, section: str
) -> None:
    """`before`: the pool's idle connections die, then appends. `after`: an append commits,
    its connections die, then the reads. Each dead connection costs at most one failed call."""
    app = application_name()
    kwargs = {"application_name": app}
    with open_pg(pg_url, is_async, min_size=POOL_SIZE, max_size=POOL_SIZE, kwargs=kwargs) as store:
        ledger = Ledger(store)
        streams = [uuid4() for _ in range(4)]
        killed = 0
        for round_ in range(3):
            if phase == "before":
                killed += terminate(postgresql_admin_url, app)
                for aggregate_id in streams:
                    ledger.append(aggregate_id, size=3)
            else:
                for aggregate_id in streams:
                    ledger.append(aggregate_id, size=3)
                killed += terminate(postgresql_admin_url, app)
                for aggregate_id in streams:  # the committed batches are all there
                    assert len(ledger.stored_ids(aggregate_id)) == 3 * (round_ + 1)
        # A dead connection fails the one call that finds it, then the pool replaces it.
        assert ledger.failed_appends + ledger.failed_reads <= killed
        assert killed >= POOL_SIZE
        _finish(section, store, [ledger], faults_injected=killed)


@pytest.mark.parametrize("is_async", PG_MODES)
def test_the_first_call_after_a_disconnect_succeeds(
    pg_url: str, postgresql_admin_url: str, is_async: bool
) -> None:
    app = application_name()
    with open_pg(pg_url, is_async, min_size=1, max_size=1, kwargs={"application_name": app}) as s:
        aggregate_id = uuid4()
        s.append_events(aggregate_id, AGGREGATE_TYPE, ticks(aggregate_id, 0, 0, 1), 0)
        assert terminate(postgresql_admin_url, app) == 1
        s.append_events(aggregate_id, AGGREGATE_TYPE, ticks(aggregate_id, 0, 1, 1), 1)


@pytest.mark.slow
@pytest.mark.parametrize("is_async", PG_MODES)
def test_connections_terminated_while_appends_run(
    pg_url: str, postgresql_admin_url: str, is_async: bool, section: str
) -> None:
    """A thread kills the store's connections every few milliseconds while batches are
    appended with exact expected versions (and retried after each failure)."""
    duration = 3.0
    app = application_name()
    stop = threading.Event()
    kills: list[int] = []

    def killer() -> None:
        rng = random.Random(7)
        while not stop.wait(rng.uniform(0.005, 0.05)):
            kills.append(terminate(postgresql_admin_url, app))

    with open_pg(pg_url, is_async, min_size=2, max_size=2, kwargs={"application_name": app}) as s:
        ledger = Ledger(s)
        streams = [uuid4() for _ in range(4)]
        rng = random.Random(11)
        thread = threading.Thread(target=killer, name="killer")
        thread.start()
        try:
            deadline = time.monotonic() + duration
            while time.monotonic() < deadline:
                ledger.append(rng.choice(streams), size=rng.randint(1, 5))
        finally:
            stop.set()
            thread.join()
        # The pool recovers: the next call succeeds (its connections are no longer killed).
        retrying(s.get_global_position)
        assert s.get_global_position() > 0
        assert sum(kills) > 0
        # A killed connection may cost no failed call at all: the store re-runs the query
        # once on a fresh connection. What matters is above and in the ledger's audit.
        _finish(section, s, [ledger], faults_injected=sum(kills))


# -- the connection lost around the commit ----------------------------------------------------


@pytest.fixture
def proxy(postgresql_server: Any) -> Iterator[CuttingProxy]:
    with CuttingProxy(postgresql_server.host, postgresql_server.port) as running:
        yield running


@pytest.mark.parametrize("is_async", PG_MODES)
@pytest.mark.parametrize("exact", [True, False], ids=["exact", "any"])
@pytest.mark.parametrize(
    ("cut", "committed"),
    [("request", False), ("response", True)],
    ids=["lost-before-the-server-ran-it", "lost-after-the-commit"],
)
def test_append_whose_outcome_is_unknown_is_safe_to_retry(
    proxy: CuttingProxy,
    pg_url: str,
    is_async: bool,
    exact: bool,
    cut: str,
    committed: bool,
    section: str,
) -> None:
    """The connection is cut after the append is sent: before the server sees it, or after
    it committed but before the client reads the result. The store runs the append once
    more on a fresh connection (recognised by its event ids if it had committed); should it
    still fail, the caller's retry of the same batch must store it exactly once."""
    with open_pg(proxy.route(pg_url), is_async, min_size=1, max_size=1) as store:
        aggregate_id = uuid4()
        store.append_events(aggregate_id, AGGREGATE_TYPE, ticks(aggregate_id, 0, 0, 2), 0)
        batch = ticks(aggregate_id, 0, 1, 3)
        expected = 2 if exact else ExpectedVersion.ANY
        getattr(proxy, f"cut_{cut}")()
        failed = 0
        try:
            first = store.append_events(aggregate_id, AGGREGATE_TYPE, batch, expected)
        except StoreUnavailableError as lost:
            cause = lost.__cause__
            failed = 1
            assert isinstance(cause, psycopg.Error)
        else:
            assert first.new_version == 5  # the store's own retry, on a fresh connection
        assert proxy.cuts == 1
        stored = store.get_events(aggregate_id, AGGREGATE_TYPE)
        # All of the batch or none of it.
        assert stored.version == (2 if failed and not committed else 5)
        retried = store.append_events(aggregate_id, AGGREGATE_TYPE, batch, expected)
        assert retried.success
        assert retried.new_version == 5
        events = store.get_events(aggregate_id, AGGREGATE_TYPE).events
        assert [(e.batch, e.index) for e in events] == [(0, 0), (0, 1), (1, 0), (1, 1), (1, 2)]  # type: ignore[attr-defined]
        assert retried.global_position == max(
            s.global_position for s in store.read_stream(f"{aggregate_id}:{AGGREGATE_TYPE}")
        )
        reliability_report.record(
            section,
            faults_injected=1,
            calls_failed_unavailable=failed,
            unknown_outcomes_retried=1,
            unknown_outcomes_that_had_committed=int(committed),
            events_written=5,
            events_lost=0,
            events_duplicated=0,
        )


# -- statement timeouts --------------------------------------------------------------------------


@contextlib.contextmanager
def blocker(url: str, kind: str, aggregate_id: Any) -> Iterator[psycopg.Connection[Any]]:
    """Another connection, in an open transaction, in the append's way until the block ends
    (then it rolls back)."""
    with psycopg.connect(url) as conn:
        if kind == "table-lock":
            conn.execute("LOCK TABLE events IN EXCLUSIVE MODE")
        else:  # a racing writer's uncommitted insert at the same stream versions
            request = prepare_append(
                aggregate_id, AGGREGATE_TYPE, ticks(aggregate_id, 9, 0, 3), 2, REGISTRY
            )
            query = PostgresQueries().append(request)
            conn.execute(query.sql, query.params)
        try:
            yield conn
        finally:
            conn.rollback()


@pytest.mark.parametrize("is_async", PG_MODES)
@pytest.mark.parametrize("kind", ["table-lock", "uncommitted-writer"])
def test_append_waiting_past_the_statement_timeout(
    pg_url: str, postgresql_admin_url: str, is_async: bool, kind: str, section: str
) -> None:
    app = application_name()
    kwargs = {"application_name": app, "options": "-c statement_timeout=300"}
    with open_pg(pg_url, is_async, min_size=1, max_size=1, kwargs=kwargs) as store:
        aggregate_id = uuid4()
        store.append_events(aggregate_id, AGGREGATE_TYPE, ticks(aggregate_id, 0, 0, 2), 0)
        batch = ticks(aggregate_id, 0, 1, 3)
        with blocker(pg_url, kind, aggregate_id):
            began = time.monotonic()
            with pytest.raises(StoreUnavailableError, match="statement timeout") as caught:
                store.append_events(aggregate_id, AGGREGATE_TYPE, batch, 2)
            waited = time.monotonic() - began
            assert isinstance(caught.value.__cause__, psycopg.errors.QueryCanceled)
            assert store.get_stream_version(aggregate_id, AGGREGATE_TYPE) == 2  # nothing
        # The pool recovers (same connection, pool of one) and the retry succeeds.
        assert store.append_events(aggregate_id, AGGREGATE_TYPE, batch, 2).new_version == 5
        assert len(store.get_events(aggregate_id, AGGREGATE_TYPE).events) == 5
        assert pool_of(store).get_stats().get("returns_bad", 0) == 0
        reliability_report.record(
            section,
            faults_injected=1,
            calls_failed_unavailable=1,
            unknown_outcomes_retried=1,
            events_written=5,
            events_lost=0,
            waited_seconds=round(waited, 3),
        )


@pytest.mark.parametrize("is_async", PG_MODES)
def test_a_one_millisecond_statement_timeout(pg_url: str, is_async: bool, section: str) -> None:
    """Every statement may time out: big batches fail as a whole or are stored as a whole,
    and each is then stored once by a retry on a store without the timeout."""
    kwargs = {"options": "-c statement_timeout=1"}
    with (
        open_pg(pg_url, is_async, min_size=1, max_size=1, kwargs=kwargs) as hurried,
        open_pg(pg_url, is_async, min_size=1, max_size=1) as patient,
    ):
        causes: list[BaseException | None] = []
        ledger = Ledger(patient)
        for n in range(8):
            aggregate_id = uuid4()
            batch = ticks(aggregate_id, 0, 0, 300)
            try:
                hurried.append_events(aggregate_id, AGGREGATE_TYPE, batch, 0)
            except StoreUnavailableError as exc:
                causes.append(exc.__cause__)
            stored = patient.get_stream_version(aggregate_id, AGGREGATE_TYPE)
            assert stored in (0, 300), f"batch {n} partially stored: {stored}"
            result = patient.append_events(aggregate_id, AGGREGATE_TYPE, batch, 0)
            assert result.new_version == 300
            ledger.batches[aggregate_id] = [batch]
        timeouts = len(causes)
        assert timeouts > 0, "no statement timed out"
        assert all(isinstance(cause, psycopg.errors.QueryCanceled) for cause in causes)
        assert pool_of(hurried).get_stats().get("returns_bad", 0) == 0  # connection kept
        _finish(section, patient, [ledger], faults_injected=timeouts)
        reliability_report.count(section, "calls_failed_unavailable", timeouts)
        reliability_report.count(section, "unknown_outcomes_retried", timeouts)


# -- an async append cancelled mid-flight ------------------------------------------------------


@pytest.mark.parametrize("waiting_for", ["lock", "pool"])
def test_cancelled_async_append(
    pg_url: str, postgresql_admin_url: str, waiting_for: str, section: str
) -> None:
    """`task.cancel()` while the append waits (on a table lock in the server, or for a pooled
    connection): the task ends cancelled, nothing is written, the server runs nothing more,
    the pool keeps working and the same batch can be appended afterwards, once."""
    app = application_name()

    async def main() -> dict[str, Any]:
        store = PostgreSQLEventStore.from_url(
            pg_url,
            event_registry=REGISTRY,
            min_size=1,
            max_size=1,
            kwargs={"application_name": app},
        )
        async with store:
            await store.pool.wait()
            aggregate_id = uuid4()
            batch = ticks(aggregate_id, 0, 0, 3)
            holder: asyncio.Event = asyncio.Event()
            release: asyncio.Event = asyncio.Event()

            async def hold_the_only_connection() -> None:
                async with store.pool.connection():
                    holder.set()
                    await release.wait()

            with psycopg.connect(pg_url) as locker:
                if waiting_for == "lock":
                    locker.execute("LOCK TABLE events IN EXCLUSIVE MODE")
                    holding = None
                else:
                    holding = asyncio.create_task(hold_the_only_connection())
                    await holder.wait()
                task = asyncio.create_task(
                    store.append_events(aggregate_id, AGGREGATE_TYPE, batch, 0)
                )
                if waiting_for == "lock":
                    await asyncio.to_thread(
                        wait_until,
                        lambda: backends_waiting_on_a_lock(postgresql_admin_url, app) == 1,
                        10.0,
                        "the append to wait on the lock",
                    )
                else:
                    await asyncio.sleep(0.2)
                    assert not task.done()
                task.cancel()
                with pytest.raises(asyncio.CancelledError):
                    await task
                assert backends_waiting_on_a_lock(postgresql_admin_url, app) == 0
                locker.rollback()
            release.set()
            if holding is not None:
                await holding
            assert await store.get_stream_version(aggregate_id, AGGREGATE_TYPE) == 0
            result = await store.append_events(aggregate_id, AGGREGATE_TYPE, batch, 0)
            assert result.new_version == 3
            again = await store.append_events(aggregate_id, AGGREGATE_TYPE, batch, 0)
            assert again == result  # a retry of the same batch is recognised
            stream = await store.get_events(aggregate_id, AGGREGATE_TYPE)
            assert [e.event_id for e in stream.events] == [e.event_id for e in batch]
            return dict(store.pool.get_stats())

    stats = asyncio.run(main())
    reliability_report.record(
        section,
        faults_injected=1,
        events_written=3,
        events_lost=0,
        events_duplicated=0,
        pool_connections_discarded=stats.get("returns_bad", 0),
    )


# -- pool exhausted -----------------------------------------------------------------------------


def test_an_exhausted_pool_is_store_unavailable_then_recovers(pg_url: str, section: str) -> None:
    with SyncPostgreSQLEventStore.from_url(
        pg_url, event_registry=REGISTRY, min_size=1, max_size=1, timeout=0.3
    ) as store:
        aggregate_id = uuid4()
        batch = ticks(aggregate_id, 0, 0, 2)
        with store.pool.connection(), pytest.raises(StoreUnavailableError, match="unavailable"):
            store.append_events(aggregate_id, AGGREGATE_TYPE, batch, 0)
        assert store.get_stream_version(aggregate_id, AGGREGATE_TYPE) == 0
        assert store.append_events(aggregate_id, AGGREGATE_TYPE, batch, 0).new_version == 2
    reliability_report.record(
        section, faults_injected=1, calls_failed_unavailable=1, events_written=2, events_lost=0
    )


# -- the server restarted ------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("is_async", PG_MODES)
def test_server_restarted_while_appends_run(
    restartable_server: RestartableServer, is_async: bool, section: str
) -> None:
    """`pg_ctl stop -m fast`, half a second down, start again, while batches are appended."""
    with psycopg.connect(restartable_server.url, autocommit=True) as conn:
        conn.execute("TRUNCATE events, event_outbox")
    restarted = threading.Event()
    downtime: list[float] = []
    failures: list[BaseException] = []

    def restart() -> None:
        try:
            time.sleep(0.5)
            downtime.append(restartable_server.restart(down_seconds=0.5))
        except BaseException as exc:  # reported by the main thread
            failures.append(exc)
        finally:
            restarted.set()

    url = restartable_server.url
    with open_pg(url, is_async, min_size=2, max_size=2, timeout=2.0) as store:
        ledger = Ledger(store)
        streams = [uuid4() for _ in range(4)]
        rng = random.Random(3)
        thread = threading.Thread(target=restart, name="restarter")
        thread.start()
        try:
            while not restarted.is_set():
                ledger.append(rng.choice(streams), size=rng.randint(1, 5))
            for _ in range(20):  # and after the restart, appends work again
                ledger.append(rng.choice(streams), size=rng.randint(1, 5))
        finally:
            thread.join()
        assert not failures, failures
        # The restart may cost no failed call: the store re-runs a query that met a closed
        # connection once, and the pool reconnects within its timeout.
        _finish(
            section,
            store,
            [ledger],
            faults_injected=1,
            restart_seconds=round(downtime[0], 2),
        )
