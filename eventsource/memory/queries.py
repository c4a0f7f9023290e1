"""In-memory queries: the queries of `operations.Queries` as Python functions over rows.

The data is a `Tables`: every row in log order (global position p is `rows[p - 1]`), each
stream's rows in version order (version v is `stream[v - 1]`), the types of each aggregate
id, and each row by event id. Rows are read rows (`records.ROW_COLUMNS`) with the tenant as
text, as the SQL backends return them. A query's statement is a function called as
`statement(tables, *params)`; the executor runs it under the store's lock, so each query is
atomic, and it returns rows of the shapes the SQL dialects return, so the operations
interpret them unchanged. Read pages follow the same `paging` plans the SQL dialects turn
into SQL: the plan's named conditions become index arithmetic and row filters.
"""

from __future__ import annotations

import heapq
import operator
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from itertools import islice
from typing import Any
from uuid import UUID

from .._core.operations import Query, StreamSelection
from .._core.paging import PagePlan
from .._core.records import (
    AGGREGATE_ID,
    AGGREGATE_TYPE,
    EVENT_ID,
    EVENT_TYPE,
    OCCURRED_AT,
    POSITION,
    ROW_COLUMNS,
    TENANT_ID,
    VERSION,
    Row,
)
from .._core.rules import AppendRequest, check_version
from .._core.validation import utcnow
from ..errors import OptimisticLockError

__all__ = ["MemoryQueries", "Tables"]


class Tables:
    """The in-memory store's data: the rows and their indexes."""

    __slots__ = ("by_id", "rows", "streams", "types")

    def __init__(self) -> None:
        self.rows: list[Row] = []
        self.streams: dict[tuple[UUID, str], list[Row]] = {}  # in order of creation
        self.types: dict[UUID, list[str]] = {}
        self.by_id: dict[UUID, Row] = {}


Filter = Callable[[Row], bool]

_position = operator.itemgetter(POSITION)
_NO_ROW = (None,) * len(ROW_COLUMNS)
_NO_ROWS: list[Row] = []
_EXISTING = (EVENT_ID, AGGREGATE_ID, AGGREGATE_TYPE, VERSION, POSITION)
"""The columns of `rules.ExistingEvent`, as `append_status` returns them."""

# The page conditions (see `paging.PagePlan`) that pick or bound the rows by index; every
# other condition is a filter on the row's column.
_INDEXED = frozenset(
    {"aggregate_id", "aggregate_type", "version_after", "version_before", "after", "before"}
)
_FILTERS: dict[str, tuple[int, str, Callable[[Any, Any], bool]]] = {
    "tenant": (TENANT_ID, "tenant_id", operator.eq),
    "from_timestamp": (OCCURRED_AT, "from_timestamp", operator.ge),
    "to_timestamp": (OCCURRED_AT, "to_timestamp", operator.le),
}


# -- writing -------------------------------------------------------------------------------


def _append(tables: Tables, request: AppendRequest) -> list[Row]:
    """Insert the batch if none of its ids is stored and the expected version holds."""
    by_id = tables.by_id
    for event in request.events:
        if event.event_id in by_id:
            return []
    key = (request.aggregate_id, request.aggregate_type)
    stream = tables.streams.get(key)
    version = 0 if stream is None else len(stream)
    try:
        check_version(*key, request.expected_version, version)
    except OptimisticLockError:
        return []
    if not request.events:
        return []
    if stream is None:
        stream = tables.streams[key] = []
        tables.types.setdefault(key[0], []).append(key[1])
    rows = tables.rows
    position = len(rows)
    stored_at = utcnow()
    inserted: list[Row] = []
    for event in request.events:
        position += 1
        version += 1
        row = event.row(position, version, stored_at)
        rows.append(row)
        stream.append(row)
        by_id[event.event_id] = row
        inserted.append((position, version))
    return inserted


def _append_status(tables: Tables, request: AppendRequest) -> list[Row]:
    version = len(tables.streams.get((request.aggregate_id, request.aggregate_type), _NO_ROWS))
    stored: list[Row] = [
        (version, *(row[column] for column in _EXISTING))
        for event_id in request.event_ids
        if (row := tables.by_id.get(event_id)) is not None
    ]
    return stored or [(version, None, None, None, None, None)]


def _clear(tables: Tables) -> list[Row]:
    tables.rows.clear()
    tables.streams.clear()
    tables.types.clear()
    tables.by_id.clear()
    return []


