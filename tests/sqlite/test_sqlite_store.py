"""What is specific to the SQLite stores: the file, WAL, the schema, the outbox, errors.

The behaviour every backend shares is in tests/conformance; here is how SQLite keeps it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from workers import REGISTRY, Ticked

from eventsource import (
    EventSourceError,
    OptimisticLockError,
    ReadDirection,
    ReadOptions,
    SchemaNotInitializedError,
    SQLiteEventStore,
    StoreUnavailableError,
    SyncSQLiteEventStore,
)
from eventsource._core.records import ROW_COLUMNS
from eventsource.sqlite.queries import _COLUMNS, SCHEMA

pytestmark = pytest.mark.sqlite

PLUS_TWO = timezone(timedelta(hours=2))


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "events.db"


@pytest.fixture
def store(path: Path) -> Iterator[SyncSQLiteEventStore]:
    with SyncSQLiteEventStore(path, event_registry=REGISTRY) as store:
        yield store


def ticks(aggregate_id: UUID, count: int, worker: int = 0) -> list[Ticked]:
    return [Ticked(aggregate_id=aggregate_id, worker=worker, n=n) for n in range(count)]


def query(path: Path, sql: str, *params: object) -> list[tuple[object, ...]]:
    """Rows straight from the file, through a connection of the test's own."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


# -- the file and its schema ---------------------------------------------------------------


def test_the_file_and_schema_are_created_on_first_use(path: Path) -> None:
    assert not path.exists()
    with SyncSQLiteEventStore(str(path), event_registry=REGISTRY) as store:
        assert store.get_global_position() == 0
    tables = {row[0] for row in query(path, "SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"events", "event_outbox"} <= tables


def test_wal_mode_is_on(store: SyncSQLiteEventStore, path: Path) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 1), 0)
    assert query(path, "PRAGMA journal_mode") == [("wal",)]


def test_initialize_is_idempotent_and_keeps_events(store: SyncSQLiteEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 2), 0)
    store.initialize()
    store.initialize()
    assert store.get_stream_version(aggregate_id, "Clock") == 2


def test_the_schema_script_applies_to_a_bare_connection_twice() -> None:
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        conn.executescript(SCHEMA)
        conn.executescript(SCHEMA)
        names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"events", "event_outbox", "idx_events_type", "idx_outbox_status"} <= names


def test_read_columns_are_the_shared_row_shape() -> None:
    assert tuple(name.strip(' "') for name in _COLUMNS.split(",")) == ROW_COLUMNS


def test_memory_database_is_one_database_for_every_thread() -> None:
    with SyncSQLiteEventStore(":memory:", event_registry=REGISTRY) as store:
        aggregate_id = uuid4()
        store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 2), 0)
        seen: list[int] = []
        thread = threading.Thread(target=lambda: seen.append(store.get_global_position()))
        thread.start()
        thread.join()
        assert seen == [2]


def test_a_store_after_close_is_unavailable_and_close_twice_is_fine(path: Path) -> None:
    store = SyncSQLiteEventStore(path, event_registry=REGISTRY)
    store.get_global_position()
    store.close()
    store.close()
    with pytest.raises(StoreUnavailableError, match="closed"):
        store.get_global_position()


# -- storage: UUIDs and timestamps as text -------------------------------------------------


def test_timestamps_are_fixed_width_utc_text(store: SyncSQLiteEventStore, path: Path) -> None:
    aggregate_id = uuid4()
    occurred = datetime(2024, 3, 1, 12, 0, tzinfo=PLUS_TWO)
    event = Ticked(aggregate_id=aggregate_id, worker=0, n=0, occurred_at=occurred)
    store.append_events(aggregate_id, "Clock", [event], 0)
    ((stored, created, event_id),) = query(
        path, 'SELECT "timestamp", created_at, event_id FROM events'
    )
    assert stored == "2024-03-01T10:00:00.000000+00:00"
    assert isinstance(created, str)
    assert len(created) == len(stored)
    assert datetime.fromisoformat(created).utcoffset() == timedelta(0)
    assert event_id == str(event.event_id)
    (read,) = store.get_events(aggregate_id, "Clock").events
    assert read.occurred_at == occurred  # the same instant


