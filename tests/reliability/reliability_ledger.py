"""Appending through faults, and proving afterwards that nothing was lost or torn.

`Ledger` appends numbered batches of `Tick`s. A call may only succeed or raise
`StoreUnavailableError` (anything else fails the test). After a failed call the batch must be
stored entirely or not at all, and the ledger retries the very same batch with the same
expected version until it succeeds: if the lost call had in fact committed, the store must
recognise the batch by its event ids and succeed without writing it twice (DESIGN section 3).

`audit` then reads every stream back and counts the events written, lost and duplicated, and
the streams that are not exactly their batches in order.
"""

from __future__ import annotations

import functools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from uuid import UUID

import attrs
from reliability_events import Tick, ticks

from eventsource import (
    AppendResult,
    ExpectedVersion,
    StoreUnavailableError,
    SyncEventStore,
)

T = TypeVar("T")
AGGREGATE_TYPE = "Ledger"
MAX_ATTEMPTS = 500
RETRY_PAUSE = 0.01


def retrying(call: Callable[[], T], on_failure: Callable[[], None] | None = None) -> T:
    """`call()` until it does not raise `StoreUnavailableError` (bounded)."""
    for _ in range(MAX_ATTEMPTS):
        try:
            return call()
        except StoreUnavailableError:
            if on_failure is not None:
                on_failure()
            time.sleep(RETRY_PAUSE)
    raise AssertionError(f"still unavailable after {MAX_ATTEMPTS} attempts")


@attrs.define
class Audit:
    events_written: int
    events_found: int
    events_lost: int
    events_duplicated: int
    torn_or_misordered_streams: int

    def figures(self) -> dict[str, int]:
        return attrs.asdict(self)


@attrs.define
class Ledger:
    """Numbered batches per stream, appended with retries; see the module's docstring."""

    store: SyncEventStore
    writer: int = 0
    exact: bool = True
    batches: dict[UUID, list[list[Tick]]] = attrs.Factory(dict)
    calls: int = 0
    failed_appends: int = 0
    failed_reads: int = 0
    unknown_committed: int = 0
    first_failure_streak: list[int] = attrs.Factory(list)
    _lock: threading.Lock = attrs.Factory(threading.Lock)

    def append(self, aggregate_id: UUID, size: int, **envelope: Any) -> AppendResult:
        """Append a new batch of `size` ticks to the stream, retrying until it is stored."""
        stream = self.batches.setdefault(aggregate_id, [])
        batch = ticks(aggregate_id, self.writer, len(stream), size, **envelope)
        expected = sum(map(len, stream)) if self.exact else ExpectedVersion.ANY
        failures = 0
        for _ in range(MAX_ATTEMPTS):
            self.calls += 1
            try:
                result = self.store.append_events(aggregate_id, AGGREGATE_TYPE, batch, expected)
            except StoreUnavailableError:
                failures += 1
                self.failed_appends += 1
                self._after_failure(aggregate_id, batch)
                continue
            stream.append(batch)
            self.first_failure_streak.append(failures)
            if self.exact:
                assert result.new_version == expected + size, result
            return result
        raise AssertionError(f"append still failing after {MAX_ATTEMPTS} attempts")

    def _after_failure(self, aggregate_id: UUID, batch: Sequence[Tick]) -> None:
        """A failed append: its batch is stored entirely or not at all."""
        ids = {event.event_id for event in batch}
        stored = self.stored_ids(aggregate_id) & ids
        assert stored in (set(), ids), f"a batch was partially stored: {len(stored)}/{len(ids)}"
        if stored:
            self.unknown_committed += 1

    def stored_ids(self, aggregate_id: UUID) -> set[UUID]:
        def read() -> set[UUID]:
            stream = self.store.get_events(aggregate_id, AGGREGATE_TYPE)
            return {event.event_id for event in stream.events}

        return retrying(read, self._read_failed)

    def _read_failed(self) -> None:
        with self._lock:
            self.failed_reads += 1

    def figures(self) -> dict[str, int]:
        return {
            "appends": sum(map(len, self.batches.values())),
            "calls_failed_unavailable": self.failed_appends + self.failed_reads,
            "unknown_outcomes_retried": self.failed_appends,
            "unknown_outcomes_that_had_committed": self.unknown_committed,
        }


def audit(store: SyncEventStore, ledgers: Sequence[Ledger]) -> Audit:
    """Read every stream back: each must be exactly its batches, in order, once."""
    written = found = lost = duplicated = bad_streams = 0
    streams: dict[UUID, list[list[Tick]]] = {}
    for ledger in ledgers:
        for aggregate_id, batches in ledger.batches.items():
            streams.setdefault(aggregate_id, []).extend(batches)
    for aggregate_id, batches in streams.items():
        events = retrying(functools.partial(store.get_events, aggregate_id, AGGREGATE_TYPE)).events
        ids = [event.event_id for event in events]
        expected = {event.event_id for batch in batches for event in batch}
        written += len(expected)
        found += len(ids)
        lost += len(expected - set(ids))
        duplicated += len(ids) - len(set(ids))
        versions = [event.aggregate_version for event in events]
        if versions != list(range(1, len(events) + 1)) or not _batches_whole(events):
            bad_streams += 1
    return Audit(written, found, lost, duplicated, bad_streams)


def _batches_whole(events: Sequence[Any]) -> bool:
    """Each batch's events are adjacent and in order in its stream (no batch torn)."""
    seen: set[tuple[int, int]] = set()
    previous: tuple[int, int, int] | None = None
    for event in events:
        key = (event.writer, event.batch)
        if previous is not None and key == previous[:2]:
            if event.index != previous[2] + 1:
                return False
        else:
            if event.index != 0 or key in seen:
                return False
            seen.add(key)
        previous = (event.writer, event.batch, event.index)
    return True
