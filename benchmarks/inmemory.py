"""The in-memory stores' speed, for users' unit tests: `python -m benchmarks.inmemory`.

No server: appends and reads per second on `SyncInMemoryEventStore` and `InMemoryEventStore`,
each workload run `--repeat` times, interleaved, the median reported. The machines are shared:
compare two versions by running both in turn (before/after), not against an old figure.

    python -m benchmarks.inmemory                 # every workload, 5 rounds
    python -m benchmarks.inmemory --repeat 3 --json out.json
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

if __package__ in (None, ""):  # `python benchmarks/inmemory.py`
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    __package__ = "benchmarks"

from eventsource import (
    ExpectedVersion,
    InMemoryEventStore,
    ReadOptions,
    SyncInMemoryEventStore,
)

from .model import AGGREGATE_TYPE, REGISTRY, make_events

APPENDS = 20_000
"""Single-event appends (M1, M2) per run."""
BATCHES = 200
"""100-event batch appends (M3) per run."""
STREAM = 10_000
"""Events in the stream M4 reads, and in M5's log (with 4 more streams)."""


def _timed(work: Callable[[], int]) -> float:
    """Events per second of one run of `work` (which returns how many events it handled).

    The heap built so far is collected and frozen first: a full collection of the
    benchmark's own inputs would otherwise land in whichever run triggers it.
    """
    gc.collect()
    gc.freeze()
    started = time.perf_counter()
    count = work()
    return count / (time.perf_counter() - started)


def _sync_workloads(rng: random.Random) -> dict[str, Callable[[], int]]:
    singles = [make_events(uuid4(), 1, rng)[0] for _ in range(APPENDS)]
    streams = [uuid4() for _ in range(BATCHES)]
    batches = [make_events(stream, 100, rng) for stream in streams]
    reader = SyncInMemoryEventStore(event_registry=REGISTRY)
    read_id = uuid4()
    for _ in range(0, STREAM, 500):
        reader.append_events(
            read_id, AGGREGATE_TYPE, make_events(read_id, 500, rng), ExpectedVersion.ANY
        )
    for _ in range(4):
        other = uuid4()
        reader.append_events(
            other, AGGREGATE_TYPE, make_events(other, STREAM // 4, rng), ExpectedVersion.ANY
        )

    def m1_append_any() -> int:
        store = SyncInMemoryEventStore(event_registry=REGISTRY)
        for event in singles:
            store.append_events(event.aggregate_id, AGGREGATE_TYPE, [event], ExpectedVersion.ANY)
        return len(singles)

    def m2_append_exact() -> int:
        store = SyncInMemoryEventStore(event_registry=REGISTRY)
        stream = uuid4()
        events = [e.__class__(**{**_fields(e), "aggregate_id": stream}) for e in singles[:5000]]
        for version, event in enumerate(events):
            store.append_events(stream, AGGREGATE_TYPE, [event], version)
        return len(events)

    def m3_append_batches() -> int:
        store = SyncInMemoryEventStore(event_registry=REGISTRY)
        for stream, batch in zip(streams, batches, strict=True):
            store.append_events(stream, AGGREGATE_TYPE, batch, ExpectedVersion.NO_STREAM)
        return BATCHES * 100

    def m4_get_events() -> int:
        return sum(len(reader.get_events(read_id, AGGREGATE_TYPE)) for _ in range(5))

    def m5_read_all() -> int:
        return sum(1 for _ in reader.read_all(ReadOptions()))

    def m6_read_stream() -> int:
        return sum(1 for _ in reader.read_stream(f"{read_id}:{AGGREGATE_TYPE}"))

    return {
        "M1 single appends (ANY)": m1_append_any,
        "M2 single appends (exact version)": m2_append_exact,
        "M3 100-event batches": m3_append_batches,
        "M4 get_events, 10k-event stream": m4_get_events,
        "M5 read_all, 20k-event log": m5_read_all,
        "M6 read_stream, 10k events": m6_read_stream,
    }


def _async_workloads(rng: random.Random) -> dict[str, Callable[[], int]]:
    singles = [make_events(uuid4(), 1, rng)[0] for _ in range(APPENDS)]
    read_id = uuid4()
    loop = asyncio.new_event_loop()
    reader = InMemoryEventStore(event_registry=REGISTRY)
    for _ in range(0, STREAM, 500):
        loop.run_until_complete(
            reader.append_events(
                read_id, AGGREGATE_TYPE, make_events(read_id, 500, rng), ExpectedVersion.ANY
            )
        )

    def a1_append_any() -> int:
        store = InMemoryEventStore(event_registry=REGISTRY)

        async def work() -> None:
            for event in singles:
                await store.append_events(
                    event.aggregate_id, AGGREGATE_TYPE, [event], ExpectedVersion.ANY
                )

        loop.run_until_complete(work())
        return len(singles)

    def a5_read_all() -> int:
        async def work() -> int:
            return sum([1 async for _ in reader.read_all()])

        return loop.run_until_complete(work())

    return {"A1 async single appends (ANY)": a1_append_any, "A5 async read_all": a5_read_all}


def _fields(event: Any) -> dict[str, Any]:
    import attrs

    return {f.name: getattr(event, f.name) for f in attrs.fields(type(event)) if f.init}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    rng = random.Random(42)
    workloads = {**_sync_workloads(rng), **_async_workloads(rng)}
    runs: dict[str, list[float]] = {name: [] for name in workloads}
    for round_ in range(args.repeat):
        names = list(workloads)
        names = names[round_ % len(names) :] + names[: round_ % len(names)]
        for name in names:
            runs[name].append(_timed(workloads[name]))
        print(f"round {round_ + 1}/{args.repeat} done", file=sys.stderr)
    medians = {name: statistics.median(values) for name, values in runs.items()}
    print("| workload | events/s (median) | min | max |")
    print("|---|---:|---:|---:|")
    for name, values in runs.items():
        print(f"| {name} | {medians[name]:,.0f} | {min(values):,.0f} | {max(values):,.0f} |")
    if args.json:
        args.json.write_text(json.dumps({"runs": runs, "medians": medians}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
