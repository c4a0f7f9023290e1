"""PostgreSQL query builders, named after what they select. Built with `psycopg.sql` once.

The global log is ordered by `(transaction_id, id)`, where `transaction_id` is the writing
transaction's `pg_current_xact_id()`. `read_all` only reads below
`pg_snapshot_xmin(pg_current_snapshot())`: every transaction below that horizon has ended,
so no event can still appear before a position a reader has passed. Ids alone cannot do
this: a BIGSERIAL id is taken when a row is inserted, not when it commits.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any, LiteralString
from uuid import UUID

import orjson
from psycopg import sql

from .._core.common_sql import OUTBOX_DOCUMENT, CommonQueries
from .._core.operations import Query, StreamSelection
from .._core.paging import PagePlan
from .._core.records import ROW_COLUMNS
from .._core.rules import AppendRequest
from ..types import ExpectedVersion

Composable = sql.Composable


_AS_TEXT = frozenset({"payload", "metadata"})
"""JSONB columns read as text: orjson parses them faster than psycopg's json.loads would."""


def _columns(prefix: str | None = None) -> Composable:
    def column(name: str) -> Composable:
        identifier = sql.Identifier(prefix, name) if prefix else sql.Identifier(name)
        return sql.SQL("{}::text").format(identifier) if name in _AS_TEXT else identifier

    return sql.SQL(", ").join(column(name) for name in ROW_COLUMNS)


def _stream_version(
    events: sql.Identifier, *, named: bool = False, until: Composable | None = None
) -> Composable:
    """The stream's version (0 when it has no event), read off the top of its index.

    Not `max(version)`: whenever the planner misjudges a stream (no statistics yet, a table
    just truncated) that reads every index entry of the stream instead of the top one.
    """
    aggregate_id, aggregate_type = (
        (sql.Placeholder("aggregate_id"), sql.Placeholder("aggregate_type"))
        if named
        else (sql.Placeholder(), sql.Placeholder())
    )
    return sql.SQL(
        "coalesce((SELECT version FROM {events} WHERE aggregate_id = {aggregate_id}"
        " AND aggregate_type = {aggregate_type}{until} ORDER BY version DESC LIMIT 1), 0)"
    ).format(
        events=events,
        aggregate_id=aggregate_id,
        aggregate_type=aggregate_type,
        until=until or sql.SQL(""),
    )


_NO_STREAM, _EXACT, _ANY, _STREAM_EXISTS = "no stream", "exact", "any", "stream exists"

_MAX_VERSION = 2**31 - 1  # the version column is an INTEGER

_SCHEMA_LOCK = "SELECT pg_advisory_xact_lock(8291173046552);\n"


def schema_sql() -> str:
    """The packaged `schema.sql`."""
    return (
        resources.files("eventsource.postgres").joinpath("schema.sql").read_text(encoding="utf-8")
    )


_ORDER = {"log": ("transaction_id", "id"), "version": ("version",)}


