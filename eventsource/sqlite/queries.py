"""SQLite query builders: the queries of `operations.Queries` for the embedded store.

Storage: UUIDs and timestamps are TEXT. A timestamp is ISO 8601 in UTC with a fixed width
(`2024-03-01T12:00:00.000000+00:00`), so comparing two texts compares the instants and
sorting them sorts by time. Writers take turns (`BEGIN IMMEDIATE`), so `id` order is commit
order: the global log is ordered by `id` alone, no transaction id is needed.

Every statement is literal SQL with parameters; the readers only choose among literal
fragments (filters, sort direction), as `postgres/queries.py` does with `psycopg.sql`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from importlib import resources
from typing import Any
from uuid import UUID, uuid4

from .._core.common_sql import JSON_COLUMNS, OUTBOX_DOCUMENT, CommonQueries
from .._core.operations import Query, StreamSelection
from .._core.paging import PagePlan
from .._core.records import ROW_COLUMNS, Row
from .._core.rules import AppendRequest
from ..errors import SerializationError

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1

SCHEMA = resources.files("eventsource.sqlite").joinpath("schema.sql").read_text(encoding="utf-8")
"""The SQLite schema script (`eventsource init --print --url sqlite:///...` shows it)."""


def schema_sql() -> str:
    """The packaged SQLite `schema.sql` (what `initialize()` runs on a new file)."""
    return SCHEMA


_SCHEMA_PRESENT = (
    "SELECT count(*) = 2 FROM sqlite_master"
    " WHERE type = 'table' AND name IN ('events', 'event_outbox')"
)

_COLUMNS = ", ".join(f'"{name}"' if name == "timestamp" else name for name in ROW_COLUMNS)
"""The read row's columns (`records.ROW_COLUMNS`)."""

# Now, in the fixed-width UTC form (SQLite's clock has millisecond precision). Within one
# statement 'now' does not move, so a batch shares its stored_at, as in PostgreSQL.
_NOW = "strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now')"

# The append, in the write transaction: insert the batch unless one of its ids is stored or
# the version check fails (both decided under the write lock, so no writer can interleave);
# then the outbox rows, only if the events were inserted; then the status row(s).
_INSERT_EVENTS = f"""\
INSERT INTO events (event_id, event_type, event_version, aggregate_type, aggregate_id,
                    tenant_id, actor_id, version, "timestamp", payload, metadata,
                    correlation_id, causation_id, created_at)
SELECT json_extract(b.value, '$.event_id'), json_extract(b.value, '$.event_type'),
       json_extract(b.value, '$.event_version'), :aggregate_type, :aggregate_id,
       json_extract(b.value, '$.tenant_id'), json_extract(b.value, '$.actor_id'),
       stream.version + b.key + 1, json_extract(b.value, '$.occurred_at'),
       json_extract(b.value, '$.payload'), json_extract(b.value, '$.metadata'),
       json_extract(b.value, '$.correlation_id'), json_extract(b.value, '$.causation_id'),
       {_NOW}
FROM json_each(:batch) AS b,
     (SELECT coalesce(max(version), 0) AS version FROM events
      WHERE aggregate_id = :aggregate_id AND aggregate_type = :aggregate_type) AS stream
WHERE NOT EXISTS (SELECT 1 FROM events WHERE event_id IN
                  (SELECT json_extract(value, '$.event_id') FROM json_each(:batch)))
  AND (:expected = -1
       OR (:expected = -2 AND stream.version > 0)
       OR stream.version = :expected)
ORDER BY b.key"""

# The outbox document's members (common_sql.OUTBOX_DOCUMENT), JSON columns as JSON.
_OUTBOX_DOCUMENT = ", ".join(
    f"'{key}', " + (f'json(e."{column}")' if column in JSON_COLUMNS else f'e."{column}"')
    for key, column in OUTBOX_DOCUMENT
)

# changes() is the row count of the last completed INSERT: the batch's size if the events
# were inserted (all or none), else 0.
_INSERT_OUTBOX = f"""\
INSERT INTO event_outbox (id, event_id, event_type, aggregate_id, aggregate_type, tenant_id,
                          event_data, created_at, status)
SELECT json_extract(b.value, '$.outbox_id'), e.event_id, e.event_type, e.aggregate_id,
       e.aggregate_type, e.tenant_id, json_object({_OUTBOX_DOCUMENT}), e.created_at, 'pending'
FROM json_each(:batch) AS b JOIN events AS e ON e.event_id = json_extract(b.value, '$.event_id')
WHERE changes() > 0
ORDER BY b.key"""

