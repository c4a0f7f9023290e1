"""In-memory stores for tests and prototypes: `SyncInMemoryEventStore` and `InMemoryEventStore`.

Events are kept in their storage form and decoded on read, so the round trip is exactly the
one of the database backends. The async store runs the same code directly on the loop: every
operation only holds the lock for in-memory work and never waits on I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from .._core import rules
from .._core.async_adapter import PagedSyncStore, SyncBackedEventStore
from .._core.operations import PAGE_SIZE
from .._core.records import (
    AGGREGATE_ID,
    AGGREGATE_TYPE,
    EVENT_ID,
    OCCURRED_AT,
    POSITION,
    TENANT_ID,
    VERSION,
    Row,
    decode_event,
    decode_stored,
)
from .._core.validation import (
    check_aggregate_type,
    check_int,
    check_optional_uuid,
    check_uuid,
    utcnow,
)
from ..events import DomainEvent, EventRegistry, default_registry
from ..types import AppendResult, EventStream, ReadDirection, ReadOptions, StoredEvent

__all__ = ["InMemoryEventStore", "SyncInMemoryEventStore"]


def _matches(row: Row, options: ReadOptions) -> bool:
    if options.tenant_id is not None and row[TENANT_ID] != options.tenant_id:
        return False
    if options.from_timestamp is not None and row[OCCURRED_AT] < options.from_timestamp:
        return False
    return options.to_timestamp is None or row[OCCURRED_AT] <= options.to_timestamp


class SyncInMemoryEventStore(PagedSyncStore):
    """A thread-safe event store held in this process's memory."""

    def __init__(self, *, event_registry: EventRegistry | None = None) -> None:
        self._registry = default_registry if event_registry is None else event_registry
        self._lock = threading.Lock()
        self._rows: list[Row] = []  # global position p is self._rows[p - 1]
        self._streams: dict[tuple[UUID, str], list[Row]] = {}
        self._types: dict[UUID, list[str]] = {}
        self._by_id: dict[UUID, Row] = {}

    # -- writing ---------------------------------------------------------------------------

    def append_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str,
        events: Sequence[DomainEvent],
        expected_version: int,
    ) -> AppendResult:
        request = rules.prepare_append(
            aggregate_id, aggregate_type, events, expected_version, self._registry
        )
        key = (request.aggregate_id, request.aggregate_type)
        with self._lock:
            existing = [
                rules.ExistingEvent(
                    row[EVENT_ID],
                    row[AGGREGATE_ID],
                    row[AGGREGATE_TYPE],
                    row[VERSION],
                    row[POSITION],
                )
                for event_id in request.event_ids
                if (row := self._by_id.get(event_id)) is not None
            ]
            retried = rules.idempotent_result(request, existing)
            if retried is not None:
                return retried
            stream = self._streams.get(key, [])
            version = len(stream)
            rules.check_version(*key, request.expected_version, version)
            if not request.events:
                return AppendResult.successful(version)
            stored_at = utcnow()
            for event in request.events:
                version += 1
                row = event.row(len(self._rows) + 1, version, stored_at)
                self._rows.append(row)
                self._by_id[event.event_id] = row
                stream.append(row)
            if key not in self._streams:
                self._streams[key] = stream
                self._types.setdefault(key[0], []).append(key[1])
            return AppendResult.successful(version, len(self._rows))

    def initialize(self) -> None:
        """Nothing to create in memory."""

    def close(self) -> None:
        """Nothing to release in memory."""

    # -- test helpers ----------------------------------------------------------------------

    def clear(self) -> None:
        """Forget every event."""
        with self._lock:
            self._rows.clear()
            self._streams.clear()
            self._types.clear()
            self._by_id.clear()

    def get_all_events(self) -> list[DomainEvent]:
        """Every stored event, in global log order."""
        with self._lock:
            rows = list(self._rows)
        return [decode_event(row, self._registry) for row in rows]

    def get_event_count(self) -> int:
        return len(self._rows)

    # -- reading ---------------------------------------------------------------------------

    def get_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str | None = None,
        from_version: int = 0,
        from_timestamp: datetime | None = None,
        to_timestamp: datetime | None = None,
    ) -> EventStream:
        check_uuid(aggregate_id, "aggregate_id")
        if aggregate_type is not None:
            check_aggregate_type(aggregate_type)
        check_int(from_version, "from_version")
        lower, upper = rules.check_time_range(from_timestamp, to_timestamp)
        with self._lock:
            rows = self._rows_of(aggregate_id, aggregate_type)
        in_range = [row for row in rows if upper is None or row[OCCURRED_AT] <= upper]
        selected = [
            row
            for row in in_range
            if row[VERSION] > from_version and (lower is None or row[OCCURRED_AT] >= lower)
        ]
        if aggregate_type is None:
            version = max((row[VERSION] for row in selected), default=0)
        else:
            version = max((row[VERSION] for row in in_range), default=0)
        return EventStream(
            aggregate_id=aggregate_id,
            aggregate_type=aggregate_type,
            events=[decode_event(row, self._registry) for row in selected],
            version=version,
        )

    def get_events_by_type(
        self,
        aggregate_type: str,
        tenant_id: UUID | None = None,
        from_timestamp: datetime | float | None = None,
    ) -> list[DomainEvent]:
        check_aggregate_type(aggregate_type)
        check_optional_uuid(tenant_id, "tenant_id")
        since = rules.check_since(from_timestamp)
        with self._lock:
            rows = [
                row
                for row in self._rows
                if row[AGGREGATE_TYPE] == aggregate_type
                and (tenant_id is None or row[TENANT_ID] == tenant_id)
                and (since is None or row[OCCURRED_AT] > since)
            ]
        rows.sort(key=lambda row: row[OCCURRED_AT])  # stable: log order among equal times
        return [decode_event(row, self._registry) for row in rows]

    def event_exists(self, event_id: UUID) -> bool:
        return check_uuid(event_id, "event_id") in self._by_id

    def get_stream_version(self, aggregate_id: UUID, aggregate_type: str) -> int:
        key = (check_uuid(aggregate_id, "aggregate_id"), check_aggregate_type(aggregate_type))
        return len(self._streams.get(key, ()))

    def get_global_position(self) -> int:
        return len(self._rows)

    def read_stream_pages(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> Iterator[list[StoredEvent]]:
        aggregate_id, aggregate_type = rules.parse_stream_id(stream_id)
        options = rules.check_read_options(options)
        with self._lock:
            rows = self._rows_of(aggregate_id, aggregate_type)
        cursor = options.from_position
        if options.direction is ReadDirection.FORWARD:
            rows = [row for row in rows if row[VERSION] > cursor]
        else:
            rows = [row for row in reversed(rows) if cursor == 0 or row[VERSION] < cursor]
        return self._pages(iter(rows).__next__, options)

    def read_all_pages(self, options: ReadOptions | None = None) -> Iterator[list[StoredEvent]]:
        options = rules.check_read_options(options)
        forward = options.direction is ReadDirection.FORWARD
        # Positions are 1..N, so the cursor is an index; read it lazily, under the lock.
        next_index = options.from_position if forward else options.from_position - 2
        if not forward and options.from_position == 0:
            next_index = len(self._rows) - 1

        def next_row() -> Row:
            nonlocal next_index
            with self._lock:
                if not 0 <= next_index < len(self._rows):
                    raise StopIteration
                row = self._rows[next_index]
            next_index += 1 if forward else -1
            return row

        return self._pages(next_row, options)

    def _pages(
        self, next_row: Callable[[], Row], options: ReadOptions
    ) -> Iterator[list[StoredEvent]]:
        remaining = options.limit
        while remaining is None or remaining > 0:
            size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
            page: list[Any] = []
            try:
                while len(page) < size:
                    row = next_row()
                    if _matches(row, options):
                        page.append(row)
            except StopIteration:
                if page:
                    yield [decode_stored(row, self._registry) for row in page]
                return
            yield [decode_stored(row, self._registry) for row in page]
            if remaining is not None:
                remaining -= len(page)

    def _rows_of(self, aggregate_id: UUID, aggregate_type: str | None) -> list[Row]:
        """The rows of one stream, or of every stream of the id in log order (under the lock)."""
        if aggregate_type is not None:
            return list(self._streams.get((aggregate_id, aggregate_type), ()))
        streams = [self._streams[aggregate_id, t] for t in self._types.get(aggregate_id, ())]
        return sorted((row for stream in streams for row in stream), key=lambda r: r[POSITION])


class InMemoryEventStore(SyncBackedEventStore):
    """The asyncio in-memory store: `SyncInMemoryEventStore`'s code, awaited."""

    def __init__(self, *, event_registry: EventRegistry | None = None) -> None:
        super().__init__(SyncInMemoryEventStore(event_registry=event_registry))
        self._memory: SyncInMemoryEventStore = self._sync  # type: ignore[assignment]

    def clear(self) -> None:
        self._memory.clear()

    def get_all_events(self) -> list[DomainEvent]:
        return self._memory.get_all_events()

    def get_event_count(self) -> int:
        return self._memory.get_event_count()
