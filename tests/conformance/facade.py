"""A synchronous face on an async `EventStore`, so each conformance test is written once.

The facade owns a private event loop (`asyncio.Runner`) and awaits every call on it, so the
async store is exercised through its real coroutines and async iterators, never through the
sync store behind it.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, TypeVar
from uuid import UUID

from eventsource import (
    AppendResult,
    DomainEvent,
    EventStore,
    EventStream,
    ReadOptions,
    StoredEvent,
    StoreStats,
    StreamInfo,
    SyncEventStore,
)

T = TypeVar("T")


async def _collect(events: AsyncIterator[StoredEvent]) -> list[StoredEvent]:
    return [event async for event in events]


class AsyncStoreFacade(SyncEventStore):
    """Drives an async store on a private loop; same method names as a sync store."""

    def __init__(self, store: EventStore, runner: asyncio.Runner) -> None:
        self.store = store
        self._runner = runner

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self._runner.run(coroutine)

    def append_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str,
        events: Sequence[DomainEvent],
        expected_version: int,
    ) -> AppendResult:
        return self._run(
            self.store.append_events(aggregate_id, aggregate_type, events, expected_version)
        )

    def get_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str | None = None,
        from_version: int = 0,
        from_timestamp: datetime | None = None,
        to_timestamp: datetime | None = None,
    ) -> EventStream:
        return self._run(
            self.store.get_events(
                aggregate_id, aggregate_type, from_version, from_timestamp, to_timestamp
            )
        )

    def get_events_by_type(
        self,
        aggregate_type: str,
        tenant_id: UUID | None = None,
        from_timestamp: datetime | float | None = None,
    ) -> list[DomainEvent]:
        return self._run(self.store.get_events_by_type(aggregate_type, tenant_id, from_timestamp))

    def event_exists(self, event_id: UUID) -> bool:
        return self._run(self.store.event_exists(event_id))

    def get_stream_version(self, aggregate_id: UUID, aggregate_type: str) -> int:
        return self._run(self.store.get_stream_version(aggregate_id, aggregate_type))

    def read_stream(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> Iterator[StoredEvent]:
        # A generator, like the sync stores' readers: nothing runs before the first next().
        yield from self._run(_collect(self.store.read_stream(stream_id, options)))

    def read_all(self, options: ReadOptions | None = None) -> Iterator[StoredEvent]:
        yield from self._run(_collect(self.store.read_all(options)))

    def get_global_position(self) -> int:
        return self._run(self.store.get_global_position())

    def list_streams(self, limit: int = 100) -> list[StreamInfo]:
        return self._run(self.store.list_streams(limit))

    def get_stats(self) -> StoreStats:
        return self._run(self.store.get_stats())

    def initialize(self) -> None:
        self._run(self.store.initialize())

    def close(self) -> None:
        self._run(self.store.close())

    def __enter__(self) -> Any:
        entered = self._run(self.store.__aenter__())
        return self if entered is self.store else entered

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._run(self.store.__aexit__(exc_type, exc, tb))

    def __getattr__(self, name: str) -> Any:
        """Backend extras (e.g. the in-memory `clear()`); awaitable results are awaited."""
        if name.startswith("__") or name in ("store", "_runner"):
            raise AttributeError(name)
        attribute = getattr(self.store, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            result = attribute(*args, **kwargs)
            return self._run(result) if inspect.iscoroutine(result) else result

        return call

    def __repr__(self) -> str:
        return f"AsyncStoreFacade({self.store!r})"


@contextlib.contextmanager
def open_async(
    make: Callable[[], Coroutine[Any, Any, EventStore]],
) -> Iterator[AsyncStoreFacade]:
    """Run `make()` on a fresh private loop, yield the facade, close the store and the loop."""
    with asyncio.Runner() as runner:
        store = runner.run(make())
        try:
            yield AsyncStoreFacade(store, runner)
        finally:
            runner.run(store.close())
