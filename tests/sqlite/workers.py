"""Code the SQLite tests run in other processes (spawned: importable, picklable, light)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any
from uuid import UUID

import attrs

from eventsource import (
    DomainEvent,
    EventRegistry,
    ExpectedVersion,
    OptimisticLockError,
    SyncSQLiteEventStore,
    register_event,
)

REGISTRY = EventRegistry()


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Ticked(DomainEvent):
    """One append of a worker: who wrote it, and its number there."""

    worker: int
    n: int


def append_many(
    path: Path, worker: int, appends: int, streams: list[UUID], start: Any = None
) -> int:
    """`appends` one-event appends to random streams, half with ANY, half with exact
    versions retried after reloading on a conflict. Returns the number of conflicts.

    `start` (a barrier) releases the workers together."""
    conflicts = 0
    rng = random.Random(worker)
    with SyncSQLiteEventStore(path, event_registry=REGISTRY) as store:
        store.get_global_position()  # the connection is open, the schema is there
        if start is not None:
            start.wait()
        for n in range(appends):
            aggregate_id = rng.choice(streams)
            event = Ticked(aggregate_id=aggregate_id, worker=worker, n=n)
            if n % 2:
                store.append_events(aggregate_id, "Clock", [event], ExpectedVersion.ANY)
                continue
            while True:
                version = store.get_stream_version(aggregate_id, "Clock")
                try:
                    store.append_events(aggregate_id, "Clock", [event], version)
                    break
                except OptimisticLockError:
                    conflicts += 1
    return conflicts
