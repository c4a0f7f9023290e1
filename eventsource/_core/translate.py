"""The one place where driver errors (psycopg, sqlite3) become eventsource errors.

PostgreSQL errors are told apart by SQLSTATE and constraint name, SQLite's by their class and
message. Unique violations become `Conflict`, which the append operation answers by going
again in a new transaction. The original error is always kept as `__cause__`.
"""

from __future__ import annotations

import sqlite3

import psycopg
import psycopg_pool
from psycopg import errors as pg

from ..errors import (
    EventSourceError,
    SchemaNotInitializedError,
    SerializationError,
    StoreUnavailableError,
)


class Conflict(EventSourceError):
    """A unique constraint fired (a racing writer won); the operation decides to go again.

    `on_event_id`: the constraint was the event id's (a retried or duplicate batch), not the
    stream version's.
    """

    def __init__(self, constraint: str, *, on_event_id: bool = False) -> None:
        super().__init__(f"unique constraint {constraint} violated")
        self.constraint = constraint
        self.on_event_id = on_event_id


SCHEMA_HINT = (
    "the event store's tables do not exist; create them with store.initialize() "
    "or `eventsource init --url URL` (or apply schema.sql)"
)

_PG_RETRYABLE = (pg.DeadlockDetected, pg.SerializationFailure)
_PG_UNAVAILABLE = (
    psycopg.OperationalError,  # connection trouble, admin shutdown, query canceled (timeouts)
    psycopg.InterfaceError,
    psycopg_pool.PoolTimeout,
    psycopg_pool.PoolClosed,
)
_PG_BAD_VALUE = (pg.UntranslatableCharacter, pg.CharacterNotInRepertoire, psycopg.DataError)


def translate_psycopg(exc: Exception) -> Exception:
    """The eventsource error for a psycopg (or psycopg_pool) error."""
    if isinstance(exc, pg.UniqueViolation):
        constraint = exc.diag.constraint_name or "unknown"
        return _chained(Conflict(constraint, on_event_id=constraint == "events_event_id_key"), exc)
    if isinstance(exc, _PG_RETRYABLE):
        return _chained(Conflict(type(exc).__name__), exc)
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
        return _chained(Conflict(constraint, on_event_id=constraint == "events.event_id"), exc)
    if isinstance(exc, sqlite3.OperationalError):
        if message.startswith("no such table"):
            return _chained(SchemaNotInitializedError(SCHEMA_HINT), exc)
        return _chained(StoreUnavailableError(f"SQLite is unavailable: {exc}"), exc)
    if isinstance(exc, sqlite3.DataError):
        return _chained(SerializationError(f"SQLite cannot store this value: {exc}"), exc)
    if isinstance(exc, UnicodeEncodeError):  # sqlite3 binds text as UTF-8: no lone surrogates
        return _chained(SerializationError(f"SQLite cannot store this text: {exc}"), exc)
    return _chained(EventSourceError(f"SQLite error: {exc}"), exc)


def _chained(error: Exception, cause: Exception) -> Exception:
    error.__cause__ = cause
    return error
