"""Every judgement about a driver error (psycopg, psycopg_pool, sqlite3), in one place.

PostgreSQL errors are told apart by SQLSTATE and constraint name, SQLite's by their class,
message and error code. A unique violation, a deadlock or a serialization failure becomes
`Conflict`, an internal signal the append operation answers (by going again, or by asking
why); the driver turns a `Conflict` nobody answered into a public error (`unhandled`). The
stores ask the other questions here: is this connection stale (`is_stale`), is SQLite busy
(`is_busy`), does the server refuse connections for good (`refused`), is the SQLite file's
folder missing (`missing_folder`). The original error is always kept as `__cause__`.
"""

from __future__ import annotations

import os
import re
import sqlite3
from typing import Any, TypeVar

import psycopg
import psycopg_pool
from psycopg import errors as pg

from ..errors import (
    EventSourceError,
    SchemaNotInitializedError,
    SerializationError,
    StoreUnavailableError,
)

__all__ = [
    "PSYCOPG_ERRORS",
    "SCHEMA_HINT",
    "SQLITE_ERRORS",
    "Conflict",
    "StaleConnection",
    "is_busy",
    "is_stale",
    "missing_folder",
    "not_accepting",
    "refused",
    "translate_psycopg",
    "translate_sqlite",
    "unhandled",
]


_E = TypeVar("_E", bound=BaseException)


class Conflict(EventSourceError):
    """Internal: a concurrent write collided with this statement, which had no effect.

    `on_event_id`: a unique constraint on the event id fired (a retried or duplicate batch),
    not the stream version's. `aborted`: the server aborted the statement (a deadlock or a
    serialization failure) rather than a constraint firing.
    """

    def __init__(self, reason: str, *, on_event_id: bool = False, aborted: bool = False) -> None:
        what = reason if aborted else f"constraint {reason}"
        super().__init__(f"a concurrent write collided with this one ({what})")
        self.reason = reason
        self.on_event_id = on_event_id
        self.aborted = aborted


class StaleConnection(Exception):
    """A query failed because the server had closed its pooled connection (see `is_stale`)."""

    def __init__(self, error: psycopg.OperationalError) -> None:
        super().__init__(str(error))
        self.error = error


PSYCOPG_ERRORS = (psycopg.Error, psycopg_pool.PoolTimeout, psycopg_pool.PoolClosed)
"""What a PostgreSQL executor catches and hands to `translate_psycopg`."""

SQLITE_ERRORS = (sqlite3.Error, UnicodeEncodeError)
"""What a SQLite executor catches and hands to `translate_sqlite` (sqlite3 binds text as
UTF-8, so a lone surrogate fails before SQLite sees it)."""

SCHEMA_HINT = (
    "the event store's tables do not exist; create them with store.initialize() "
    "or `eventsource init --url URL` (or apply schema.sql)"
)

_PG_EVENT_ID_KEY = "events_event_id_key"
_SQLITE_EVENT_ID_KEY = "events.event_id"

_PG_ABORTED = (pg.DeadlockDetected, pg.SerializationFailure)
_PG_UNAVAILABLE = (
    psycopg.OperationalError,  # connection trouble, admin shutdown, query canceled (timeouts)
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    psycopg_pool.PoolClosed,
)
_PG_BAD_VALUE = (pg.UntranslatableCharacter, pg.CharacterNotInRepertoire, psycopg.DataError)

_SQLITE_BUSY_CODES = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)

# Connection failures that waiting will not cure, by SQLSTATE. libpq reports a refused
# connection as text only (psycopg's error has no SQLSTATE then), so each cause is also
# recognised by the server's message; a server whose messages are not in English is
# recognised by SQLSTATE only, and its refusals wait out the timeout like transient ones.
_REFUSALS: tuple[tuple[str, str, re.Pattern[str]], ...] = (
    ("3D000", "the database does not exist", re.compile(r'database ".*" does not exist')),
    ("28000", "the role does not exist", re.compile(r'role ".*" does not exist')),
    ("28000", "the role may not log in", re.compile(r"is not permitted to log in")),
    ("28000", "the server's pg_hba.conf rejects it", re.compile(r"pg_hba\.conf")),
    ("28P01", "password authentication failed", re.compile(r"password authentication failed")),
    ("28P01", "the server wants a password", re.compile(r"no password supplied")),
    ("42501", "the role may not connect to it", re.compile(r"permission denied for database")),
)


