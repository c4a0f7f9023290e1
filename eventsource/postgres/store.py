"""PostgreSQL stores on psycopg 3 pools: `SyncPostgreSQLEventStore` and `PostgreSQLEventStore`.

Both run the same operations (`_core/operations.py`) with the same queries (`queries.py`);
only the executor differs. Each query runs in autocommit on a connection borrowed from the
pool for that query alone, so an append is one statement, one transaction, one round trip,
and no connection is held while a reader's caller works on a page.

Life cycle: a store given a pool never opens or closes it; `from_url` makes a pool the store
owns, opens it (the async store: on first use) and closes it on `close()`. `open(wait=True)`
returns once the server accepts a connection and fails at once when it refuses one for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import math
import time
import warnings
import weakref
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
from .._core.stores import AsyncStoreBase, SyncStoreBase, closed_error
from .._core.tracing import Tracer
from .._core.translate import (
    PSYCOPG_ERRORS,
    StaleConnection,
    is_stale,
    not_accepting,
    refused,
    translate_psycopg,
)
from ..errors import StoreUnavailableError
from ..events import EventRegistry, default_registry
from .queries import PostgresQueries

__all__ = ["LogHorizon", "PostgreSQLEventStore", "SyncPostgreSQLEventStore"]

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


_RETRY_DELAYS = (0.05, 0.1, 0.2, 0.5, 1.0)
"""Seconds between connection attempts while `open(wait=True)` waits for the server."""


def _retry_delay(exc: psycopg.Error, attempt: int, deadline: float, seconds: float) -> float:
    """How long to sleep before connecting again; raises when waiting cannot help."""
    refusal = refused(exc)
    if refusal is not None:
        raise refusal from exc
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise not_accepting(exc, seconds) from exc
    return min(_RETRY_DELAYS[min(attempt, len(_RETRY_DELAYS) - 1)], remaining)


def _probe_kwargs(kwargs: dict[str, Any] | None, deadline: float) -> dict[str, Any]:
    """The pool's connection arguments, waiting at most until `deadline` to connect."""
    seconds = max(1, math.ceil(deadline - time.monotonic()))
    return {**(kwargs or {}), "connect_timeout": seconds}


class _PostgreSQLStore:
    """What both PostgreSQL stores share: the constructor, `from_url` and the open checks."""

    _pool_class: ClassVar[type[Any]]
    _pool_opens_at_once: ClassVar[bool]
    _closed: bool

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
        self._opened = True  # a given pool is its owner's to open
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
        store._opened = cls._pool_opens_at_once
        store._close_if_left_open()
        return store

    def _close_if_left_open(self) -> None:
        """Arrange for an owned pool to be closed if the store never is (see the stores)."""

    def _check_openable(self) -> None:
        if self._closed:
            raise closed_error(self)
        if not self._owns_pool and self._pool.closed:
            raise StoreUnavailableError(
                f"the pool given to this store ({self._pool.name!r}) is not open: open it "
                "first (`with pool:` or `pool.open()`); a store never opens or closes a pool "
                "it was given"
            )


def _close_left_open(pool: psycopg_pool.ConnectionPool[Any], store: str) -> None:
    """Close the pool of a store nobody closed (at exit, or when the store is collected):
    psycopg_pool's own finalizer runs too late at exit and waits for its threads."""
    warnings.warn(
        f"{store} on pool {pool.name!r} was not closed: its pool was closed when the store "
        "was collected or the interpreter exited; use `with store:` or `store.close()`",
        ResourceWarning,
        stacklevel=1,
    )
    pool.close()


