"""Each store operation written once, as a generator that yields queries and receives rows.

The operations know nothing of connections: a sync or an async driver (`driver.py`) runs
them, and a dialect makes their queries (`postgres/queries.py`, `sqlite/queries.py`,
`memory/queries.py`). Arguments are checked eagerly, before the generator exists, so bad input
raises at the call and nothing is sent to the database.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Generator, Sequence
from datetime import datetime
from typing import Any, Generic, NamedTuple, Protocol, TypeVar
from uuid import UUID

from ..errors import StoreUnavailableError
from ..events import DomainEvent, EventRegistry
from ..types import (
    AppendResult,
    EventStream,
    ExpectedVersion,
    ReadOptions,
    StoredEvent,
    StoreStats,
    StreamInfo,
)
from . import paging, rules
from .paging import PagePlan
from .records import Row, decode_event, decode_stored
from .translate import Conflict
from .validation import check_aggregate_type, check_int, check_optional_uuid, check_uuid

T = TypeVar("T")
E = TypeVar("E")

PAGE_SIZE = 500
"""Rows per page of `read_stream` / `read_all`: memory stays flat, round trips stay few."""

MAX_APPEND_ATTEMPTS = 100
"""An append that keeps colliding with racing writers gives up after this many attempts."""


class Query(NamedTuple):
    """One statement for a driver to run, with its parameters.

    `before` holds statements a driver runs first in the same transaction (SQLite only;
    PostgreSQL appends are always a single statement). `write` asks for a write transaction.
    """

    sql: Any
    params: Sequence[Any] | dict[str, Any] | None = ()
    before: tuple[tuple[Any, Sequence[Any] | dict[str, Any]], ...] = ()
    write: bool = False


class Page(NamedTuple, Generic[E]):
    """A page of a read (its rows decoded), handed to the caller while no connection is held."""

    events: list[E]


Op = Generator[Query, list[Row], T]
ReadOp = Generator[Query | Page[E], list[Row] | None, None]


class StreamSelection(NamedTuple):
    """The events `get_events` selects: a stream (every stream of the id when the type is
    None), after `from_version`, with `occurred_at` within `lower`..`upper` (inclusive)."""

    aggregate_id: UUID
    aggregate_type: str | None
    from_version: int
    lower: datetime | None
    upper: datetime | None


class Queries(Protocol):
    """What a dialect builds. Read rows have the columns of `records.ROW_COLUMNS`."""

    def append(self, request: rules.AppendRequest) -> Query:
        """Insert the batch if the expected version holds: rows `(position, version)` of the
        inserted events, none when the check failed. A racing writer or an already stored
        id may also make it raise a `Conflict`."""

    def append_status(self, request: rules.AppendRequest) -> Query:
        """Why an append inserted nothing. Rows `(stream_version, *ExistingEvent)`, one per
        stored id of the batch, or one with NULL ExistingEvent columns when none is."""

    def event_exists(self, event_id: UUID) -> Query:
        """Any row when the event is stored."""

    def stream_version(self, aggregate_id: UUID, aggregate_type: str) -> Query:
        """One row: the stream's version (0 when missing)."""

    def stream_events(self, selection: StreamSelection) -> Query:
        """Rows `(version_as_of_upper, *ROW)` in log order; one row of NULLs but the first
        when no event is selected (the version needs the stream's type)."""

    def events_by_type(
        self, aggregate_type: str, tenant_id: UUID | None, since: datetime | None
    ) -> Query:
        """Rows ordered by occurred_at, then log order."""

    def read_stream_page(self, plan: PagePlan) -> Query:
        """The page of a stream (or of every stream of an id) that `plan` selects."""

    def read_all_page(self, plan: PagePlan) -> Query:
        """The page of the global log that `plan` selects."""

    def global_position(self) -> Query:
        """One row or none: the global position of the last event of the log."""

    def schema(self) -> Query:
        """Create the tables and indexes if missing (idempotent)."""

    def list_streams(self, limit: int) -> Query:
        """Rows `(aggregate_id, aggregate_type, version, last_position)`, oldest first."""

    def count_by_type(self) -> Query:
        """Rows `(event_type, count)`."""

    def count_by_tenant(self) -> Query:
        """Rows `(tenant_id, count)`, the tenant as text; NULL for events without one."""

    def count_streams(self) -> Query:
        """One row: the number of streams."""