def translate_psycopg(exc: Exception) -> Exception:
    """The eventsource error for a psycopg (or psycopg_pool) error."""
    if isinstance(exc, pg.UniqueViolation):
        constraint = exc.diag.constraint_name or "unknown"
        return _chained(Conflict(constraint, on_event_id=constraint == _PG_EVENT_ID_KEY), exc)
    if isinstance(exc, _PG_ABORTED):
        return _chained(Conflict(type(exc).__name__, aborted=True), exc)
    if isinstance(exc, pg.UndefinedTable):
        return _chained(SchemaNotInitializedError(SCHEMA_HINT), exc)
    if isinstance(exc, _PG_BAD_VALUE):
        return _chained(SerializationError(f"PostgreSQL cannot store this value: {exc}"), exc)
    if isinstance(exc, _PG_UNAVAILABLE):
        return _chained(StoreUnavailableError(f"PostgreSQL is unavailable: {exc}"), exc)
    return _chained(EventSourceError(f"PostgreSQL error: {exc}"), exc)


def translate_sqlite(exc: Exception) -> Exception:
    """The eventsource error for a sqlite3 error."""
    message = str(exc)
    if isinstance(exc, sqlite3.IntegrityError) and message.startswith("UNIQUE constraint"):
        constraint = message.removeprefix("UNIQUE constraint failed: ")
        return _chained(Conflict(constraint, on_event_id=constraint == _SQLITE_EVENT_ID_KEY), exc)
    if isinstance(exc, sqlite3.OperationalError):
        if message.startswith("no such table"):
            return _chained(SchemaNotInitializedError(SCHEMA_HINT), exc)
        return _chained(StoreUnavailableError(f"SQLite is unavailable: {exc}"), exc)
    if isinstance(exc, sqlite3.DataError):
        return _chained(SerializationError(f"SQLite cannot store this value: {exc}"), exc)
    if isinstance(exc, UnicodeEncodeError):
        return _chained(SerializationError(f"SQLite cannot store this text: {exc}"), exc)
    return _chained(EventSourceError(f"SQLite error: {exc}"), exc)


def unhandled(conflict: Conflict) -> EventSourceError:
    """The public error for a `Conflict` no operation answered (one outside an append).

    An aborted statement had no effect, so it is retryable; a unique violation outside an
    append is unexpected. Raise it from the conflict's `__cause__` (the driver's error).
    """
    if conflict.aborted:
        return StoreUnavailableError(
            f"the server aborted the statement ({conflict.reason}) because it collided with a "
            "concurrent transaction; the statement had no effect and retrying is safe"
        )
    return EventSourceError(f"unexpected unique violation (constraint {conflict.reason})")


def is_stale(exc: Exception, connection: psycopg.BaseConnection[Any]) -> bool:
    """Whether `exc` failed a query because the server had closed `connection` (a restart, a
    terminated backend): a pooled connection gone stale, not a problem of the query.

    Running the query once more on a fresh connection is then safe for every query: reads
    repeat, and a repeated append is recognised by its event ids.
    """
    return isinstance(exc, psycopg.OperationalError) and connection.broken


def is_busy(exc: Exception) -> bool:
    """Whether SQLite refused a statement because another connection holds a lock.

    The statement rolled back whole, so running it again is safe.
    """
    return isinstance(exc, sqlite3.OperationalError) and _primary_code(exc) in _SQLITE_BUSY_CODES


def missing_folder(exc: Exception, path: str) -> EventSourceError | None:
    """The error when SQLite could not open `path` because its folder does not exist (SQLite
    creates a database file, never its folder); None for any other failure."""
    if (
        not isinstance(exc, sqlite3.OperationalError)
        or _primary_code(exc) != sqlite3.SQLITE_CANTOPEN
    ):
        return None
    folder = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(folder):
        return None
    message = (
        f"the folder {folder} does not exist: create it first "
        "(SQLite creates the database file, not its folder)"
    )
    return _chained(EventSourceError(message), exc)


def refused(exc: Exception) -> EventSourceError | None:
    """The error to raise at once when the server refuses a new connection for good (a
    database or role that does not exist, a failed password); None when trying again may
    succeed (a server not listening yet, a network failure).

    The message never shows the connection's password (nor does psycopg's).
    """
    if not isinstance(exc, psycopg.Error):
        return None
    message = str(exc)
    # The message names the cause more precisely than the SQLSTATE (several share 28000).
    known = [r for r in _REFUSALS if r[2].search(message)] or [
        r for r in _REFUSALS if r[0] == exc.sqlstate
    ]
    if not known:
        return None
    sqlstate, cause, _ = known[0]
    text = f"PostgreSQL refused the connection: {cause} (SQLSTATE {sqlstate}): {message}"
    return _chained(EventSourceError(text), exc)


def not_accepting(exc: Exception, timeout: float) -> StoreUnavailableError:
    """The error when the server accepted no connection within `timeout` seconds, `exc`
    being the last attempt's failure."""
    message = f"PostgreSQL accepted no connection within {timeout:g} s; last error: {exc}"
    return _chained(StoreUnavailableError(message), exc)


def _primary_code(exc: Exception) -> int:
    """A sqlite3 error's primary result code (an extended code's low byte)."""
    return int(getattr(exc, "sqlite_errorcode", 0)) & 0xFF


def _chained(error: _E, cause: BaseException) -> _E:
    error.__cause__ = cause
    return error
