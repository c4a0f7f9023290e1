"""What every contender shares: the workload sizes, a run's measurement, the timing helpers."""

from __future__ import annotations

import asyncio
import cProfile
import threading
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol

STREAM_TYPE = "Cart"
WARMUP_OPS = 10  # per worker, before the clock starts: prepared statements, pool, caches


@dataclass(frozen=True)
class Plan:
    """The workload sizes (the defaults are the issue's; `scaled` shrinks them)."""

    w1_appends: int = 5_000
    w2_batches: int = 100
    w2_batch_size: int = 100
    w3_writers: int = 8
    w3_appends: int = 500  # per writer
    w4_stream: int = 10_000
    w4_reads: int = 20
    w5_events: int = 50_000
    w6_writers: int = 8
    w6_appends: int = 100  # per writer
    tail_writers: int = 8
    tail_seconds: float = 3.0

    def scaled(self, scale: float) -> Plan:
        def n(value: int, floor: int = 1) -> int:
            return max(floor, round(value * scale))

        return Plan(
            w1_appends=n(self.w1_appends, 20),
            w2_batches=n(self.w2_batches, 2),
            w2_batch_size=self.w2_batch_size,
            w3_writers=self.w3_writers,
            w3_appends=n(self.w3_appends, 5),
            w4_stream=n(self.w4_stream, 100),
            w4_reads=n(self.w4_reads, 2),
            w5_events=max(n(self.w5_events, 200), n(self.w4_stream, 100)),
            w6_writers=self.w6_writers,
            w6_appends=n(self.w6_appends, 5),
            tail_writers=self.tail_writers,
            tail_seconds=max(0.5, self.tail_seconds * min(1.0, scale)),
        )


@dataclass(frozen=True)
class Run:
    """One timed run: how many events were written or read, in how many seconds."""

    events: int
    seconds: float
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def rate(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else 0.0


@dataclass(frozen=True)
class ReadFixture:
    """The data the read workloads read: one long stream inside a log of known length."""

    stream_aggregate_id: Any
    stream_length: int
    log_length: int

    @property
    def stream_id(self) -> str:
        return f"{self.stream_aggregate_id}:{STREAM_TYPE}"


class Contender(Protocol):
    """A way of running the workloads: the raw baseline, the sync store, the async store."""

    name: str

    def w1(self, url: str, plan: Plan) -> Run: ...
    def w2(self, url: str, plan: Plan) -> Run: ...
    def w3(self, url: str, plan: Plan) -> Run: ...
    def w4(self, url: str, plan: Plan, fixture: ReadFixture) -> Run: ...
    def w5(self, url: str, plan: Plan, fixture: ReadFixture) -> Run: ...
    def w6(self, url: str, plan: Plan) -> Run: ...


class Clock:
    """Times the measured section of a run; `benchmarks.profiling` also profiles it.

    With `profiling` on, `start` enables a cProfile profiler for the calling thread (and
    `timed_threads` one per worker thread); `profiles` collects them for the report.
    """

    def __init__(self) -> None:
        self.profiling = False
        self.profiles: list[cProfile.Profile] = []

    def start(self) -> float:
        if self.profiling:
            self._enable()
        return time.perf_counter()

    def stop(self, began: float) -> float:
        seconds = time.perf_counter() - began
        if self.profiling:
            self._disable()
        return seconds

    def _enable(self) -> None:
        profiler = cProfile.Profile()
        self.profiles.append(profiler)
        _current.profiler = profiler
        profiler.enable()

    def _disable(self) -> None:
        profiler: cProfile.Profile | None = getattr(_current, "profiler", None)
        if profiler is not None:
            profiler.disable()
            _current.profiler = None

    def in_thread(self, work: Callable[[int], int]) -> Callable[[int], int]:
        """`work`, profiled on whichever worker thread runs it when profiling."""
        if not self.profiling:
            return work

        def profiled(i: int) -> int:
            self._enable()
            try:
                return work(i)
            finally:
                self._disable()

        return profiled


CLOCK = Clock()
_current = threading.local()


def timed_threads(
    workers: int,
    warm: Callable[[int], object],
    work: Callable[[int], int],
) -> tuple[int, float]:
    """Warm every worker up, then time `work(i)` on `workers` threads; (events, seconds)."""
    with ThreadPoolExecutor(workers) as pool:
        for future in [pool.submit(warm, i) for i in range(workers)]:
            future.result()
        profiled = CLOCK.in_thread(work)
        began = time.perf_counter()
        futures = [pool.submit(profiled, i) for i in range(workers)]
        counts = [future.result() for future in futures]
        seconds = time.perf_counter() - began
    return sum(counts), seconds


async def timed_tasks(
    workers: int,
    warm: Callable[[int], Awaitable[object]],
    work: Callable[[int], Awaitable[int]],
) -> tuple[int, float]:
    """The asyncio twin of `timed_threads`: `workers` concurrent tasks."""
    await asyncio.gather(*(warm(i) for i in range(workers)))
    began = CLOCK.start()
    counts = await asyncio.gather(*(work(i) for i in range(workers)))
    return sum(counts), CLOCK.stop(began)


def split(items: Sequence[Any], parts: int) -> list[list[Any]]:
    """`items` dealt into `parts` lists of (nearly) equal length."""
    return [list(items[i::parts]) for i in range(parts)]