class Operations:
    """The store operations over one dialect's queries and one event registry."""

    def __init__(self, queries: Queries, registry: EventRegistry) -> None:
        self.queries = queries
        self.registry = registry

    def append_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str,
        events: Sequence[DomainEvent],
        expected_version: int,
    ) -> Op[AppendResult]:
        request = rules.prepare_append(
            aggregate_id, aggregate_type, events, expected_version, self.registry
        )
        return self._append(request)

    def _append(self, request: rules.AppendRequest) -> Op[AppendResult]:
        # Every attempt is a new statement, so a new transaction: a retried append gets a
        # new transaction id and its events stay after the winner's in the global log.
        # The happy path is the one statement. Only when it inserted nothing does a second
        # one tell why: stored ids (a retried batch succeeds, a duplicate fails), else the
        # version (OptimisticLockError), else a race to run again.
        for _ in range(MAX_APPEND_ATTEMPTS):
            try:
                rows = yield self.queries.append(request)
            except Conflict as conflict:
                if request.expected_version == ExpectedVersion.ANY and not conflict.on_event_id:
                    continue  # a racing writer took the version: go again
                rows = []
            if rows:
                # The last event's row: the one with the highest position.
                last = rows[0] if len(rows) == 1 else max(rows, key=_first)
                position, version = last[0], last[1]
                return AppendResult.successful(version, position)
            status = yield self.queries.append_status(request)
            existing = [rules.ExistingEvent(*row[1:]) for row in status if row[1] is not None]
            retried = rules.idempotent_result(request, existing)
            if retried is not None:
                return retried
            actual = status[0][0]
            rules.check_version(*request[:3], actual)
            if not request.events:
                return AppendResult.successful(actual)
        raise StoreUnavailableError(
            f"append to {rules.stream_id(*request[:2])} kept colliding with other writers "
            f"({MAX_APPEND_ATTEMPTS} attempts); retry later"
        )

    def event_exists(self, event_id: UUID) -> Op[bool]:
        query = self.queries.event_exists(check_uuid(event_id, "event_id"))
        return _map(query, bool)

    def get_stream_version(self, aggregate_id: UUID, aggregate_type: str) -> Op[int]:
        query = self.queries.stream_version(
            check_uuid(aggregate_id, "aggregate_id"), check_aggregate_type(aggregate_type)
        )
        return _map(query, lambda rows: rows[0][0] if rows else 0)

    def initialize(self) -> Op[None]:
        return _map(self.queries.schema(), lambda rows: None)

    def list_streams(self, limit: int = 100) -> Op[list[StreamInfo]]:
        if check_int(limit, "limit") < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        rows = yield self.queries.list_streams(limit)
        return [
            StreamInfo(
                stream_id=rules.stream_id(aggregate_id, aggregate_type),
                version=version,
                last_position=position,
            )
            for aggregate_id, aggregate_type, version, position in rows
        ]

    def get_stats(self) -> Op[StoreStats]:
        by_type = yield self.queries.count_by_type()
        by_tenant = yield self.queries.count_by_tenant()
        streams = yield self.queries.count_streams()
        head = yield self.queries.global_position()
        return StoreStats(
            events_by_type={row[0]: row[1] for row in by_type},
            events_by_tenant={row[0]: row[1] for row in by_tenant},
            stream_count=streams[0][0],
            head_position=head[0][0] if head else 0,
        )

    def get_global_position(self) -> Op[int]:
        return _map(self.queries.global_position(), lambda rows: rows[0][0] if rows else 0)

    def get_events(
        self,
        aggregate_id: UUID,
        aggregate_type: str | None = None,
        from_version: int = 0,
        from_timestamp: datetime | None = None,
        to_timestamp: datetime | None = None,
    ) -> Op[EventStream]:
        check_uuid(aggregate_id, "aggregate_id")
        if aggregate_type is not None:
            check_aggregate_type(aggregate_type)
        check_int(from_version, "from_version")
        lower, upper = rules.check_time_range(from_timestamp, to_timestamp)
        query = self.queries.stream_events(
            StreamSelection(aggregate_id, aggregate_type, from_version, lower, upper)
        )

        def stream(rows: list[Row]) -> EventStream:
            events = [decode_event(row[1:], self.registry) for row in rows if row[1] is not None]
            if aggregate_type is None:
                version = max((event.aggregate_version for event in events), default=0)
            else:
                version = rows[0][0] if rows else 0
            return EventStream(
                aggregate_id=aggregate_id,
                aggregate_type=aggregate_type,
                events=events,
                version=version,
            )

        return _map(query, stream)

    def get_events_by_type(
        self,
        aggregate_type: str,
        tenant_id: UUID | None = None,
        from_timestamp: datetime | float | None = None,
    ) -> Op[list[DomainEvent]]:
        query = self.queries.events_by_type(
            check_aggregate_type(aggregate_type),
            check_optional_uuid(tenant_id, "tenant_id"),
            rules.check_since(from_timestamp),
        )
        return _map(query, lambda rows: [decode_event(row, self.registry) for row in rows])

    def read_stream(
        self, stream_id: str, options: ReadOptions | None = None
    ) -> ReadOp[StoredEvent]:
        return self.read_stream_as(self._stored, stream_id, options)

    def read_stream_as(
        self, decode: Callable[[Row], E], stream_id: str, options: ReadOptions | None = None
    ) -> ReadOp[E]:
        """`read_stream`, each row made into `decode(row)` (the CLI reads rows untyped)."""
        aggregate_id, aggregate_type = rules.parse_stream_id(stream_id)
        options = rules.check_read_options(options)
        return self._pages(
            lambda last, size: self.queries.read_stream_page(
                paging.stream_page(aggregate_id, aggregate_type, options, last, size)
            ),
            options,
            decode,
        )

    def read_all(self, options: ReadOptions | None = None) -> ReadOp[StoredEvent]:
        return self.read_all_as(self._stored, options)

    def read_all_as(
        self, decode: Callable[[Row], E], options: ReadOptions | None = None
    ) -> ReadOp[E]:
        """`read_all`, each row made into `decode(row)`."""
        options = rules.check_read_options(options)
        return self._pages(
            lambda last, size: self.queries.read_all_page(paging.log_page(options, last, size)),
            options,
            decode,
        )

    def _stored(self, row: Row) -> StoredEvent:
        return decode_stored(row, self.registry)

    def _pages(
        self,
        page_query: Callable[[Row | None, int], Query],
        options: ReadOptions,
        decode: Callable[[Row], E],
    ) -> ReadOp[E]:
        remaining = options.limit
        last: Row | None = None
        while remaining is None or remaining > 0:
            size = PAGE_SIZE if remaining is None else min(PAGE_SIZE, remaining)
            rows = yield page_query(last, size)
            assert rows is not None
            if rows:
                yield Page([decode(row) for row in rows])
            if len(rows) < size:
                return
            last = rows[-1]
            if remaining is not None:
                remaining -= len(rows)


_first = operator.itemgetter(0)


def _map(query: Query, interpret: Callable[[list[Row]], T]) -> Op[T]:
    rows = yield query
    return interpret(rows)
