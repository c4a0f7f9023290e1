"""The never-skip check: writers race while a tailer loops `read_all(from_position=last)`.

Every event a writer got a successful `AppendResult` for must be seen by the tailer exactly
once; along the log, each stream's positions must increase. Runs on the sync store (threads)
and on the async store (tasks).
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any
from uuid import UUID, uuid4

from eventsource import ExpectedVersion, ReadOptions, StoredEvent

from .common import STREAM_TYPE
from .model import make_events
from .stores import async_store, sync_store

STREAMS = 64
MAX_BATCH = 3
CATCH_UP_SECONDS = 15.0
IDLE_POLL_SECONDS = 0.002


@dataclass
class TailResult:
    """What the tailer saw against what the writers wrote."""

    contender: str
    seconds: float
    written: int
    seen: int
    missed: int
    repeated: int
    unexpected: int
    out_of_order: int
    polls: int

    @property
    def ok(self) -> bool:
        return not (self.missed or self.repeated or self.unexpected or self.out_of_order)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "ok": self.ok}


class _Tally:
    """The tailer's bookkeeping, shared by the sync and async runs."""

    def __init__(self) -> None:
        self.seen: list[UUID] = []
        self.last = 0
        self.polls = 0
        self.out_of_order = 0
        self._positions: dict[str, int] = {}

    def take(self, events: Iterable[StoredEvent]) -> int:
        count = 0
        for stored in events:
            self.note(stored)
            count += 1
        return count

    def note(self, stored: StoredEvent) -> None:
        self.seen.append(stored.event_id)
        if stored.stream_position <= self._positions.get(stored.stream_id, 0):
            self.out_of_order += 1
        self._positions[stored.stream_id] = stored.stream_position
        self.last = stored.global_position

    def result(self, contender: str, seconds: float, written: list[UUID]) -> TailResult:
        written_set, seen_set = set(written), set(self.seen)
        return TailResult(
            contender=contender,
            seconds=round(seconds, 3),
            written=len(written),
            seen=len(self.seen),
            missed=len(written_set - seen_set),
            repeated=len(self.seen) - len(seen_set),
            unexpected=len(seen_set - written_set),
            out_of_order=self.out_of_order,
            polls=self.polls,
        )


def tail_sync(url: str, writers: int, seconds: float, seed: int = 7) -> TailResult:
    streams = [uuid4() for _ in range(STREAMS)]
    written: list[UUID] = []
    lock = threading.Lock()
    stop_writing, stop_tailing = threading.Event(), threading.Event()
    tally = _Tally()
    errors: list[BaseException] = []
    with sync_store(url, writers + 1) as store:

        def write(worker: int) -> None:
            rng = random.Random(seed * 1000 + worker)
            try:
                while not stop_writing.is_set():
                    stream = rng.choice(streams)
                    batch = make_events(stream, rng.randint(1, MAX_BATCH), rng)
                    store.append_events(stream, STREAM_TYPE, batch, ExpectedVersion.ANY)
                    with lock:
                        written.extend(event.event_id for event in batch)
            except BaseException as exc:
                errors.append(exc)

        def tail() -> None:
            try:
                while True:
                    stopping = stop_tailing.is_set()
                    tally.polls += 1
                    got = tally.take(store.read_all(ReadOptions(from_position=tally.last)))
                    if stopping:
                        return
                    if not got:
                        time.sleep(IDLE_POLL_SECONDS)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
        tailer = threading.Thread(target=tail)
        began = time.perf_counter()
        tailer.start()
        for thread in threads:
            thread.start()
        time.sleep(seconds)
        stop_writing.set()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - began
        deadline = time.monotonic() + CATCH_UP_SECONDS
        while len(tally.seen) < len(written) and time.monotonic() < deadline and not errors:
            time.sleep(0.05)
        stop_tailing.set()
        tailer.join()
    if errors:
        raise errors[0]
    return tally.result("sync store", elapsed, written)


def tail_async(url: str, writers: int, seconds: float, seed: int = 8) -> TailResult:
    async def main() -> TailResult:
        streams = [uuid4() for _ in range(STREAMS)]
        written: list[UUID] = []
        stop_writing, stop_tailing = asyncio.Event(), asyncio.Event()
        tally = _Tally()
        async with async_store(url, writers + 1) as store:

            async def write(worker: int) -> None:
                rng = random.Random(seed * 1000 + worker)
                while not stop_writing.is_set():
                    stream = rng.choice(streams)
                    batch = make_events(stream, rng.randint(1, MAX_BATCH), rng)
                    await store.append_events(stream, STREAM_TYPE, batch, ExpectedVersion.ANY)
                    written.extend(event.event_id for event in batch)

            async def tail() -> None:
                while True:
                    stopping = stop_tailing.is_set()
                    tally.polls += 1
                    got = 0
                    async for stored in store.read_all(ReadOptions(from_position=tally.last)):
                        tally.note(stored)
                        got += 1
                    if stopping:
                        return
                    if not got:
                        await asyncio.sleep(IDLE_POLL_SECONDS)

            tailer = asyncio.create_task(tail())
            began = time.perf_counter()
            tasks = [asyncio.create_task(write(i)) for i in range(writers)]
            await asyncio.sleep(seconds)
            stop_writing.set()
            await asyncio.gather(*tasks)
            elapsed = time.perf_counter() - began
            deadline = time.monotonic() + CATCH_UP_SECONDS
            while len(tally.seen) < len(written) and time.monotonic() < deadline:
                if tailer.done():
                    break
                await asyncio.sleep(0.05)
            stop_tailing.set()
            await tailer
        return tally.result("async store", elapsed, written)

    return asyncio.run(main())
