"""Sync stores shared by threads (DESIGN sections 3 and 7): ANY never conflicts."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from uuid import uuid4

from sample_events import Happened, happened

from eventsource import AppendResult, ExpectedVersion, SyncEventStore

THREADS = 8
APPENDS_PER_THREAD = 25


def _in_threads(work: Callable[[int], Any]) -> list[Any]:
    """Run `work(i)` in THREADS threads released together; return the results in order."""
    barrier = threading.Barrier(THREADS)

    def run(index: int) -> Any:
        barrier.wait()
        return work(index)

    with ThreadPoolExecutor(THREADS) as pool:
        return list(pool.map(run, range(THREADS)))


def test_any_appends_from_threads_are_gapless(sync_store: SyncEventStore) -> None:
    aggregate_id = uuid4()

    def work(index: int) -> list[AppendResult]:
        return [
            sync_store.append_events(
                aggregate_id,
                "Order",
                [Happened(aggregate_id=aggregate_id, note=f"{index}-{i}")],
                ExpectedVersion.ANY,
            )
            for i in range(APPENDS_PER_THREAD)
        ]

    results = [result for batch in _in_threads(work) for result in batch]
    total = THREADS * APPENDS_PER_THREAD
    assert sorted(result.new_version for result in results) == list(range(1, total + 1))
    stream = sync_store.get_events(aggregate_id, "Order")
    assert stream.version == total
    assert [event.aggregate_version for event in stream.events] == list(range(1, total + 1))
    assert len({event.note for event in stream.events}) == total  # type: ignore[attr-defined]
    # Along the log the stream's positions increase, whatever the races and retries.
    logged = [s.stream_position for s in sync_store.read_all()]
    assert logged == list(range(1, total + 1))


def test_identical_any_appends_racing_all_succeed_and_store_once(
    sync_store: SyncEventStore,
) -> None:
    aggregate_id = uuid4()
    batch = happened(aggregate_id, 3)

    results = _in_threads(
        lambda _: sync_store.append_events(aggregate_id, "Order", batch, ExpectedVersion.ANY)
    )
    assert {(r.success, r.new_version) for r in results} == {(True, 3)}
    assert len({r.global_position for r in results}) == 1
    assert [s.event_id for s in sync_store.read_all()] == [e.event_id for e in batch]