class PostgresQueries(CommonQueries):
    """The queries of `operations.Queries` for PostgreSQL."""

    def __init__(self, *, outbox_enabled: bool = False) -> None:
        self.events = sql.Identifier("events")
        self.outbox = sql.Identifier("event_outbox")
        self.outbox_enabled = outbox_enabled
        self._appends = self._append_statements()
        self._stream_version = (
            sql.SQL("SELECT {}").format(_stream_version(self.events)).as_string(None)
        )
        # By single event: `event_id = ANY(...)` is planned as a bitmap scan, which never
        # marks the index entries of failed attempts dead, so a retried event's lookup kept
        # visiting them under contention.
        self._append_status = {
            single: sql.SQL(
                "SELECT s.version, e.event_id, e.aggregate_id, e.aggregate_type, e.version, e.id"
                " FROM (SELECT {version} AS version) s"
                " LEFT JOIN {events} e ON e.event_id = {ids}"
            )
            .format(
                version=_stream_version(self.events),
                events=self.events,
                ids=sql.SQL("%s" if single else "ANY(%s)"),
            )
            .as_string(None)
            for single in (False, True)
        }

    # -- writing ---------------------------------------------------------------------------

    def _append_statements(self) -> dict[tuple[str, bool], str]:
        """The append statements, by (kind of expected version, single event)."""
        outbox = sql.SQL(
            """,
outbox AS (
    INSERT INTO {outbox} (id, event_id, event_type, aggregate_id, aggregate_type, tenant_id,
                          event_data, created_at, status)
    SELECT gen_random_uuid(), i.event_id, i.event_type, i.aggregate_id, i.aggregate_type,
           i.tenant_id, jsonb_build_object({document}), i.created_at, 'pending'
    FROM inserted i
)"""
        ).format(
            outbox=self.outbox,
            document=sql.SQL(", ").join(
                sql.SQL("{}, {}").format(sql.Literal(key), sql.Identifier("i", column))
                for key, column in OUTBOX_DOCUMENT
            ),
        )
        # The events get versions expected + 1, ...; the unique constraints catch a racing
        # writer or a stored id. Every kind but NO_STREAM reads the stream's version in the
        # same statement (one backward index probe): an exact version must be the stream's
        # top one, so no gap opens, and a writer whose later version is already committed
        # makes the statement insert nothing rather than fail (the losers of a race leave
        # no failed insert to roll back, no dead index entries, no error). One statement per
        # kind of expectation and batch shape, so each keeps one generic plan.
        insert = sql.SQL(
            """INSERT INTO {events} (event_id, event_type, event_version, aggregate_type,
                      aggregate_id, tenant_id, actor_id, version, "timestamp", payload,
                      metadata, correlation_id, causation_id)
SELECT {values}
FROM {source}
WHERE {guard}{order}
RETURNING {returning}"""
        )
        # A batch travels as one JSON document, expanded by jsonb_to_recordset, ...
        batch_values = sql.SQL(
            """b.event_id, b.event_type, b.event_version, %(aggregate_type)s::text,
       %(aggregate_id)s::uuid, b.tenant_id, b.actor_id, {base} + b.n, b.occurred_at,
       b.payload, b.metadata, b.correlation_id, b.causation_id"""
        )
        batch = sql.SQL(
            """jsonb_to_recordset(%(batch)s::jsonb)
         AS b(n int, event_id uuid, event_type text, event_version int, tenant_id text,
              actor_id text, occurred_at timestamptz, correlation_id uuid, causation_id uuid,
              payload jsonb, metadata jsonb)"""
        )
        # ... a single event (the common case) as parameters: no document for the server
        # to expand.
        single_values = sql.SQL(
            """%(event_id)s::uuid, %(event_type)s::text, %(event_version)s::int,
       %(aggregate_type)s::text, %(aggregate_id)s::uuid, %(tenant_id)s::text,
       %(actor_id)s::text, {base} + 1, %(occurred_at)s::timestamptz, %(payload)s::jsonb,
       %(metadata)s::jsonb, %(correlation_id)s::uuid, %(causation_id)s::uuid"""
        )
        single = sql.SQL("(VALUES (1)) AS b(n)")
        stream_version = sql.SQL("(SELECT {} AS version) s").format(
            _stream_version(self.events, named=True)
        )
        given, read = sql.SQL("%(expected)s"), sql.SQL("s.version")
        variants = {  # kind: (base, reads the stream's version, guard)
            _NO_STREAM: (given, False, sql.SQL("true")),
            _EXACT: (given, True, sql.SQL("s.version = %(expected)s")),
            _ANY: (read, True, sql.SQL("true")),
            _STREAM_EXISTS: (read, True, sql.SQL("s.version > 0")),
        }
        shapes = {  # single event: (values, source, order)
            False: (batch_values, batch, sql.SQL("\nORDER BY b.n")),
            True: (single_values, single, sql.SQL("")),
        }
        returning = sql.SQL("*" if self.outbox_enabled else "id, version")
        statements = {}
        for kind, (base, reads_version, guard) in variants.items():
            for is_single, (values, source, order) in shapes.items():
                sources = sql.SQL("{},\n     {}").format(source, stream_version)
                statement = insert.format(
                    events=self.events,
                    values=values.format(base=base),
                    source=sources if reads_version else source,
                    guard=guard,
                    order=order,
                    returning=returning,
                )
                if self.outbox_enabled:
                    statement = sql.SQL(
                        "WITH inserted AS ({insert}){outbox}\nSELECT id, version FROM inserted"
                    ).format(insert=statement, outbox=outbox)
                statements[kind, is_single] = statement.as_string(None)
        return statements

    def append(self, request: AppendRequest) -> Query:
        expected = request.expected_version
        if expected > 0:
            kind = _EXACT
        elif expected == ExpectedVersion.NO_STREAM:
            kind = _NO_STREAM
        elif expected == ExpectedVersion.ANY:
            kind = _ANY
        else:
            kind = _STREAM_EXISTS
        params: dict[str, Any] = {
            "aggregate_id": request.aggregate_id,
            "aggregate_type": request.aggregate_type,
            "expected": expected,
        }
        # The single-event statement computes `expected + 1` as a constant while planning,
        # so an expected version beyond the INTEGER column would fail there: the batch
        # statement computes it per row and lets the version check answer.
        if len(request.events) == 1 and expected < _MAX_VERSION:
            (e,) = request.events
            params["event_id"] = e.event_id
            params["event_type"] = e.event_type
            params["event_version"] = e.event_version
            params["tenant_id"] = None if e.tenant_id is None else str(e.tenant_id)
            params["actor_id"] = e.actor_id
            params["occurred_at"] = e.occurred_at
            params["payload"] = e.payload
            params["metadata"] = e.metadata
            params["correlation_id"] = e.correlation_id
            params["causation_id"] = e.causation_id
            return Query(self._appends[kind, True], params)
        # The batch travels as one JSON document (the payloads spliced in as they are):
        # one parameter to send, one value for the server to parse.
        params["batch"] = orjson.dumps(
            [
                {
                    "n": n,
                    "event_id": e.event_id,
                    "event_type": e.event_type,
                    "event_version": e.event_version,
                    "tenant_id": e.tenant_id,
                    "actor_id": e.actor_id,
                    "occurred_at": e.occurred_at,  # orjson writes RFC 3339 (2x isoformat)
                    "correlation_id": e.correlation_id,
                    "causation_id": e.causation_id,
                    "payload": orjson.Fragment(e.payload),
                    "metadata": orjson.Fragment(e.metadata),
                }
                for n, e in enumerate(request.events, 1)
            ]
        ).decode()
        return Query(self._appends[kind, False], params)

    def append_status(self, request: AppendRequest) -> Query:
        ids = request.event_ids
        if len(ids) == 1:
            return Query(self._append_status[True], (*request[:2], ids[0]))
        return Query(self._append_status[False], (*request[:2], ids))

    def schema(self) -> Query:
        # One simple-protocol script, so one transaction; the advisory lock makes
        # concurrent initializations take turns instead of racing on the catalog.
        return Query(_SCHEMA_LOCK + schema_sql(), None)

    # -- point reads -----------------------------------------------------------------------

    def event_exists(self, event_id: UUID) -> Query:
        statement = self._statement("SELECT 1 FROM {events} WHERE event_id = %s")
        return Query(statement, (event_id,))

    def stream_version(self, aggregate_id: UUID, aggregate_type: str) -> Query:
        return Query(self._stream_version, (aggregate_id, aggregate_type))

    def global_position(self) -> Query:
        statement = self._statement(
            "SELECT id FROM {events} WHERE "
            + _CONDITIONS["horizon"]
            + " ORDER BY transaction_id DESC, id DESC LIMIT 1"
        )
        return Query(statement)

    def log_horizon(self) -> Query:
        """One row: events committed above the read horizon, and the transaction holding it."""
        statement = self._statement(
            """WITH horizon AS (SELECT pg_snapshot_xmin(pg_current_snapshot()) AS xmin)
SELECT (SELECT count(*) FROM {events}, horizon WHERE transaction_id >= horizon.xmin),
       a.pid, now() - a.xact_start, a.datname
FROM horizon LEFT JOIN pg_stat_activity a
  ON a.backend_xid::text = (horizon.xmin::text::numeric %% 4294967296)::text"""
        )
        return Query(statement)

    def list_streams(self, limit: int) -> Query:
        statement = self._statement(
            "SELECT aggregate_id, aggregate_type, max(version), max(id) FROM {events}"
            " GROUP BY aggregate_id, aggregate_type ORDER BY min(id) LIMIT %s"
        )
        return Query(statement, (limit,))

    # -- reads -----------------------------------------------------------------------------

    def stream_events(self, selection: StreamSelection) -> Query:
        aggregate_id, aggregate_type, from_version, lower, upper = selection
        params = {
            "aggregate_id": aggregate_id,
            "aggregate_type": aggregate_type,
            "from_version": from_version,
            "lower": lower,
            "upper": upper,
        }
        statement = self._stream_events(
            aggregate_type is None, lower is not None, upper is not None
        )
        return Query(statement, params)

    @cache  # noqa: B019  (one instance per store; the variants are few)
    def _stream_events(self, every_type: bool, has_lower: bool, has_upper: bool) -> str:
        until = sql.SQL(' AND "timestamp" <= %(upper)s') if has_upper else sql.SQL("")
        version = _stream_version(self.events, named=True, until=until)
        since = sql.SQL(' AND e."timestamp" >= %(lower)s') if has_lower else sql.SQL("")
        e_until = sql.SQL(' AND e."timestamp" <= %(upper)s') if has_upper else sql.SQL("")
        if every_type:
            return (
                sql.SQL(
                    "SELECT 0, {columns} FROM {events} e WHERE e.aggregate_id = %(aggregate_id)s"
                    " AND e.version > %(from_version)s{since}{until}"
                    " ORDER BY e.transaction_id, e.id"
                )
                .format(columns=_columns("e"), events=self.events, since=since, until=e_until)
                .as_string(None)
            )
        return (
            sql.SQL(
                "SELECT s.version, {columns} FROM (SELECT {version} AS version) s"
                " LEFT JOIN {events} e ON e.aggregate_id = %(aggregate_id)s"
                " AND e.aggregate_type = %(aggregate_type)s AND e.version > %(from_version)s"
                "{since}{e_until}"
                " ORDER BY e.version"
            )
            .format(
                columns=_columns("e"),
                events=self.events,
                version=version,
                since=since,
                e_until=e_until,
            )
            .as_string(None)
        )

    def events_by_type(
        self, aggregate_type: str, tenant_id: UUID | None, since: datetime | None
    ) -> Query:
        params = {
            "aggregate_type": aggregate_type,
            "tenant_id": None if tenant_id is None else str(tenant_id),
            "since": since,
        }
        return Query(self._events_by_type(tenant_id is not None, since is not None), params)

    @cache  # noqa: B019
    def _events_by_type(self, has_tenant: bool, has_since: bool) -> str:
        conditions = [sql.SQL("aggregate_type = %(aggregate_type)s")]
        if has_tenant:
            conditions.append(sql.SQL(_CONDITIONS["tenant"]))
        if has_since:
            conditions.append(sql.SQL('"timestamp" > %(since)s'))
        statement = sql.SQL(
            'SELECT {columns} FROM {events} WHERE {where} ORDER BY "timestamp", transaction_id, id'
        ).format(columns=_columns(), events=self.events, where=sql.SQL(" AND ").join(conditions))
        return statement.as_string(None)

    def read_stream_page(self, plan: PagePlan) -> Query:
        return self._page(plan)

    def read_all_page(self, plan: PagePlan) -> Query:
        return self._page(plan._replace(conditions=["horizon", *plan.conditions]))

    def _page(self, plan: PagePlan) -> Query:
        conditions, params, order, forward = plan
        return Query(self._page_statement(tuple(conditions), order, forward), params)

    @cache  # noqa: B019  (one instance per store; the variants are few)
    def _page_statement(self, conditions: tuple[str, ...], order: str, forward: bool) -> str:
        direction = sql.SQL("ASC" if forward else "DESC")
        statement = sql.SQL(
            "SELECT {columns} FROM {events} WHERE {where} ORDER BY {order} LIMIT %(size)s"
        ).format(
            columns=_columns(),
            events=self.events,
            where=sql.SQL(" AND ").join(
                sql.SQL(_CONDITIONS[name]).format(events=self.events) for name in conditions
            ),
            order=sql.SQL(", ").join(
                sql.SQL("{} {}").format(sql.Identifier(column), direction)
                for column in _ORDER[order]
            ),
        )
        return statement.as_string(None)

    @cache  # noqa: B019
    def _statement(self, template: LiteralString) -> str:
        """A fixed statement naming `{events}`, rendered once."""
        return sql.SQL(template).format(events=self.events).as_string(None)


# The conditions a page query can combine (no values: those are parameters).
_CONDITIONS: dict[str, LiteralString] = {
    "aggregate_id": "aggregate_id = %(aggregate_id)s",
    "aggregate_type": "aggregate_type = %(aggregate_type)s",
    "version_after": "version > %(cursor)s",
    "version_before": "version < %(cursor)s",
    "horizon": "transaction_id < pg_snapshot_xmin(pg_current_snapshot())",
    # After (before) the event at global position %(after)s, in log order.
    "after": "(transaction_id, id) > (SELECT transaction_id, id FROM {events}"
    " WHERE id = %(after)s)",
    "before": "(transaction_id, id) < (SELECT transaction_id, id FROM {events}"
    " WHERE id = %(after)s)",
    "tenant": "tenant_id = %(tenant_id)s",
    "from_timestamp": '"timestamp" >= %(from_timestamp)s',
    "to_timestamp": '"timestamp" <= %(to_timestamp)s',
}
