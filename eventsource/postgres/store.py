"""PostgreSQL stores on psycopg 3 pools: `SyncPostgreSQLEventStore` and `PostgreSQLEventStore`.

Both run the same operations (`_operations.py`) with the same queries (`_sql.py`); only the
executor differs. Each query runs in autocommit on a connection borrowed from the pool for
that query alone, so an append is one statement, one transaction, one round trip, and no
connection is held while a reader's caller works on a page.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any, ClassVar, Self

import attrs
import psycopg
import psycopg_pool
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import tuple_row

from .._core import driver
from .._core.operations import Op, Operations, Query
from .._core.records import Row
from .._core.stores import AsyncSQLEventStore, SyncSQLEventStore
from .._core.tracing import Tracer
from .._core.translate import translate_psycopg
from ..events import EventRegistry, default_registry
from .queries import PostgresQueries

__all__ = ["LogHorizon", "PostgreSQLEventStore", "SyncPostgreSQLEventStore"]

_ERRORS = (psycopg.Error, psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed)


_CURSOR = "_eventsource_cursor"
_KEPT_RESULT_ROWS = 100


def _cursor(conn: Any) -> Any:
    """The cursor the store queries `conn` with: made once per connection and kept on it.

    A new cursor per query would build its adapters and dumpers anew every time.
    A cursor that fetched more than `_KEPT_RESULT_ROWS` rows is closed after, so an idle
    pooled connection never holds a large result. Rows are tuples whatever the pool's
    row factory.
    """
    cursor = getattr(conn, _CURSOR, None)
    if cursor is None or cursor.closed:
        cursor = conn.cursor(row_factory=tuple_row)
        setattr(conn, _CURSOR, cursor)
    return cursor


class _StaleConnection(Exception):
    """A query failed because its pooled connection had been closed by the server."""

    def __init__(self, error: psycopg.OperationalError) -> None:
        self.error = error


@attrs.frozen
class LogHorizon:
    """How far `read_all` lags behind what is committed, and why.

    `read_all` reads only below the oldest transaction still running anywhere in the cluster
    (it might yet commit events before newer ones). A long transaction, in any database of
    the cluster, therefore delays the log: it never loses events, but readers wait.
    """

    held_back: int
    """Committed events that `read_all` does not return yet."""
    blocking_pid: int | None
    """The server process of the oldest running transaction, when it can be seen."""
    blocking_age: timedelta | None
    """How long that transaction has been running."""
    blocking_database: str | None

    @classmethod
    def from_rows(cls, rows: list[Row]) -> LogHorizon:
        held_back, pid, age, database = rows[0]
        return cls(held_back, pid, age, database)


def _log_horizon(ops: Operations) -> Op[LogHorizon]:
    rows = yield ops.queries.log_horizon()  # type: ignore[attr-defined]
    return LogHorizon.from_rows(rows)


def _pool_kwargs(url: str, pool_kwargs: dict[str, Any]) -> dict[str, Any]:
    try:
        conninfo_to_dict(url)  # a malformed URL fails here, before any pool exists
    except psycopg.ProgrammingError as exc:
        # psycopg's message quotes the URL, password included: keep it in the cause only.
        raise ValueError("malformed PostgreSQL URL (or conninfo string)") from exc
    kwargs = dict(pool_kwargs)
    kwargs["kwargs"] = {"autocommit": True, **kwargs.get("kwargs", {})}
    kwargs.setdefault("timeout", 10.0)
    return kwargs


class _PostgreSQLStore:
    """What both PostgreSQL stores share: the constructor and `from_url`."""

    _pool_class: ClassVar[type[Any]]
    _pool_opens_at_once: ClassVar[bool]

    def __init__(
        self,
        pool: Any,
        *,
        event_registry: EventRegistry | None = None,
        outbox_enabled: bool = False,
        enable_tracing: bool = True,
    ) -> None:
        if not isinstance(pool, self._pool_class):
            name = self._pool_class.__name__
            raise TypeError(f"pool must be a psycopg_pool.{name}, got {pool!r}")
        self._pool = pool
        self._owns_pool = False
        self._opened = self._pool_opens_at_once
        registry = default_registry if event_registry is None else event_registry
        queries = PostgresQueries(outbox_enabled=outbox_enabled)
        self._ops = Operations(queries, registry)
        self._tracer = Tracer(enabled=enable_tracing, db_system="postgresql")

    @classmethod
    def from_url(
        cls,
        url: str,
        *,
        event_registry: EventRegistry | None = None,
        outbox_enabled: bool = False,
        enable_tracing: bool = True,
        **pool_kwargs: Any,
    ) -> Self:
        """A store with its own pool on `url` (a `postgresql://` URL or a conninfo string)."""
        options = _pool_kwargs(url, pool_kwargs)
        pool = cls._pool_class(url, open=cls._pool_opens_at_once, **options)
        store = cls(
            pool,
            event_registry=event_registry,
            outbox_enabled=outbox_enabled,
            enable_tracing=enable_tracing,
        )
        store._owns_pool = True
        return store


class SyncPostgreSQLEventStore(_PostgreSQLStore, SyncSQLEventStore):
    """The PostgreSQL event store on a `psycopg_pool.ConnectionPool`.

    A store given a pool never closes it; `from_url` makes a pool the store owns and closes.
    """

    _pool_class = psycopg_pool.ConnectionPool
    _pool_opens_at_once = True
    _pool: psycopg_pool.ConnectionPool[Any]

    @property
    def pool(self) -> psycopg_pool.ConnectionPool[Any]:
        return self._pool

    def _execute(self, query: Query) -> list[Row]:
        try:
            try:
                return self._execute_once(query)
            except _StaleConnection:
                # The server closed pooled connections (a restart, a terminated backend):
                # weed them out and run the query once more. Safe for every query: reads
                # repeat, and a repeated append is recognised by its event ids.
                self._pool.check()
                return self._execute_once(query)
        except _StaleConnection as stale:
            raise translate_psycopg(stale.error) from stale.error
        except _ERRORS as exc:
            raise translate_psycopg(exc) from exc

    def _execute_once(self, query: Query) -> list[Row]:
        # getconn/putconn rather than `pool.connection()`: the same, minus a context
        # manager and a commit call per query.
        conn = self._pool.getconn()
        try:
            autocommit = conn.autocommit
            if not autocommit:
                conn.autocommit = True
            try:
                if query.params is None:  # a script: no parameters, no rows
                    conn.execute(query.sql)
                    return []
                cursor = _cursor(conn)
                cursor.execute(query.sql, query.params, prepare=True)
                rows: list[Row] = cursor.fetchall()
                if len(rows) > _KEPT_RESULT_ROWS:
                    cursor.close()
                return rows
            finally:
                if not autocommit and not conn.broken:
                    conn.autocommit = False
        except psycopg.OperationalError as exc:
            if conn.broken:
                raise _StaleConnection(exc) from exc
            raise
        finally:
            self._pool.putconn(conn)

    def log_horizon(self) -> LogHorizon:
        """How far `read_all` lags behind commits, and the transaction holding it back."""
        with self._tracer.span("log_horizon"):
            return driver.run(_log_horizon(self._ops), self._execute)

    def close(self) -> None:
        if self._owns_pool:
            self._pool.close()


class PostgreSQLEventStore(_PostgreSQLStore, AsyncSQLEventStore):
    """The asyncio PostgreSQL event store on a `psycopg_pool.AsyncConnectionPool`.

    `from_url` returns at once; its pool opens on first use (or on `async with`).
    """

    _pool_class = psycopg_pool.AsyncConnectionPool
    _pool_opens_at_once = False
    _pool: psycopg_pool.AsyncConnectionPool[Any]

    @property
    def pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        return self._pool

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def open(self) -> None:
        """Open an owned pool now rather than on first use."""
        if self._owns_pool and not self._opened:
            await self._pool.open()
        self._opened = True

    async def _execute(self, query: Query) -> list[Row]:
        try:
            if not self._opened:
                await self.open()
            try:
                return await self._execute_once(query)
            except _StaleConnection:  # see SyncPostgreSQLEventStore._execute
                await self._pool.check()
                return await self._execute_once(query)
        except _StaleConnection as stale:
            raise translate_psycopg(stale.error) from stale.error
        except _ERRORS as exc:
            raise translate_psycopg(exc) from exc

    async def _execute_once(self, query: Query) -> list[Row]:
        conn = await self._pool.getconn()  # see SyncPostgreSQLEventStore._execute_once
        try:
            autocommit = conn.autocommit
            if not autocommit:
                await conn.set_autocommit(True)
            try:
                if query.params is None:  # a script: no parameters, no rows
                    await conn.execute(query.sql)
                    return []
                cursor = _cursor(conn)
                await cursor.execute(query.sql, query.params, prepare=True)
                rows: list[Row] = await cursor.fetchall()
                if len(rows) > _KEPT_RESULT_ROWS:
                    await cursor.close()
                return rows
            finally:
                if not autocommit and not conn.broken:
                    await conn.set_autocommit(False)
        except psycopg.OperationalError as exc:
            if conn.broken:
                raise _StaleConnection(exc) from exc
            raise
        finally:
            await self._pool.putconn(conn)

    async def log_horizon(self) -> LogHorizon:
        """How far `read_all` lags behind commits, and the transaction holding it back."""
        with self._tracer.span("log_horizon"):
            return await driver.run_async(_log_horizon(self._ops), self._execute)

    async def close(self) -> None:
        if self._owns_pool:
            self._opened = True  # a closed pool stays closed
            await self._pool.close()
