"""An asyncio `EventStore` over a synchronous store's code.

The in-memory store runs its code directly on the loop (it never waits on I/O); the SQLite
store hands each call to a worker thread, so the loop is never blocked. Reads cross over a
page at a time.
"""

from __future__ import annotations

import asyncio
from abc import abstractmethod
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from typing import TypeVar
from uuid import UUID

from .events import DomainEvent
from .interface import EventStore, SyncEventStore
from .types import AppendResult, EventStream, ReadOptions, StoredEvent

T = TypeVar("T")


class PagedSyncStore(SyncEventStore):
    """A synchronous store whose readers produce pages, so an async twin can cross per page."""

    @abstractmethod
    def read_stream_pages(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> Iterator[list[StoredEvent]]:
        """`read_stream`, a page at a time; arguments are checked before the first page."""

    @abstractmethod
    def read_all_pages(self, options: ReadOptions | None = None) -> Iterator[list[StoredEvent]]:
        """`read_all`, a page at a time; arguments are checked before the first page."""

    def read_stream(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> Iterator[StoredEvent]:
        for page in self.read_stream_pages(stream_id, options):
            yield from page

    def read_all(self, options: ReadOptions | None = None) -> Iterator[StoredEvent]:
        for page in self.read_all_pages(options):
            yield from page


_DONE = object()


class SyncBackedEventStore(EventStore):
    """Awaitable methods that run a synchronous store's methods (in a thread if `offload`)."""

    def __init__(self, sync_store: PagedSyncStore, *, offload: bool) -> None:
        self._sync = sync_store
        self._offload = offload

    async def _call(self, fn: Callable[..., T], *args: object) -> T:
        if self._offload:
            return await asyncio.to_thread(fn, *args)
        return fn(*args)

    async def append_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str,
        events: Sequence[DomainEvent],
        expected_version: int,
    ) -> AppendResult:
        return await self._call(
            self._sync.append_events, aggregate_id, aggregate_type, events, expected_version
        )

    async def get_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str | None = None,
        from_version: int = 0,
        from_timestamp: datetime | None = None,
        to_timestamp: datetime | None = None,
    ) -> EventStream:
        return await self._call(
            self._sync.get_events,
            aggregate_id,
            aggregate_type,
            from_version,
            from_timestamp,
            to_timestamp,
        )

    async def get_events_by_type(
        self,
        aggregate_type: str,
        tenant_id: UUID | None = None,
        from_timestamp: datetime | float | None = None,
    ) -> list[DomainEvent]:
        return await self._call(
            self._sync.get_events_by_type, aggregate_type, tenant_id, from_timestamp
        )

    async def event_exists(self, event_id: UUID) -> bool:
        return await self._call(self._sync.event_exists, event_id)

    async def get_stream_version(self, aggregate_id: UUID, aggregate_type: str) -> int:
        return await self._call(self._sync.get_stream_version, aggregate_id, aggregate_type)

    async def read_stream(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> AsyncIterator[StoredEvent]:
        pages = await self._call(self._sync.read_stream_pages, stream_id, options)
        async for event in self._drain(pages):
            yield event

    async def read_all(self, options: ReadOptions | None = None) -> AsyncIterator[StoredEvent]:
        pages = await self._call(self._sync.read_all_pages, options)
        async for event in self._drain(pages):
            yield event

    async def _drain(self, pages: Iterator[list[StoredEvent]]) -> AsyncIterator[StoredEvent]:
        while (page := await self._call(next, pages, _DONE)) is not _DONE:
            for event in page:
                yield event

    async def get_global_position(self) -> int:
        return await self._call(self._sync.get_global_position)

    async def initialize(self) -> None:
        await self._call(self._sync.initialize)

    async def close(self) -> None:
        await self._call(self._sync.close)
