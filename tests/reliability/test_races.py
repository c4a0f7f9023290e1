"""Writers racing: nothing lost, nothing torn, and a tailer of the global log that never
skips (DESIGN sections 3 and 4).

The tail runs for `$EVENTSOURCE_RELIABILITY_TAIL_SECONDS` (default 30) per backend.
"""

from __future__ import annotations

import os
import random
import statistics
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest
import reliability_report
from reliability_events import REGISTRY, Tick, ticks
from reliability_ledger import AGGREGATE_TYPE, Ledger, audit

from eventsource import (
    ExpectedVersion,
    OptimisticLockError,
    ReadOptions,
    SyncEventStore,
    SyncPostgreSQLEventStore,
    SyncSQLiteEventStore,
)

WRITERS = 8
TAIL_SECONDS = float(os.environ.get("EVENTSOURCE_RELIABILITY_TAIL_SECONDS", "30"))


@attrs.define
class Writer:
    """One racing writer: numbered batches of 1 to `max_batch` ticks to random streams.

    `exact`: read the stream's version, append with it, and on an `OptimisticLockError`
    read again and retry; else `ExpectedVersion.ANY`, which must never raise.
    """

    store: SyncEventStore
    number: int
    streams: list[UUID]
    exact: bool
    max_batch: int = 4
    ledger: Ledger = attrs.field(init=False)
    conflicts: int = 0
    committed_at: dict[UUID, float] = attrs.Factory(dict)  # first event id -> when acknowledged

    def __attrs_post_init__(self) -> None:
        self.ledger = Ledger(self.store, writer=self.number, exact=self.exact)

    def append_one(self, rng: random.Random) -> None:
        aggregate_id = rng.choice(self.streams)
        batches = self.ledger.batches.setdefault(aggregate_id, [])
        number = sum(map(len, self.ledger.batches.values()))
        batch = ticks(aggregate_id, self.number, number, rng.randint(1, self.max_batch))
        if self.exact:
            while True:
                version = self.store.get_stream_version(aggregate_id, AGGREGATE_TYPE)
                try:
                    self.store.append_events(aggregate_id, AGGREGATE_TYPE, batch, version)
                    break
                except OptimisticLockError:
                    self.conflicts += 1
        else:
            self.store.append_events(aggregate_id, AGGREGATE_TYPE, batch, ExpectedVersion.ANY)
        self.committed_at[batch[0].event_id] = time.monotonic()
        batches.append(batch)

    def run(self, keep_going: Callable[[int], bool]) -> None:
        rng = random.Random(self.number)
        done = 0
        while keep_going(done):
            self.append_one(rng)
            done += 1


def _race(writers: list[Writer], keep_going: Callable[[int], bool]) -> list[BaseException]:
    """Run the writers in threads released together; the exceptions they raised."""
    barrier = threading.Barrier(len(writers))
    errors: list[BaseException] = []

    def run(writer: Writer) -> None:
        barrier.wait()
        try:
            writer.run(keep_going)
        except BaseException as exc:
            errors.append(exc)

    with ThreadPoolExecutor(len(writers)) as pool:
        list(pool.map(run, writers))
    return errors


@pytest.mark.parametrize("mode", ["any", "exact", "mixed"])
def test_racing_writers_lose_nothing(sync_store: SyncEventStore, mode: str, section: str) -> None:
    """8 writers on 3 streams: `any` never raises; `exact` retries its conflicts; `mixed`
    has both. Every event is stored once, each stream gapless with its batches whole."""
    streams = [uuid4() for _ in range(3)]
    writers = [
        Writer(sync_store, n, streams, exact=(mode == "exact" or (mode == "mixed" and n % 2 == 1)))
        for n in range(WRITERS)
    ]
    appends_each = 25
    errors = _race(writers, lambda done: done < appends_each)
    assert errors == []
    result = audit(sync_store, [writer.ledger for writer in writers])
    reliability_report.record(
        section,
        writers=WRITERS,
        appends=WRITERS * appends_each,
        conflicts_retried=sum(writer.conflicts for writer in writers),
        **result.figures(),
    )
    assert result.events_lost == 0
    assert result.events_duplicated == 0
    assert result.torn_or_misordered_streams == 0
    assert result.events_found == result.events_written


