"""An asyncio `EventStore` over a synchronous store's code, for the in-memory store.

That code never waits on I/O (it only holds a lock for in-memory work), so it runs directly
on the loop. (The SQL stores have their own async twins: `_stores.AsyncSQLEventStore`.)
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from uuid import UUID

from ..events import DomainEvent
from ..interface import EventStore, SyncEventStore
from ..types import AppendResult, EventStream, ReadOptions, StoredEvent


class PagedSyncStore(SyncEventStore):
    """A synchronous store whose readers produce pages: `read_stream`/`read_all` flatten them."""

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


class SyncBackedEventStore(EventStore):
    """Awaitable methods that run a synchronous store's methods on the loop."""

    def __init__(self, sync_store: PagedSyncStore) -> None:
        self._sync = sync_store

    async def append_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str,
        events: Sequence[DomainEvent],
        expected_version: int,
    ) -> AppendResult:
        return self._sync.append_events(aggregate_id, aggregate_type, events, expected_version)

    async def get_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str | None = None,
        from_version: int = 0,
        from_timestamp: datetime | None = None,
        to_timestamp: datetime | None = None,
    ) -> EventStream:
        return self._sync.get_events(
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
        return self._sync.get_events_by_type(aggregate_type, tenant_id, from_timestamp)

    async def event_exists(self, event_id: UUID) -> bool:
        return self._sync.event_exists(event_id)

    async def get_stream_version(self, aggregate_id: UUID, aggregate_type: str) -> int:
        return self._sync.get_stream_version(aggregate_id, aggregate_type)

    async def read_stream(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> AsyncIterator[StoredEvent]:
        for event in self._sync.read_stream(stream_id, options):
            yield event

    async def read_all(self, options: ReadOptions | None = None) -> AsyncIterator[StoredEvent]:
        for event in self._sync.read_all(options):
            yield event

    async def get_global_position(self) -> int:
        return self._sync.get_global_position()

    async def initialize(self) -> None:
        self._sync.initialize()

    async def close(self) -> None:
        self._sync.close()
