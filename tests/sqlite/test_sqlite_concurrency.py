"""Several threads and processes on one SQLite file: no torn batch, no lost write."""

from __future__ import annotations

import multiprocessing
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from uuid import UUID, uuid4

import pytest
from workers import REGISTRY, Ticked, append_many

from eventsource import ExpectedVersion, OptimisticLockError, StoredEvent, SyncSQLiteEventStore

pytestmark = pytest.mark.sqlite

PROCESSES = 4
APPENDS_PER_PROCESS = 500
THREADS = 8
APPENDS_PER_THREAD = 60


def check_log(log: list[StoredEvent], streams: list[UUID], total: int) -> None:
    """Every event once, global positions unique and increasing, each stream gapless and in
    order along the log."""
    assert len(log) == total
    positions = [stored.global_position for stored in log]
    assert positions == sorted(set(positions))
    assert len({stored.event_id for stored in log}) == total
    by_stream: dict[str, list[int]] = defaultdict(list)
    for stored in log:
        by_stream[stored.stream_id].append(stored.stream_position)
    assert set(by_stream) <= {f"{aggregate_id}:Clock" for aggregate_id in streams}
    for versions in by_stream.values():
        assert versions == list(range(1, len(versions) + 1))


@pytest.mark.slow
def test_processes_appending_to_one_file_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    streams = [uuid4() for _ in range(5)]
    context = multiprocessing.get_context("spawn")
    with context.Manager() as manager, context.Pool(PROCESSES) as pool:
        start = manager.Barrier(PROCESSES)  # so the four really run at the same time
        conflicts = pool.starmap(
            append_many,
            [(path, worker, APPENDS_PER_PROCESS, streams, start) for worker in range(PROCESSES)],
        )
    total = PROCESSES * APPENDS_PER_PROCESS
    with SyncSQLiteEventStore(path, event_registry=REGISTRY) as store:
        log = list(store.read_all())
        check_log(log, streams, total)
        written = {(e.event.worker, e.event.n) for e in log}  # type: ignore[attr-defined]
        assert written == {(w, n) for w in range(PROCESSES) for n in range(APPENDS_PER_PROCESS)}
        assert store.get_global_position() == log[-1].global_position
        assert sum(store.get_stream_version(s, "Clock") for s in streams) == total
    assert all(count >= 0 for count in conflicts)


@pytest.mark.slow
def test_threads_appending_through_one_store_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    streams = [uuid4() for _ in range(3)]
    with SyncSQLiteEventStore(path, event_registry=REGISTRY) as store:
        barrier = threading.Barrier(THREADS)

        def work(worker: int) -> int:
            barrier.wait()
            return append_many_with(store, worker, streams)

        with ThreadPoolExecutor(THREADS) as pool:
            list(pool.map(work, range(THREADS)))
        check_log(list(store.read_all()), streams, THREADS * APPENDS_PER_THREAD)


def append_many_with(store: SyncSQLiteEventStore, worker: int, streams: list[UUID]) -> int:
    """Like `workers.append_many`, through a store shared by the threads."""
    conflicts = 0
    for n in range(APPENDS_PER_THREAD):
        aggregate_id = streams[(worker + n) % len(streams)]
        event = Ticked(aggregate_id=aggregate_id, worker=worker, n=n)
        if n % 2:
            store.append_events(aggregate_id, "Clock", [event], ExpectedVersion.ANY)
            continue
        while True:
            try:
                version = store.get_stream_version(aggregate_id, "Clock")
                store.append_events(aggregate_id, "Clock", [event], version)
                break
            except OptimisticLockError:
                conflicts += 1
    return conflicts


@pytest.mark.slow
def test_a_reader_never_sees_half_a_batch(tmp_path: Path) -> None:
    path = tmp_path / "events.db"
    batch_size, batches = 25, 40
    aggregate_id = uuid4()
    done = threading.Event()
    torn: list[str] = []

    def read_until_done(store: SyncSQLiteEventStore) -> int:
        reads = 0
        while not done.is_set():
            count = len(list(store.read_all()))
            stream = store.get_events(aggregate_id, "Clock")
            if count % batch_size or stream.version % batch_size:
                torn.append(f"read_all saw {count} events, the stream {stream.version}")
            reads += 1
        return reads

    with (
        SyncSQLiteEventStore(path, event_registry=REGISTRY) as writer,
        SyncSQLiteEventStore(path, event_registry=REGISTRY) as reader,
    ):
        writer.initialize()
        with ThreadPoolExecutor(2) as pool:
            readers = [pool.submit(read_until_done, reader) for _ in range(2)]
            try:
                for i in range(batches):
                    batch = [
                        Ticked(aggregate_id=aggregate_id, worker=0, n=i * batch_size + n)
                        for n in range(batch_size)
                    ]
                    writer.append_events(aggregate_id, "Clock", batch, i * batch_size)
            finally:
                done.set()
            assert all(future.result() > 0 for future in readers)
        assert torn == []
        assert writer.get_stream_version(aggregate_id, "Clock") == batch_size * batches