def _nothing(tables: Tables) -> list[Row]:
    return []


# -- point reads and statistics --------------------------------------------------------------


def _event_exists(tables: Tables, event_id: UUID) -> list[Row]:
    return [(1,)] if event_id in tables.by_id else []


def _stream_version(tables: Tables, aggregate_id: UUID, aggregate_type: str) -> list[Row]:
    return [(len(tables.streams.get((aggregate_id, aggregate_type), _NO_ROWS)),)]


def _global_position(tables: Tables) -> list[Row]:
    return [(len(tables.rows),)] if tables.rows else []


def _event_count(tables: Tables) -> list[Row]:
    return [(len(tables.rows),)]


def _all_rows(tables: Tables) -> list[Row]:
    return list(tables.rows)


def _list_streams(tables: Tables, limit: int) -> list[Row]:
    return [
        (aggregate_id, aggregate_type, len(stream), stream[-1][POSITION])
        for (aggregate_id, aggregate_type), stream in islice(tables.streams.items(), limit)
    ]


def _count_by(column: int) -> Callable[[Tables], list[Row]]:
    def count(tables: Tables) -> list[Row]:
        counts = Counter(row[column] for row in tables.rows)
        return sorted(counts.items(), key=lambda item: (item[0] is not None, item[0] or ""))

    return count


_count_by_type = _count_by(EVENT_TYPE)
_count_by_tenant = _count_by(TENANT_ID)  # no tenant (None) first, as NULLS FIRST


def _count_streams(tables: Tables) -> list[Row]:
    return [(len(tables.streams),)]


# -- reads -----------------------------------------------------------------------------------


def _streams_of(tables: Tables, aggregate_id: UUID) -> list[list[Row]]:
    """The rows of every stream of an aggregate id, one list per type."""
    return [tables.streams[aggregate_id, t] for t in tables.types.get(aggregate_id, ())]


def _in_log_order(runs: Sequence[Iterator[Row]], forward: bool = True) -> Iterator[Row]:
    """Runs of rows, each in log order (or each in reverse log order), merged into one."""
    if len(runs) == 1:
        return runs[0]
    return heapq.merge(*runs, key=_position, reverse=not forward)


def _stream_events(
    tables: Tables,
    aggregate_id: UUID,
    aggregate_type: str | None,
    from_version: int,
    lower: datetime | None,
    upper: datetime | None,
) -> list[Row]:
    start = max(from_version, 0)  # version v is stream[v - 1]
    if aggregate_type is None:
        runs = [iter(stream[start:]) for stream in _streams_of(tables, aggregate_id)]
        rows: Iterator[Row] = _in_log_order(runs)
        version = 0
    else:
        stream = tables.streams.get((aggregate_id, aggregate_type), _NO_ROWS)
        rows = iter(stream[start:])
        if upper is None:
            version = len(stream)
        else:  # the version as of `upper`, whatever the lower bounds
            version = max((row[VERSION] for row in stream if row[OCCURRED_AT] <= upper), default=0)
    if lower is not None:
        rows = (row for row in rows if row[OCCURRED_AT] >= lower)
    if upper is not None:
        rows = (row for row in rows if row[OCCURRED_AT] <= upper)
    selected: list[Row] = [(version, *row) for row in rows]
    if not selected and aggregate_type is not None:
        return [(version, *_NO_ROW)]
    return selected


def _events_by_type(
    tables: Tables, aggregate_type: str, tenant: str | None, since: datetime | None
) -> list[Row]:
    rows = [
        row
        for row in tables.rows
        if row[AGGREGATE_TYPE] == aggregate_type
        and (tenant is None or row[TENANT_ID] == tenant)
        and (since is None or row[OCCURRED_AT] > since)
    ]
    rows.sort(key=operator.itemgetter(OCCURRED_AT))  # stable: log order among equal times
    return rows