def test_time_filters_compare_instants_whatever_the_offset(store: SyncSQLiteEventStore) -> None:
    aggregate_id = uuid4()
    base = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
    # Written in +02:00 and in UTC: text in the writer's offset would sort these wrongly.
    events = [
        Ticked(aggregate_id=aggregate_id, worker=0, n=0, occurred_at=base.astimezone(PLUS_TWO)),
        Ticked(aggregate_id=aggregate_id, worker=0, n=1, occurred_at=base + timedelta(hours=1)),
        Ticked(
            aggregate_id=aggregate_id,
            worker=0,
            n=2,
            occurred_at=(base + timedelta(hours=2)).astimezone(PLUS_TWO),
        ),
    ]
    store.append_events(aggregate_id, "Clock", events, 0)
    lower = (base + timedelta(minutes=30)).astimezone(timezone(timedelta(hours=-5)))
    stream = store.get_events(aggregate_id, "Clock", from_timestamp=lower)
    assert [e.n for e in stream.events] == [1, 2]  # type: ignore[attr-defined]
    upper = (base + timedelta(hours=1)).astimezone(PLUS_TWO)
    stream = store.get_events(aggregate_id, "Clock", to_timestamp=upper)
    assert [e.n for e in stream.events] == [0, 1]  # type: ignore[attr-defined]
    assert stream.version == 2
    options = ReadOptions(from_timestamp=base + timedelta(seconds=1))
    assert [s.stream_position for s in store.read_all(options)] == [2, 3]
    since = store.get_events_by_type("Clock", from_timestamp=base.astimezone(PLUS_TWO))
    assert [e.n for e in since] == [1, 2]  # type: ignore[attr-defined]


def test_filters_beyond_the_storable_years_select_everything_or_nothing(
    store: SyncSQLiteEventStore,
) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 2), 0)
    earliest = datetime.min.replace(tzinfo=PLUS_TWO)  # before year 1 in UTC
    latest = datetime.max.replace(tzinfo=timezone(timedelta(hours=-2)))  # after 9999 in UTC
    assert len(store.get_events(aggregate_id, "Clock", from_timestamp=earliest)) == 2
    assert len(store.get_events(aggregate_id, "Clock", to_timestamp=latest)) == 2
    assert len(store.get_events(aggregate_id, "Clock", from_timestamp=latest)) == 0


def test_integers_beyond_sqlite_range_are_not_errors(store: SyncSQLiteEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 2), 0)
    huge = 2**70
    assert len(store.get_events(aggregate_id, "Clock", from_version=huge)) == 0
    assert len(store.get_events(aggregate_id, "Clock", from_version=-huge)) == 2
    assert list(store.read_all(ReadOptions(from_position=huge))) == []
    backward = ReadOptions(direction=ReadDirection.BACKWARD, from_position=huge)
    assert list(store.read_stream(f"{aggregate_id}:Clock", backward)) != []
    with pytest.raises(OptimisticLockError):
        store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 1), huge)
    assert len(store.list_streams(huge)) == 1


# -- the outbox ------------------------------------------------------------------------------


def test_outbox_rows_are_written_with_the_events(path: Path) -> None:
    aggregate_id = uuid4()
    batch = ticks(aggregate_id, 3)
    with SyncSQLiteEventStore(path, event_registry=REGISTRY, outbox_enabled=True) as store:
        first = store.append_events(aggregate_id, "Clock", batch, 0)
        retried = store.append_events(aggregate_id, "Clock", batch, 0)  # no new rows
        assert (first.new_version, first.global_position) == (3, 3)
        assert retried == first
        with pytest.raises(OptimisticLockError):
            store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 1), 0)
        store.append_events(aggregate_id, "Clock", [], 3)
    rows = query(
        path,
        "SELECT o.event_id, o.event_type, o.aggregate_id, o.aggregate_type, o.status,"
        " o.event_data, o.created_at = e.created_at, o.processed_at"
        " FROM event_outbox o JOIN events e USING (event_id) ORDER BY e.id",
    )
    assert [row[0] for row in rows] == [str(event.event_id) for event in batch]
    assert {row[1:5] for row in rows} == {("Ticked", str(aggregate_id), "Clock", "pending")}
    assert all(row[6] == 1 and row[7] is None for row in rows)
    data = json.loads(str(rows[2][5]))
    assert data["payload"] == {"worker": 0, "n": 2}
    assert data["aggregate_version"] == 3
    assert data["event_type"] == "Ticked"
    ids = {row[0] for row in query(path, "SELECT id FROM event_outbox")}
    assert len(ids) == 3
    assert all(UUID(str(outbox_id)) for outbox_id in ids)


def test_no_outbox_rows_when_disabled(store: SyncSQLiteEventStore, path: Path) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 2), 0)
    assert query(path, "SELECT count(*) FROM event_outbox") == [(0,)]


# -- locks -----------------------------------------------------------------------------------