class SyncPostgreSQLEventStore(_PostgreSQLStore, SyncStoreBase):
    """The PostgreSQL event store on a `psycopg_pool.ConnectionPool`.

    A store given a pool never opens or closes it. `from_url` makes a pool the store owns:
    it opens at once (connecting in the background) and closes with the store. One left
    open is closed when it is collected or the interpreter exits, with a `ResourceWarning`.
    """

    _pool_class = psycopg_pool.ConnectionPool
    _pool_opens_at_once = True
    _pool: psycopg_pool.ConnectionPool[Any]
    _finalizer: weakref.finalize[Any, Any] | None = None

    def _close_if_left_open(self) -> None:
        self._finalizer = weakref.finalize(self, _close_left_open, self._pool, type(self).__name__)

    @property
    def pool(self) -> psycopg_pool.ConnectionPool[Any]:
        return self._pool

    def __enter__(self) -> Self:
        self.open()
        return self

    def open(self, wait: bool = False, timeout: float = 30.0) -> None:
        """Open an owned pool that is not open yet (psycopg_pool's signature).

        With `wait`, return once the server accepts a connection: a server that refuses one
        for good (a database or role that does not exist, a failed password) fails at once
        with `EventSourceError`; one that stays unreachable for `timeout` seconds, with
        `StoreUnavailableError`.
        """
        self._check_openable()
        if not self._opened:
            self._pool.open()
            self._opened = True
        if wait:
            self._wait_for_server(timeout)

    def _wait_for_server(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        pool = self._pool
        conninfo = pool.conninfo() if callable(pool.conninfo) else pool.conninfo
        kwargs = pool.kwargs() if callable(pool.kwargs) else pool.kwargs
        for attempt in itertools.count():
            try:
                pool.connection_class.connect(conninfo, **_probe_kwargs(kwargs, deadline)).close()
                return
            except psycopg.Error as exc:
                time.sleep(_retry_delay(exc, attempt, deadline, seconds))

    def _execute(self, query: Query) -> list[Row]:
        try:
            try:
                return self._execute_once(query)
            except StaleConnection:
                # The server closed pooled connections (a restart, a terminated backend):
                # weed them out and run the query once more (`translate.is_stale`).
                self._pool.check()
                return self._execute_once(query)
        except StaleConnection as stale:
            raise translate_psycopg(stale.error) from stale.error
        except PSYCOPG_ERRORS as exc:
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
            if is_stale(exc, conn):
                raise StaleConnection(exc) from exc
            raise
        finally:
            self._pool.putconn(conn)

    def log_horizon(self) -> LogHorizon:
        """How far `read_all` lags behind commits, and the transaction holding it back."""
        with self._tracer.span("log_horizon"):
            return driver.run(_log_horizon(self._ops), self._execute)

    def _release(self) -> None:
        if self._finalizer is not None:
            self._finalizer.detach()
        if self._owns_pool:
            self._pool.close()


class PostgreSQLEventStore(_PostgreSQLStore, AsyncStoreBase):
    """The asyncio PostgreSQL event store on a `psycopg_pool.AsyncConnectionPool`.

    A store given a pool never opens or closes it. `from_url` returns at once and makes a
    pool the store owns: it opens on first use (or on `open()`, `async with`), on that
    event loop, and closes with the store. Close the store (`async with`, or `await
    store.close()`) before its event loop ends. One left open is closed when its loop shuts
    down (the pool's tasks would otherwise keep `asyncio.run()` from returning), with a
    `ResourceWarning`.
    """

    _pool_class = psycopg_pool.AsyncConnectionPool
    _pool_opens_at_once = False
    _pool: psycopg_pool.AsyncConnectionPool[Any]
    _closer: asyncio.Task[None] | None = None

    @property
    def pool(self) -> psycopg_pool.AsyncConnectionPool[Any]:
        return self._pool

    async def __aenter__(self) -> Self:
        await self.open()
        return self

    async def open(self, wait: bool = False, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        """Open an owned pool that is not open yet (psycopg_pool's signature), on the running
        event loop.

        With `wait`, return once the server accepts a connection: a server that refuses one
        for good (a database or role that does not exist, a failed password) fails at once
        with `EventSourceError`; one that stays unreachable for `timeout` seconds, with
        `StoreUnavailableError`.
        """
        self._check_openable()
        if not self._opened:
            await self._pool.open()
            self._opened = True
            if self._closer is None:
                self._closer = asyncio.get_running_loop().create_task(
                    self._close_with_loop(), name=f"eventsource: close {self._pool.name}"
                )
        if wait:
            await self._wait_for_server(timeout)

    async def _close_with_loop(self) -> None:
        """Wait for the event loop's shutdown (which cancels every task), and close the store
        then if nobody did."""
        try:
            await asyncio.get_running_loop().create_future()
        except asyncio.CancelledError:
            if self._closer is not None:  # cancelled by the loop's shutdown, not by close()
                self._closer = None
                # The pool's tasks are being cancelled too: its close() stops them, then
                # reports their cancellation; its idle connections are dropped with it.
                with contextlib.suppress(asyncio.CancelledError):
                    await self.close()
                warnings.warn(
                    f"{type(self).__name__} on pool {self._pool.name!r} was not closed: it "
                    "was closed when its event loop shut down; use `async with store:` or "
                    "`await store.close()`",
                    ResourceWarning,
                    stacklevel=1,
                )
            raise

    async def _wait_for_server(self, seconds: float) -> None:
        deadline = time.monotonic() + seconds
        pool = self._pool
        conninfo = pool.conninfo() if callable(pool.conninfo) else pool.conninfo
        kwargs = pool.kwargs() if callable(pool.kwargs) else pool.kwargs
        conninfo = await conninfo if inspect.isawaitable(conninfo) else conninfo
        kwargs = await kwargs if inspect.isawaitable(kwargs) else kwargs
        for attempt in itertools.count():
            try:
                conn = await pool.connection_class.connect(
                    conninfo, **_probe_kwargs(kwargs, deadline)
                )
                await conn.close()
                return
            except psycopg.Error as exc:
                await asyncio.sleep(_retry_delay(exc, attempt, deadline, seconds))

    async def _execute(self, query: Query) -> list[Row]:
        try:
            if not self._opened:
                await self.open()
            try:
                return await self._execute_once(query)
            except StaleConnection:  # see SyncPostgreSQLEventStore._execute
                await self._pool.check()
                return await self._execute_once(query)
        except StaleConnection as stale:
            raise translate_psycopg(stale.error) from stale.error
        except PSYCOPG_ERRORS as exc:
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
            if is_stale(exc, conn):
                raise StaleConnection(exc) from exc
            raise
        finally:
            await self._pool.putconn(conn)

    async def log_horizon(self) -> LogHorizon:
        """How far `read_all` lags behind commits, and the transaction holding it back."""
        with self._tracer.span("log_horizon"):
            return await driver.run_async(_log_horizon(self._ops), self._execute)

    async def _release(self) -> None:
        closer, self._closer = self._closer, None
        if closer is not None:
            closer.cancel()
        if self._owns_pool:
            await self._pool.close()
