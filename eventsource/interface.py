"""The store interfaces: `SyncEventStore` and its awaitable twin `EventStore`.

Both have the same method names and parameters; only `await` (and `async for`) differ.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from types import TracebackType
from typing import Self
from uuid import UUID

from .events import DomainEvent
from .types import AppendResult, EventStream, ReadOptions, StoredEvent, StoreStats, StreamInfo

__all__ = ["EventStore", "SyncEventStore"]


class SyncEventStore(ABC):
    """An append-only store of domain events per stream, with a global log."""

    @abstractmethod
    def append_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str,
        events: Sequence[DomainEvent],
        expected_version: int,
    ) -> AppendResult:
        """Append `events` atomically if the stream is at `expected_version`."""

    @abstractmethod
    def get_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str | None = None,
        from_version: int = 0,
        from_timestamp: datetime | None = None,
        to_timestamp: datetime | None = None,
    ) -> EventStream:
        """The aggregate's events in version order (`from_version` exclusive)."""

    @abstractmethod
    def get_events_by_type(
        self,
        aggregate_type: str,
        tenant_id: UUID | None = None,
        from_timestamp: datetime | float | None = None,
    ) -> list[DomainEvent]:
        """Every event of this aggregate type, by `occurred_at` then log order."""

    @abstractmethod
    def event_exists(self, event_id: UUID) -> bool:
        """Whether an event with this id is stored."""

    @abstractmethod
    def get_stream_version(self, aggregate_id: UUID, aggregate_type: str) -> int:
        """The stream's current version; 0 when it does not exist."""

    @abstractmethod
    def read_stream(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> Iterator[StoredEvent]:
        """Stream the events of `"<aggregate_id>:<aggregate_type>"` (or every type of a bare id)."""

    @abstractmethod
    def read_all(self, options: ReadOptions | None = None) -> Iterator[StoredEvent]:
        """Stream the global log; resume with `ReadOptions(from_position=last_seen)`."""

    @abstractmethod
    def get_global_position(self) -> int:
        """The global position of the last event of the log (0 when empty)."""

    @abstractmethod
    def list_streams(self, limit: int = 100) -> list[StreamInfo]:
        """The first `limit` streams, oldest first (an admin helper, used by the CLI)."""

    @abstractmethod
    def get_stats(self) -> StoreStats:
        """Event counts by type and by tenant, the stream count and the head position."""

    @abstractmethod
    def initialize(self) -> None:
        """Create the schema if it is missing (idempotent)."""

    @abstractmethod
    def close(self) -> None:
        """Release what the store owns. Safe to call twice.

        Afterwards every method raises `StoreUnavailableError`: a closed store is not
        reopened (make a new one).
        """

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


class EventStore(ABC):
    """The asyncio twin of `SyncEventStore`: same methods, awaited."""

    @abstractmethod
    async def append_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str,
        events: Sequence[DomainEvent],
        expected_version: int,
    ) -> AppendResult:
        """Append `events` atomically if the stream is at `expected_version`."""

    @abstractmethod
    async def get_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str | None = None,
        from_version: int = 0,
        from_timestamp: datetime | None = None,
        to_timestamp: datetime | None = None,
    ) -> EventStream:
        """The aggregate's events in version order (`from_version` exclusive)."""

    @abstractmethod
    async def get_events_by_type(
        self,
        aggregate_type: str,
        tenant_id: UUID | None = None,
        from_timestamp: datetime | float | None = None,
    ) -> list[DomainEvent]:
        """Every event of this aggregate type, by `occurred_at` then log order."""

    @abstractmethod
    async def event_exists(self, event_id: UUID) -> bool:
        """Whether an event with this id is stored."""

    @abstractmethod
    async def get_stream_version(self, aggregate_id: UUID, aggregate_type: str) -> int:
        """The stream's current version; 0 when it does not exist."""

    @abstractmethod
    def read_stream(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> AsyncIterator[StoredEvent]:
        """Stream the events of `"<aggregate_id>:<aggregate_type>"` (or every type of a bare id)."""

    @abstractmethod
    def read_all(self, options: ReadOptions | None = None) -> AsyncIterator[StoredEvent]:
        """Stream the global log; resume with `ReadOptions(from_position=last_seen)`."""

    @abstractmethod
    async def get_global_position(self) -> int:
        """The global position of the last event of the log (0 when empty)."""

    @abstractmethod
    async def list_streams(self, limit: int = 100) -> list[StreamInfo]:
        """The first `limit` streams, oldest first (an admin helper, used by the CLI)."""

    @abstractmethod
    async def get_stats(self) -> StoreStats:
        """Event counts by type and by tenant, the stream count and the head position."""

    @abstractmethod
    async def initialize(self) -> None:
        """Create the schema if it is missing (idempotent)."""

    @abstractmethod
    async def close(self) -> None:
        """Release what the store owns. Safe to call twice.

        Afterwards every method raises `StoreUnavailableError`: a closed store is not
        reopened (make a new one).
        """

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()
