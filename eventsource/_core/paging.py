"""Which rows a read page selects, planned once for every dialect.

A `PagePlan` names its conditions; PostgreSQL and SQLite write them in their own SQL, the
in-memory dialect as index arithmetic and row filters. The keyset rules (cursors, direction,
the stream's version order or the log's order) therefore exist once.
"""

from __future__ import annotations

from typing import Any, NamedTuple
from uuid import UUID

from ..types import ReadDirection, ReadOptions
from .records import POSITION, VERSION, Row


class PagePlan(NamedTuple):
    """A read page before it is SQL: named conditions, their parameters (Python values),
    the order (`"version"` within a stream, `"log"` for the global log) and its direction.

    The conditions: `aggregate_id`, `aggregate_type`, `version_after` / `version_before`
    (`cursor`), `after` / `before` (the event at global position `after`, in log order),
    `tenant`, `from_timestamp`, `to_timestamp`.
    """

    conditions: list[str]
    params: dict[str, Any]
    order: str
    forward: bool


def stream_page(
    aggregate_id: UUID,
    aggregate_type: str | None,
    options: ReadOptions,
    last: Row | None,
    size: int,
) -> PagePlan:
    """The next page of a stream (or of every stream of an id) after the `last` row."""
    forward = options.direction is ReadDirection.FORWARD
    conditions = ["aggregate_id"]
    params: dict[str, Any] = {"aggregate_id": aggregate_id, "size": size}
    if aggregate_type is None:
        # Several streams: log order; the version cursor stays, the page cursor is the
        # last row's place in the log.
        cursor = options.from_position
        order = "log"
        if last is not None:
            conditions.append("after" if forward else "before")
            params["after"] = last[POSITION]
    else:
        conditions.append("aggregate_type")
        params["aggregate_type"] = aggregate_type
        cursor = options.from_position if last is None else last[VERSION]
        order = "version"
    if forward:
        conditions.append("version_after")
    elif cursor:
        conditions.append("version_before")
    params["cursor"] = cursor
    return _filtered(PagePlan(conditions, params, order, forward), options)


def log_page(options: ReadOptions, last: Row | None, size: int) -> PagePlan:
    """The next page of the global log after the `last` row (first page: the cursor)."""
    forward = options.direction is ReadDirection.FORWARD
    after = options.from_position if last is None else last[POSITION]
    conditions = [("after" if forward else "before")] if after else []
    plan = PagePlan(conditions, {"size": size, "after": after}, "log", forward)
    return _filtered(plan, options)


def _filtered(plan: PagePlan, options: ReadOptions) -> PagePlan:
    if options.tenant_id is not None:
        plan.conditions.append("tenant")
        plan.params["tenant_id"] = str(options.tenant_id)
    if options.from_timestamp is not None:
        plan.conditions.append("from_timestamp")
        plan.params["from_timestamp"] = options.from_timestamp
    if options.to_timestamp is not None:
        plan.conditions.append("to_timestamp")
        plan.params["to_timestamp"] = options.to_timestamp
    return plan