def _page(tables: Tables, plan: PagePlan, filters: list[Filter]) -> list[Row]:
    """The rows of a read page: the plan's index conditions bound runs of rows (a stream's,
    or the log), which are walked in the plan's direction, filtered and cut at its size."""
    conditions, params, _, forward = plan
    size: int = params["size"]
    after: int = params.get("after", 0)
    if ("after" in conditions or "before" in conditions) and not 0 < after <= len(tables.rows):
        return []  # no event has that position: it has no place in the log order (as in SQL)
    if "aggregate_id" not in conditions:  # the log: position p is rows[p - 1]
        lo, hi = 0, len(tables.rows)
        if "after" in conditions:
            lo = after
        if "before" in conditions:
            hi = after - 1
        runs = [(tables.rows, lo, hi)]
    else:
        if "aggregate_type" in conditions:
            key = (params["aggregate_id"], params["aggregate_type"])
            streams = [tables.streams.get(key, _NO_ROWS)]
        else:
            streams = _streams_of(tables, params["aggregate_id"])
        runs = [_stream_bounds(stream, conditions, params) for stream in streams]
    if len(runs) == 1 and not filters:
        rows, lo, hi = runs[0]
        if forward:
            return rows[lo : min(hi, lo + size)]
        page = rows[max(lo, hi - size) : hi]
        page.reverse()
        return page
    walks = [
        map(rows.__getitem__, range(lo, hi) if forward else range(hi - 1, lo - 1, -1))
        for rows, lo, hi in runs
    ]
    selected = _in_log_order(walks, forward)
    for keep in filters:
        selected = filter(keep, selected)
    return list(islice(selected, size))


def _stream_bounds(
    stream: list[Row], conditions: list[str], params: dict[str, Any]
) -> tuple[list[Row], int, int]:
    """The slice of a stream's rows a page's index conditions leave (version v is
    stream[v - 1]; positions grow along the stream)."""
    lo, hi = 0, len(stream)
    cursor: int = params["cursor"]
    if "version_after" in conditions:
        lo = max(lo, cursor)
    if "version_before" in conditions:
        hi = min(hi, cursor - 1)
    if "after" in conditions:
        lo = max(lo, bisect_right(stream, params["after"], key=_position))
    if "before" in conditions:
        hi = min(hi, bisect_left(stream, params["after"], key=_position))
    return stream, lo, hi


def _filters(plan: PagePlan) -> list[Filter]:
    """The plan's conditions that are not index bounds, as row predicates."""
    filters: list[Filter] = []
    for name in plan.conditions:
        if name not in _INDEXED:
            column, param, compare = _FILTERS[name]
            filters.append(_filter(column, compare, plan.params[param]))
    return filters


def _filter(column: int, compare: Callable[[Any, Any], bool], value: Any) -> Filter:
    return lambda row: compare(row[column], value)


class MemoryQueries:
    """The queries of `operations.Queries` for the in-memory store, plus its test helpers'."""

    # -- writing -------------------------------------------------------------------------------

    def append(self, request: AppendRequest) -> Query:
        return Query(_append, (request,))

    def append_status(self, request: AppendRequest) -> Query:
        return Query(_append_status, (request,))

    def schema(self) -> Query:
        return Query(_nothing)

    def clear(self) -> Query:
        """Forget every event."""
        return Query(_clear)

    # -- point reads and statistics ------------------------------------------------------------

    def event_exists(self, event_id: UUID) -> Query:
        return Query(_event_exists, (event_id,))

    def stream_version(self, aggregate_id: UUID, aggregate_type: str) -> Query:
        return Query(_stream_version, (aggregate_id, aggregate_type))

    def global_position(self) -> Query:
        return Query(_global_position)

    def list_streams(self, limit: int) -> Query:
        return Query(_list_streams, (limit,))

    def count_by_type(self) -> Query:
        return Query(_count_by_type)

    def count_by_tenant(self) -> Query:
        return Query(_count_by_tenant)

    def count_streams(self) -> Query:
        return Query(_count_streams)

    def event_count(self) -> Query:
        """One row: the number of stored events."""
        return Query(_event_count)

    def all_rows(self) -> Query:
        """Every row, in log order."""
        return Query(_all_rows)

    # -- reads ---------------------------------------------------------------------------------

    def stream_events(self, selection: StreamSelection) -> Query:
        return Query(_stream_events, selection)

    def events_by_type(
        self, aggregate_type: str, tenant_id: UUID | None, since: datetime | None
    ) -> Query:
        tenant = None if tenant_id is None else str(tenant_id)
        return Query(_events_by_type, (aggregate_type, tenant, since))

    def read_stream_page(self, plan: PagePlan) -> Query:
        return Query(_page, (plan, _filters(plan)))

    def read_all_page(self, plan: PagePlan) -> Query:
        return Query(_page, (plan, _filters(plan)))
