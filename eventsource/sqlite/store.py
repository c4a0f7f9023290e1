"""The embedded SQLite stores: `SyncSQLiteEventStore` and `SQLiteEventStore`.

Both run the same operations (`_core/operations.py`) with the same queries (`queries.py`) on
the same executor (`_Database`); the async store runs it in a worker thread, so the event
loop never waits on the file. The database is in WAL mode: a read never waits for a writer
and each read statement sees one consistent snapshot, while writers take turns
(`BEGIN IMMEDIATE`, waiting up to `BUSY_TIMEOUT`), so threads and processes can share a file.
The schema is created on first use.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator

from .._core.operations import Operations, Query
from .._core.records import Row
from .._core.stores import AsyncStoreBase, SyncStoreBase
from .._core.tracing import Tracer
from .._core.translate import SQLITE_ERRORS, is_busy, missing_folder, translate_sqlite
from ..errors import StoreUnavailableError
from ..events import EventRegistry, default_registry
from .queries import SQLiteQueries, decode_rows

__all__ = ["SQLiteEventStore", "SyncSQLiteEventStore"]

BUSY_TIMEOUT = 30.0
"""Seconds a writer waits for another connection's write transaction before giving up."""

MAX_IDLE_CONNECTIONS = 8
"""Connections a store keeps open between calls; more are opened while threads need them."""

PathLike = str | os.PathLike[str]


class _Database:
    """Connections to one SQLite file, and the one place that runs a `Query` on them.

    A connection serves one call at a time and goes back to a small idle list, so threads
    never share one mid-call. `":memory:"` is a single connection the calls take turns on
    (each connection to `":memory:"` would be a database of its own).
    """

    def __init__(self, path: PathLike, queries: SQLiteQueries) -> None:
        path = os.fspath(path)
        if not isinstance(path, str):
            raise TypeError(f"path must be a str or os.PathLike[str], got {type(path).__name__}")
        self.path = path
        self._queries = queries
        self._lock = threading.Lock()
        self._idle: list[sqlite3.Connection] = []
        self._closed = False
        self._schema_ready = False
        self._wal = False
        self._schema_lock = threading.Lock()
        self._memory_lock = threading.Lock() if path == ":memory:" else None

    def execute(self, query: Query) -> list[Row]:
        """Run `query` and return its rows, raising eventsource errors."""
        deadline = time.monotonic() + BUSY_TIMEOUT
        try:
            while True:
                try:
                    with self._connection() as conn:
                        if not self._schema_ready:
                            self._ensure_schema(conn)
                        return _run(conn, query)
                except sqlite3.OperationalError as exc:
                    # SQLite answers "database is locked" at once, without its busy handler,
                    # in a few WAL corners (e.g. a connection opening while a checkpoint
                    # runs). The query rolled back whole: run it again, until the timeout.
                    if not is_busy(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.01)
        except SQLITE_ERRORS as exc:
            raise translate_sqlite(exc) from exc

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        try:
            for conn in idle:
                conn.close()
        except sqlite3.Error as exc:
            raise translate_sqlite(exc) from exc

    @contextlib.contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._memory_lock or contextlib.nullcontext():
            with self._lock:
                if self._closed:
                    raise StoreUnavailableError(f"the SQLite store on {self.path} is closed")
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                conn = self._connect()
            keep = False
            try:
                yield conn
            finally:
                with self._lock:
                    # A connection left in a transaction (a failed rollback) is not reused.
                    limit = 1 if self._memory_lock else MAX_IDLE_CONNECTIONS
                    keep = not (self._closed or conn.in_transaction or len(self._idle) >= limit)
                    if keep:
                        self._idle.append(conn)
                if not keep:
                    conn.close()

    def _connect(self) -> sqlite3.Connection:
        # isolation_level=None: no implicit transactions; reads are single statements in
        # autocommit (one snapshot each), writes say BEGIN IMMEDIATE themselves.
        try:
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False
            )
        except sqlite3.OperationalError as exc:
            error = missing_folder(exc, self.path)
            if error is None:
                raise
            raise error from exc
        if not self._wal:  # persistent: once set, the file stays in WAL mode
            try:
                conn.execute("PRAGMA journal_mode = WAL")
            except BaseException:
                conn.close()
                raise
            self._wal = True
        return conn

    def _ensure_schema(self, conn: sqlite3.Connection) -> None:
        """Create the schema on first use: the embedded store needs no set-up."""
        with self._schema_lock:
            if self._schema_ready:
                return
            ((present,),) = _run(conn, self._queries.schema_present())
            if not present:
                _run(conn, self._queries.schema())
            self._schema_ready = True


def _run(conn: sqlite3.Connection, query: Query) -> list[Row]:
    if query.params is None:  # a script: it says BEGIN and COMMIT itself
        try:
            conn.executescript(query.sql)
        except BaseException:
            _rollback(conn)
            raise
        return []
    if not (query.write or query.before):
        return _rows(conn.execute(query.sql, query.params))
    # BEGIN IMMEDIATE takes the write lock first (waiting for it up to the busy timeout), so
    # what the statements read cannot change before they write.
    conn.execute("BEGIN IMMEDIATE" if query.write else "BEGIN")
    try:
        for statement, params in query.before:
            conn.execute(statement, params)
        rows = _rows(conn.execute(query.sql, query.params))
        conn.execute("COMMIT")
    except BaseException:
        _rollback(conn)
        raise
    return rows


def _rows(cursor: sqlite3.Cursor) -> list[Row]:
    rows: list[Row] = cursor.fetchall()
    if cursor.description is None:
        return []
    return decode_rows([column[0] for column in cursor.description], rows)


def _rollback(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        with contextlib.suppress(sqlite3.Error):  # the original error matters, not this one
            conn.execute("ROLLBACK")


class _SQLiteStore:
    """What both SQLite stores share: the constructor, the database and its path."""

    def __init__(
        self,
        path: PathLike,
        *,
        event_registry: EventRegistry | None = None,
        outbox_enabled: bool = False,
        enable_tracing: bool = True,
    ) -> None:
        registry = default_registry if event_registry is None else event_registry
        queries = SQLiteQueries(outbox_enabled=outbox_enabled)
        self._db = _Database(path, queries)
        self._ops = Operations(queries, registry)
        self._tracer = Tracer(enabled=enable_tracing, db_system="sqlite", namespace=self._db.path)

    @property
    def path(self) -> str:
        return self._db.path

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r})"


class SyncSQLiteEventStore(_SQLiteStore, SyncStoreBase):
    """The embedded event store in one SQLite file (created with its schema if missing)."""

    def _execute(self, query: Query) -> list[Row]:
        return self._db.execute(query)

    def _release(self) -> None:
        self._db.close()


class SQLiteEventStore(_SQLiteStore, AsyncStoreBase):
    """The asyncio embedded store: the sync store's executor, run in worker threads."""

    async def _execute(self, query: Query) -> list[Row]:
        return await asyncio.to_thread(self._db.execute, query)

    async def _release(self) -> None:
        await asyncio.to_thread(self._db.close)