def test_reads_do_not_wait_for_a_writer_and_appends_wait_their_turn(path: Path) -> None:
    aggregate_id = uuid4()
    with SyncSQLiteEventStore(path, event_registry=REGISTRY) as store:
        store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 2), 0)
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")
    writer.execute("UPDATE events SET actor_id = 'x' WHERE version = 1")  # uncommitted
    released = threading.Event()
    try:
        # A fresh store: even its first-use schema check is a read.
        with SyncSQLiteEventStore(path, event_registry=REGISTRY) as store:
            started = time.monotonic()
            assert store.get_stream_version(aggregate_id, "Clock") == 2
            assert [e.actor_id for e in store.get_events(aggregate_id, "Clock").events] == [
                None,
                None,
            ]
            assert len(list(store.read_all())) == 2
            assert time.monotonic() - started < 2

            def release() -> None:
                time.sleep(0.3)
                writer.execute("COMMIT")
                released.set()

            thread = threading.Thread(target=release)
            thread.start()
            result = store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 1), 2)
            assert released.is_set()  # the append waited for the lock, then went on
            assert result.new_version == 3
            thread.join()
    finally:
        if writer.in_transaction:
            writer.execute("ROLLBACK")
        writer.close()


def test_async_store_waits_for_the_lock_in_a_thread_not_on_the_loop(path: Path) -> None:
    aggregate_id = uuid4()
    with SyncSQLiteEventStore(path, event_registry=REGISTRY) as store:
        store.initialize()
    writer = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    writer.execute("BEGIN IMMEDIATE")

    async def main() -> tuple[int, int]:
        ticks_seen = 0

        async def ticker() -> None:
            nonlocal ticks_seen
            while True:
                await asyncio.sleep(0.01)
                ticks_seen += 1

        async with SQLiteEventStore(path, event_registry=REGISTRY) as store:
            clock = asyncio.create_task(ticker())
            asyncio.get_running_loop().call_later(0.5, writer.execute, "COMMIT")
            result = await store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 1), 0)
            clock.cancel()
            return result.new_version, ticks_seen

    try:
        version, ticks_seen = asyncio.run(main())
    finally:
        writer.close()
    assert version == 1
    assert ticks_seen >= 10  # the loop kept running while the append waited


def test_async_store_round_trip(path: Path) -> None:
    async def main() -> None:
        store = SQLiteEventStore(path, event_registry=REGISTRY)
        aggregate_id = uuid4()
        await store.append_events(aggregate_id, "Clock", ticks(aggregate_id, 3), 0)
        read = [stored.stream_position async for stored in store.read_stream(f"{aggregate_id}")]
        assert read == [1, 2, 3]
        assert await store.get_global_position() == 3
        await store.close()
        await store.close()

    asyncio.run(main())


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize("store_class", [SyncSQLiteEventStore, SQLiteEventStore])
def test_a_path_in_a_missing_folder_names_the_folder_and_creates_nothing(
    tmp_path: Path, store_class: type[SyncSQLiteEventStore | SQLiteEventStore]
) -> None:
    folder = tmp_path / "missing" / "deeper"
    store = store_class(folder / "events.db")

    def first_call() -> object:
        result = store.get_global_position()
        return asyncio.run(result) if asyncio.iscoroutine(result) else result

    message = re.escape(f"the folder {folder} does not exist: create it first")
    with pytest.raises(EventSourceError, match=message) as caught:
        first_call()
    assert not isinstance(caught.value, StoreUnavailableError)  # waiting will not help
    assert isinstance(caught.value.__cause__, sqlite3.OperationalError)
    assert list(tmp_path.iterdir()) == []


def test_a_file_that_is_no_database_is_an_eventsource_error(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("not a database, " * 100)
    with SyncSQLiteEventStore(path) as store, pytest.raises(EventSourceError) as caught:
        store.get_global_position()
    assert isinstance(caught.value.__cause__, sqlite3.Error)


def test_tables_dropped_after_first_use_are_schema_not_initialized(
    store: SyncSQLiteEventStore, path: Path
) -> None:
    store.get_global_position()
    conn = sqlite3.connect(path)
    conn.executescript("DROP TABLE events; DROP TABLE event_outbox;")
    conn.close()
    with pytest.raises(SchemaNotInitializedError, match="eventsource init"):
        store.get_global_position()
    store.initialize()
    assert store.get_global_position() == 0


def test_path_must_be_text(tmp_path: Path) -> None:
    with pytest.raises(TypeError):
        SyncSQLiteEventStore(bytes(tmp_path / "x.db"))  # type: ignore[arg-type]