# The outbox insert (when enabled) inserts as many rows as the events insert, so changes()
# still tells whether the batch was written.
_APPEND_STATUS = """\
SELECT id, version FROM events
WHERE changes() > 0
  AND event_id IN (SELECT json_extract(value, '$.event_id') FROM json_each(:batch))"""

_STREAM_VERSION = (
    "SELECT coalesce(max(version), 0) FROM events"
    " WHERE aggregate_id = :aggregate_id AND aggregate_type = :aggregate_type"
)

# A read page's conditions (see `paging.PagePlan`). After (before, backward) the event
# at global position :after; nothing when no event has that position, which has no place in
# the log order (as in PostgreSQL).
_CONDITIONS = {
    "aggregate_id": "aggregate_id = :aggregate_id",
    "aggregate_type": "aggregate_type = :aggregate_type",
    "version_after": "version > :cursor",
    "version_before": "version < :cursor",
    "after": "id > (SELECT id FROM events WHERE id = :after)",
    "before": "id < (SELECT id FROM events WHERE id = :after)",
    "tenant": "tenant_id = :tenant_id",
    "from_timestamp": '"timestamp" >= :from_timestamp',
    "to_timestamp": '"timestamp" <= :to_timestamp',
}

_ORDER = {
    ("log", True): "id ASC",
    ("log", False): "id DESC",
    ("version", True): "version ASC",
    ("version", False): "version DESC",
}

# Columns stored as TEXT that rows hand back as Python values, so a SQLite row looks like a
# PostgreSQL row (tenant_id stays text there too).
_UUID_COLUMNS = frozenset({"event_id", "aggregate_id", "correlation_id", "causation_id"})
_TIME_COLUMNS = frozenset({"timestamp", "created_at"})


def utc_text(moment: datetime) -> str:
    """`moment` as stored: fixed-width ISO 8601 in UTC, so text order is time order."""
    try:
        return moment.astimezone(UTC).isoformat(timespec="microseconds")
    except OverflowError:
        raise SerializationError(
            f"{moment.isoformat()} is outside the years 1 to 9999 in UTC, which SQLite stores"
        ) from None


def _bound(moment: datetime) -> str:
    """A filter's instant as stored text; beyond the storable years, beyond every value."""
    try:
        return utc_text(moment)
    except SerializationError:
        return "0" if moment.year == 1 else "A"  # before "0001-..." / after "9999-..."


def _int(value: int) -> int:
    """A caller's int within SQLite's INTEGER range (no position or version is beyond it)."""
    return max(_INT64_MIN, min(value, _INT64_MAX))


def _text(value: UUID | None) -> str | None:
    return None if value is None else str(value)


# A page's parameters as SQLite stores them (the others go as they are).
_STORED: dict[str, Callable[[Any], Any]] = {
    "aggregate_id": str,
    "cursor": _int,
    "after": _int,
    "from_timestamp": _bound,
    "to_timestamp": _bound,
}


def _page(plan: PagePlan) -> Query:
    conditions, params, order, forward = plan
    where = " AND ".join(_CONDITIONS[name] for name in conditions) or "true"
    statement = (
        f"SELECT {_COLUMNS} FROM events WHERE {where} ORDER BY {_ORDER[order, forward]} LIMIT :size"
    )
    stored = {name: _STORED.get(name, _same)(value) for name, value in params.items()}
    return Query(statement, stored)


def _same(value: Any) -> Any:
    return value


def decode_rows(names: Sequence[str], rows: list[Row]) -> list[Row]:
    """Rows with their UUID and timestamp columns (known by name) as Python values."""
    converters = [
        UUID if name in _UUID_COLUMNS else datetime.fromisoformat if name in _TIME_COLUMNS else None
        for name in names
    ]
    if not any(converters):
        return rows
    return [
        tuple(
            value if convert is None or value is None else convert(value)
            for convert, value in zip(converters, row, strict=True)
        )
        for row in rows
    ]


