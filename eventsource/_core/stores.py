"""The store bases: the public methods of every store, once for sync and once for async.

A store is an `Operations` (its dialect's queries and the registry), an executor (runs one
query on the backend: a connection, a file, the in-memory tables) and a tracer.
`SyncStoreBase` and `AsyncStoreBase` turn each public call into an operation and drive it,
and close the store; a backend supplies the executor, the schema and `_release`.

Closed stores: `close()` marks the store closed, swaps its executor for one that refuses
every query (so an open store pays nothing for the check) and calls the backend's
`_release()`. After that every method raises `StoreUnavailableError`; `close()` again does
nothing. A closed store is not reopened: make a new one.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from uuid import UUID

from ..errors import StoreUnavailableError
from ..events import DomainEvent
from ..interface import EventStore, SyncEventStore
from ..types import AppendResult, EventStream, ReadOptions, StoredEvent, StoreStats, StreamInfo
from . import driver
from .operations import Operations, Query
from .records import Row
from .tracing import Tracer

__all__ = ["AsyncStoreBase", "SyncStoreBase", "closed_error"]


def closed_error(store: object) -> StoreUnavailableError:
    """What every call on a closed store raises."""
    return StoreUnavailableError(
        f"this {type(store).__name__} is closed; a closed store is not reopened: make a new one"
    )


class SyncStoreBase(SyncEventStore):
    """A synchronous store: operations driven on the backend's executor.

    A backend sets `_ops` and `_tracer`, implements `_execute` and, when it owns anything
    (a pool, connections), `_release`. It does not override `close`.
    """

    _ops: Operations
    _tracer: Tracer
    _closed = False

    @abstractmethod
    def _execute(self, query: Query) -> list[Row]:
        """Run one query and return its rows, raising eventsource errors."""

    def _release(self) -> None:
        """Free what the store owns (called once, by the first `close()`)."""

    def close(self) -> None:
        """Release what the store owns; every later call raises StoreUnavailableError."""
        if self._closed:
            return
        self._closed = True
        self._execute = self._refuse  # type: ignore[method-assign]  # the closed state
        self._release()

    def _refuse(self, query: Query) -> list[Row]:
        raise closed_error(self)

    def append_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str,
        events: Sequence[DomainEvent],
        expected_version: int,
    ) -> AppendResult:
        op = self._ops.append_events(aggregate_id, aggregate_type, events, expected_version)
        with self._tracer.span("append_events", aggregate_id, aggregate_type, len(events)):
            return driver.run(op, self._execute)

    def get_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str | None = None,
        from_version: int = 0,
        from_timestamp: datetime | None = None,
        to_timestamp: datetime | None = None,
    ) -> EventStream:
        op = self._ops.get_events(
            aggregate_id, aggregate_type, from_version, from_timestamp, to_timestamp
        )
        with self._tracer.span("get_events", aggregate_id, aggregate_type):
            return driver.run(op, self._execute)

    def get_events_by_type(
        self,
        aggregate_type: str,
        tenant_id: UUID | None = None,
        from_timestamp: datetime | float | None = None,
    ) -> list[DomainEvent]:
        op = self._ops.get_events_by_type(aggregate_type, tenant_id, from_timestamp)
        with self._tracer.span("get_events_by_type", aggregate_type=aggregate_type):
            return driver.run(op, self._execute)

    def event_exists(self, event_id: UUID) -> bool:
        op = self._ops.event_exists(event_id)
        with self._tracer.span("event_exists"):
            return driver.run(op, self._execute)

    def get_stream_version(self, aggregate_id: UUID, aggregate_type: str) -> int:
        op = self._ops.get_stream_version(aggregate_id, aggregate_type)
        with self._tracer.span("get_stream_version", aggregate_id, aggregate_type):
            return driver.run(op, self._execute)

    def get_global_position(self) -> int:
        op = self._ops.get_global_position()
        with self._tracer.span("get_global_position"):
            return driver.run(op, self._execute)

    def read_stream(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> Iterator[StoredEvent]:
        op = self._ops.read_stream(stream_id, options)
        for page in driver.pages(op, self._traced("read_stream")):
            yield from page

    def read_all(self, options: ReadOptions | None = None) -> Iterator[StoredEvent]:
        op = self._ops.read_all(options)
        for page in driver.pages(op, self._traced("read_all")):
            yield from page

    def initialize(self) -> None:
        with self._tracer.span("initialize"):
            driver.run(self._ops.initialize(), self._execute)

    def list_streams(self, limit: int = 100) -> list[StreamInfo]:
        with self._tracer.span("list_streams"):
            return driver.run(self._ops.list_streams(limit), self._execute)

    def get_stats(self) -> StoreStats:
        with self._tracer.span("get_stats"):
            return driver.run(self._ops.get_stats(), self._execute)

    def _traced(self, operation: str) -> driver.Execute:
        def execute(query: Query) -> list[Row]:
            with self._tracer.span(operation):
                return self._execute(query)

        return execute


class AsyncStoreBase(EventStore):
    """The asyncio twin of `SyncStoreBase`: `_execute` and `_release` are awaitable."""

    _ops: Operations
    _tracer: Tracer
    _closed = False

    @abstractmethod
    async def _execute(self, query: Query) -> list[Row]:
        """Run one query and return its rows, raising eventsource errors."""

    async def _release(self) -> None:
        """Free what the store owns (called once, by the first `close()`)."""

    async def close(self) -> None:
        """Release what the store owns; every later call raises StoreUnavailableError."""
        if self._closed:
            return
        self._closed = True
        self._execute = self._refuse  # type: ignore[method-assign]  # the closed state
        await self._release()

    async def _refuse(self, query: Query) -> list[Row]:
        raise closed_error(self)

    async def append_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str,
        events: Sequence[DomainEvent],
        expected_version: int,
    ) -> AppendResult:
        op = self._ops.append_events(aggregate_id, aggregate_type, events, expected_version)
        with self._tracer.span("append_events", aggregate_id, aggregate_type, len(events)):
            return await driver.run_async(op, self._execute)

    async def get_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str | None = None,
        from_version: int = 0,
        from_timestamp: datetime | None = None,
        to_timestamp: datetime | None = None,
    ) -> EventStream:
        op = self._ops.get_events(
            aggregate_id, aggregate_type, from_version, from_timestamp, to_timestamp
        )
        with self._tracer.span("get_events", aggregate_id, aggregate_type):
            return await driver.run_async(op, self._execute)

    async def get_events_by_type(
        self,
        aggregate_type: str,
        tenant_id: UUID | None = None,
        from_timestamp: datetime | float | None = None,
    ) -> list[DomainEvent]:
        op = self._ops.get_events_by_type(aggregate_type, tenant_id, from_timestamp)
        with self._tracer.span("get_events_by_type", aggregate_type=aggregate_type):
            return await driver.run_async(op, self._execute)

    async def event_exists(self, event_id: UUID) -> bool:
        op = self._ops.event_exists(event_id)
        with self._tracer.span("event_exists"):
            return await driver.run_async(op, self._execute)

    async def get_stream_version(self, aggregate_id: UUID, aggregate_type: str) -> int:
        op = self._ops.get_stream_version(aggregate_id, aggregate_type)
        with self._tracer.span("get_stream_version", aggregate_id, aggregate_type):
            return await driver.run_async(op, self._execute)

    async def get_global_position(self) -> int:
        op = self._ops.get_global_position()
        with self._tracer.span("get_global_position"):
            return await driver.run_async(op, self._execute)

    async def read_stream(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> AsyncIterator[StoredEvent]:
        op = self._ops.read_stream(stream_id, options)
        async for page in driver.pages_async(op, self._traced("read_stream")):
            for event in page:
                yield event

    async def read_all(self, options: ReadOptions | None = None) -> AsyncIterator[StoredEvent]:
        op = self._ops.read_all(options)
        async for page in driver.pages_async(op, self._traced("read_all")):
            for event in page:
                yield event

    async def initialize(self) -> None:
        with self._tracer.span("initialize"):
            await driver.run_async(self._ops.initialize(), self._execute)

    async def list_streams(self, limit: int = 100) -> list[StreamInfo]:
        with self._tracer.span("list_streams"):
            return await driver.run_async(self._ops.list_streams(limit), self._execute)

    async def get_stats(self) -> StoreStats:
        with self._tracer.span("get_stats"):
            return await driver.run_async(self._ops.get_stats(), self._execute)

    def _traced(self, operation: str) -> driver.ExecuteAsync:
        async def execute(query: Query) -> list[Row]:
            with self._tracer.span(operation):
                return await self._execute(query)

        return execute