# -- the never-skip tail --------------------------------------------------------------------------


@pytest.fixture(
    params=[
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("sqlite", marks=pytest.mark.sqlite),
    ]
)
def tail_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[SyncEventStore]:
    store: SyncEventStore
    if request.param == "postgres":
        url = request.getfixturevalue("pg_url")
        store = SyncPostgreSQLEventStore.from_url(
            url, event_registry=REGISTRY, min_size=WRITERS + 1, max_size=WRITERS + 1
        )
    else:
        store = SyncSQLiteEventStore(tmp_path / "tail.db", event_registry=REGISTRY)
    with store:
        yield store


@pytest.mark.slow
def test_the_tail_never_skips_under_racing_writers(
    tail_store: SyncEventStore, section: str
) -> None:
    """8 writers (half ANY, half exact with retries, batches of 1 to 5 over 20 streams) for
    TAIL_SECONDS while the main thread tails `read_all(from_position=last)`: the tailer sees
    every committed event exactly once, each stream's positions 1, 2, 3... in order, and the
    order it saw is the order a full read gives afterwards."""
    streams = [uuid4() for _ in range(20)]
    writers = [
        Writer(tail_store, n, streams, exact=bool(n % 2), max_batch=5) for n in range(WRITERS)
    ]
    deadline = time.monotonic() + TAIL_SECONDS
    errors: list[BaseException] = []
    racing = threading.Thread(
        target=lambda: errors.extend(_race(writers, lambda _: time.monotonic() < deadline))
    )
    seen: list[UUID] = []
    seen_set: set[UUID] = set()
    last_position_of: dict[str, int] = {}
    problems: list[str] = []
    lag: list[float] = []
    polls = 0
    last = 0

    def tail_once() -> int:
        nonlocal last, polls
        polls += 1
        new = 0
        for stored in tail_store.read_all(ReadOptions(from_position=last)):
            now = time.monotonic()
            if stored.event_id in seen_set:
                problems.append(f"seen twice: {stored.event_id}")
            expected = last_position_of.get(stored.stream_id, 0) + 1
            if stored.stream_position != expected:
                problems.append(
                    f"{stored.stream_id}: position {stored.stream_position}, expected {expected}"
                )
            last_position_of[stored.stream_id] = stored.stream_position
            seen.append(stored.event_id)
            seen_set.add(stored.event_id)
            last = stored.global_position
            new += 1
            event: Any = stored.event
            if isinstance(event, Tick) and event.index == 0:
                for writer in writers:
                    committed = writer.committed_at.get(stored.event_id)
                    if committed is not None:
                        lag.append(now - committed)
        return new

    racing.start()
    while racing.is_alive():
        tail_once()
    racing.join()
    while tail_once():
        pass

    written = {
        event.event_id
        for writer in writers
        for batches in writer.ledger.batches.values()
        for batch in batches
        for event in batch
    }
    full_order = [stored.event_id for stored in tail_store.read_all()]
    result = audit(tail_store, [writer.ledger for writer in writers])
    reliability_report.record(
        section,
        seconds=TAIL_SECONDS,
        writers=WRITERS,
        appends=sum(sum(map(len, w.ledger.batches.values())) for w in writers),
        conflicts_retried=sum(writer.conflicts for writer in writers),
        polls=polls,
        events_written=len(written),
        events_seen_by_tailer=len(seen),
        events_lost=len(written - seen_set),
        events_duplicated=len(seen) - len(seen_set),
        tail_problems=len(problems),
        lag_seconds_median=round(statistics.median(lag), 4) if lag else None,
        lag_seconds_max=round(max(lag), 4) if lag else None,
        torn_or_misordered_streams=result.torn_or_misordered_streams,
    )
    assert errors == []
    assert problems == []
    assert written == seen_set
    assert len(seen) == len(seen_set)
    assert full_order == seen  # one stable order
    assert result.events_lost == 0
    assert result.torn_or_misordered_streams == 0