class SQLiteQueries(CommonQueries):
    """The queries of `operations.Queries` for SQLite."""

    def __init__(self, *, outbox_enabled: bool = False) -> None:
        self.outbox_enabled = outbox_enabled

    # -- writing ---------------------------------------------------------------------------

    def append(self, request: AppendRequest) -> Query:
        batch = json.dumps(
            [
                {
                    "event_id": str(e.event_id),
                    "event_type": e.event_type,
                    "event_version": e.event_version,
                    "tenant_id": _text(e.tenant_id),
                    "actor_id": e.actor_id,
                    "occurred_at": utc_text(e.occurred_at),
                    "correlation_id": str(e.correlation_id),
                    "causation_id": _text(e.causation_id),
                    "payload": e.payload,
                    "metadata": e.metadata,
                    "outbox_id": str(uuid4()),
                }
                for e in request.events
            ],
            ensure_ascii=False,
            separators=(",", ":"),
        )
        params = {
            "aggregate_id": str(request.aggregate_id),
            "aggregate_type": request.aggregate_type,
            "expected": _int(request.expected_version),
            "batch": batch,
        }
        before = [(_INSERT_EVENTS, params)]
        if self.outbox_enabled:
            before.append((_INSERT_OUTBOX, params))
        return Query(_APPEND_STATUS, params, before=tuple(before), write=True)

    def append_status(self, request: AppendRequest) -> Query:
        statement = (
            "SELECT s.version, e.event_id, e.aggregate_id, e.aggregate_type, e.version, e.id"
            " FROM (SELECT coalesce(max(version), 0) AS version FROM events"
            "       WHERE aggregate_id = ? AND aggregate_type = ?) s"
            " LEFT JOIN events e ON e.event_id IN (SELECT value FROM json_each(?))"
        )
        ids = json.dumps([str(event_id) for event_id in request.event_ids])
        return Query(statement, (str(request.aggregate_id), request.aggregate_type, ids))

    def schema(self) -> Query:
        # One transaction: concurrent initializations take turns, none sees half a schema.
        return Query("BEGIN IMMEDIATE;\n" + SCHEMA + "COMMIT;\n", None)

    def schema_present(self) -> Query:
        """One row: whether the tables exist (checked once per store, on first use)."""
        return Query(_SCHEMA_PRESENT)

    # -- point reads -----------------------------------------------------------------------

    def event_exists(self, event_id: UUID) -> Query:
        return Query("SELECT 1 FROM events WHERE event_id = ?", (str(event_id),))

    def stream_version(self, aggregate_id: UUID, aggregate_type: str) -> Query:
        params = {"aggregate_id": str(aggregate_id), "aggregate_type": aggregate_type}
        return Query(_STREAM_VERSION, params)

    def global_position(self) -> Query:
        return Query("SELECT id FROM events ORDER BY id DESC LIMIT 1")

    def list_streams(self, limit: int) -> Query:
        return Query(
            "SELECT aggregate_id, aggregate_type, max(version), max(id) FROM events"
            " GROUP BY aggregate_id, aggregate_type ORDER BY min(id) LIMIT ?",
            (_int(limit),),
        )

    # -- reads -----------------------------------------------------------------------------

    def stream_events(self, selection: StreamSelection) -> Query:
        aggregate_id, aggregate_type, from_version, lower, upper = selection
        params: dict[str, Any] = {
            "aggregate_id": str(aggregate_id),
            "aggregate_type": aggregate_type,
            "from_version": _int(from_version),
        }
        since = until = ""
        if lower is not None:
            since = ' AND "timestamp" >= :lower'
            params["lower"] = _bound(lower)
        if upper is not None:
            until = ' AND "timestamp" <= :upper'
            params["upper"] = _bound(upper)
        if aggregate_type is None:
            statement = (
                f"SELECT 0, {_COLUMNS} FROM events WHERE aggregate_id = :aggregate_id"
                f" AND version > :from_version{since}{until} ORDER BY id"
            )
        else:
            # The stream's version as of `upper`, whatever the lower bounds: one row of it
            # (and NULLs) even when no event is selected.
            statement = (
                f"SELECT s.stream_version, {_COLUMNS} FROM"
                " (SELECT coalesce(max(version), 0) AS stream_version FROM events"
                "  WHERE aggregate_id = :aggregate_id AND aggregate_type = :aggregate_type"
                f"{until}) AS s"
                " LEFT JOIN events ON aggregate_id = :aggregate_id"
                " AND aggregate_type = :aggregate_type AND version > :from_version"
                f"{since}{until} ORDER BY version"
            )
        return Query(statement, params)

    def events_by_type(
        self, aggregate_type: str, tenant_id: UUID | None, since: datetime | None
    ) -> Query:
        conditions = ["aggregate_type = :aggregate_type"]
        params: dict[str, Any] = {"aggregate_type": aggregate_type}
        if tenant_id is not None:
            conditions.append("tenant_id = :tenant_id")
            params["tenant_id"] = str(tenant_id)
        if since is not None:
            conditions.append('"timestamp" > :since')
            params["since"] = _bound(since)
        where = " AND ".join(conditions)
        return Query(
            f'SELECT {_COLUMNS} FROM events WHERE {where} ORDER BY "timestamp", id', params
        )

    def read_stream_page(self, plan: PagePlan) -> Query:
        return _page(plan)

    def read_all_page(self, plan: PagePlan) -> Query:
        return _page(plan)
