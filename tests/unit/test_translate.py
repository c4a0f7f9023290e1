"""`eventsource._core.translate`: every driver error becomes the right eventsource error.

Real psycopg, psycopg_pool and sqlite3 exception objects, no database. A psycopg error made
without a server carries its diagnostics in the `info` mapping psycopg itself uses to
unpickle errors, so `diag.constraint_name` answers as it would for the server's error.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, NamedTuple

import psycopg
import psycopg_pool
import pytest
from psycopg import errors as pg
from psycopg.pq import DiagnosticField

from eventsource import (
    EventSourceError,
    SchemaNotInitializedError,
    SerializationError,
    StoreUnavailableError,
)
from eventsource._core.translate import (
    Conflict,
    is_busy,
    missing_folder,
    not_accepting,
    refused,
    translate_psycopg,
    translate_sqlite,
    unhandled,
)


def unique_violation(constraint: str | None) -> pg.UniqueViolation:
    info = {} if constraint is None else {DiagnosticField.CONSTRAINT_NAME: constraint.encode()}
    return pg.UniqueViolation("duplicate key value violates unique constraint", info=info)


def sqlite_error(cls: type[sqlite3.Error], message: str, code: int | None) -> sqlite3.Error:
    """A sqlite3 error as the module raises it: with its (extended) result code."""
    error = cls(message)
    if code is not None:
        error.sqlite_errorcode = code  # type: ignore[attr-defined]
    return error


class Case(NamedTuple):
    error: Exception
    expected: type[Exception]
    fragment: str
    on_event_id: bool | None = None  # for a Conflict: was it the event id's constraint?
    aborted: bool | None = None  # for a Conflict: did the server abort the statement?


PSYCOPG_CASES = {
    "event id taken": Case(
        unique_violation("events_event_id_key"),
        Conflict,
        "a concurrent write collided with this one (constraint events_event_id_key)",
        on_event_id=True,
        aborted=False,
    ),
    "version taken": Case(
        unique_violation("uq_events_aggregate_version"),
        Conflict,
        "(constraint uq_events_aggregate_version)",
        on_event_id=False,
        aborted=False,
    ),
    "unnamed constraint": Case(
        unique_violation(None), Conflict, "(constraint unknown)", on_event_id=False
    ),
    "deadlock": Case(
        pg.DeadlockDetected("deadlock detected"),
        Conflict,
        "a concurrent write collided with this one (DeadlockDetected)",
        on_event_id=False,
        aborted=True,
    ),
    "serialization failure": Case(
        pg.SerializationFailure("could not serialize access"),
        Conflict,
        "(SerializationFailure)",
        on_event_id=False,
        aborted=True,
    ),
    "missing table": Case(
        pg.UndefinedTable('relation "events" does not exist'),
        SchemaNotInitializedError,
        "store.initialize()",
    ),
    "untranslatable character": Case(
        pg.UntranslatableCharacter("unsupported Unicode escape sequence"),
        SerializationError,
        "PostgreSQL cannot store this value: unsupported Unicode escape sequence",
    ),
    "data error": Case(
        psycopg.DataError("integer out of range"),
        SerializationError,
        "cannot store this value: integer out of range",
    ),
    "connection trouble": Case(
        psycopg.OperationalError("server closed the connection unexpectedly"),
        StoreUnavailableError,
        "PostgreSQL is unavailable: server closed the connection unexpectedly",
    ),
    "admin shutdown": Case(
        pg.AdminShutdown("terminating connection due to administrator command"),
        StoreUnavailableError,
        "PostgreSQL is unavailable: terminating connection",
    ),
    "statement timeout": Case(
        pg.QueryCanceled("canceling statement due to statement timeout"),
        StoreUnavailableError,
        "PostgreSQL is unavailable: canceling statement",
    ),
    "interface error": Case(
        psycopg.InterfaceError("the connection is closed"),
        StoreUnavailableError,
        "PostgreSQL is unavailable: the connection is closed",
    ),
    "pool timeout": Case(
        psycopg_pool.PoolTimeout("couldn't get a connection after 10.00 sec"),
        StoreUnavailableError,
        "PostgreSQL is unavailable: couldn't get a connection",
    ),
    "pool closed": Case(
        psycopg_pool.PoolClosed("the pool 'pool-1' is already closed"),
        StoreUnavailableError,
        "PostgreSQL is unavailable: the pool 'pool-1' is already closed",
    ),
    "anything else": Case(
        pg.SyntaxError('syntax error at or near "SELEC"'),
        EventSourceError,
        'PostgreSQL error: syntax error at or near "SELEC"',
    ),
}

SQLITE_CASES = {
    "event id taken": Case(
        sqlite3.IntegrityError("UNIQUE constraint failed: events.event_id"),
        Conflict,
        "a concurrent write collided with this one (constraint events.event_id)",
        on_event_id=True,
        aborted=False,
    ),
    "version taken": Case(
        sqlite3.IntegrityError(
            "UNIQUE constraint failed: events.aggregate_id, events.aggregate_type, events.version"
        ),
        Conflict,
        "(constraint events.aggregate_id, events.aggregate_type, events.version)",
        on_event_id=False,
        aborted=False,
    ),
    "other integrity error": Case(
        sqlite3.IntegrityError("NOT NULL constraint failed: events.payload"),
        EventSourceError,
        "SQLite error: NOT NULL constraint failed: events.payload",
    ),
    "missing table": Case(
        sqlite3.OperationalError("no such table: events"),
        SchemaNotInitializedError,
        "eventsource init",
    ),
    "locked": Case(
        sqlite_error(sqlite3.OperationalError, "database is locked", sqlite3.SQLITE_BUSY),
        StoreUnavailableError,
        "SQLite is unavailable: database is locked",
    ),
    "cannot open": Case(
        sqlite_error(
            sqlite3.OperationalError, "unable to open database file", sqlite3.SQLITE_CANTOPEN
        ),
        StoreUnavailableError,
        "SQLite is unavailable: unable to open database file",
    ),
    "data error": Case(
        sqlite3.DataError("string or blob too big"),
        SerializationError,
        "SQLite cannot store this value: string or blob too big",
    ),
    "lone surrogate": Case(
        UnicodeEncodeError("utf-8", "\ud800", 0, 1, "surrogates not allowed"),
        SerializationError,
        "SQLite cannot store this text",
    ),
    "not a database": Case(
        sqlite3.DatabaseError("file is not a database"),
        EventSourceError,
        "SQLite error: file is not a database",
    ),
}


def check(translated: Exception, case: Case) -> None:
    assert type(translated) is case.expected
    assert case.fragment in str(translated)
    assert translated.__cause__ is case.error
    if isinstance(translated, Conflict):
        if case.on_event_id is not None:
            assert translated.on_event_id is case.on_event_id
        if case.aborted is not None:
            assert translated.aborted is case.aborted


@pytest.mark.parametrize("case", PSYCOPG_CASES.values(), ids=PSYCOPG_CASES.keys())
def test_translate_psycopg(case: Case) -> None:
    check(translate_psycopg(case.error), case)


@pytest.mark.parametrize("case", SQLITE_CASES.values(), ids=SQLITE_CASES.keys())
def test_translate_sqlite(case: Case) -> None:
    check(translate_sqlite(case.error), case)


# -- a Conflict no operation answered ----------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "expected", "fragment"),
    [
        (
            pg.SerializationFailure("could not serialize access"),
            StoreUnavailableError,
            "the server aborted the statement (SerializationFailure)",
        ),
        (
            pg.DeadlockDetected("deadlock detected"),
            StoreUnavailableError,
            "(DeadlockDetected) because it collided with a concurrent transaction; the "
            "statement had no effect and retrying is safe",
        ),
        (
            unique_violation("pg_type_typname_nsp_index"),
            EventSourceError,
            "unexpected unique violation (constraint pg_type_typname_nsp_index)",
        ),
    ],
    ids=["serialization failure", "deadlock", "unique violation"],
)
def test_an_unanswered_conflict_becomes_a_public_error(
    error: Exception, expected: type[Exception], fragment: str
) -> None:
    conflict = translate_psycopg(error)
    assert isinstance(conflict, Conflict)
    public = unhandled(conflict)
    assert type(public) is expected
    assert fragment in str(public)


# -- the questions the stores ask --------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "busy"),
    [
        (sqlite_error(sqlite3.OperationalError, "database is locked", sqlite3.SQLITE_BUSY), True),
        (
            sqlite_error(sqlite3.OperationalError, "database table is locked", 6),  # LOCKED
            True,
        ),
        (sqlite_error(sqlite3.OperationalError, "database is locked", 517), True),  # extended
        (sqlite_error(sqlite3.OperationalError, "disk I/O error", 10), False),
        (sqlite_error(sqlite3.OperationalError, "database is locked", None), False),
        (sqlite_error(sqlite3.IntegrityError, "constraint failed", sqlite3.SQLITE_BUSY), False),
    ],
    ids=["busy", "locked", "busy snapshot", "I/O error", "no code", "not operational"],
)
def test_is_busy(error: Exception, busy: bool) -> None:
    assert is_busy(error) is busy


REFUSED = 'connection failed: connection to server at "127.0.0.1", port 5432 failed: FATAL:  '


@pytest.mark.parametrize(
    ("error", "fragment"),
    [
        (
            psycopg.OperationalError(REFUSED + 'database "shop" does not exist'),
            "the database does not exist (SQLSTATE 3D000)",
        ),
        (
            psycopg.OperationalError(REFUSED + 'role "ada" does not exist'),
            "the role does not exist (SQLSTATE 28000)",
        ),
        (
            psycopg.OperationalError(REFUSED + 'password authentication failed for user "ada"'),
            "password authentication failed (SQLSTATE 28P01)",
        ),
        (
            psycopg.OperationalError(REFUSED + 'no pg_hba.conf entry for host "10.0.0.1"'),
            "the server's pg_hba.conf rejects it (SQLSTATE 28000)",
        ),
        (
            pg.InvalidPassword("authentification par mot de passe échouée"),
            "password authentication failed (SQLSTATE 28P01)",
        ),
        (
            pg.InvalidCatalogName("la base de données « shop » n'existe pas"),
            "the database does not exist (SQLSTATE 3D000)",
        ),
    ],
    ids=["database", "role", "password", "pg_hba", "password by SQLSTATE", "database by SQLSTATE"],
)
def test_refused_for_good(error: psycopg.Error, fragment: str) -> None:
    refusal = refused(error)
    assert type(refusal) is EventSourceError
    assert str(refusal) == f"PostgreSQL refused the connection: {fragment}: {error}"
    assert refusal.__cause__ is error


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError(
            'connection failed: connection to server at "127.0.0.1", port 1 failed: '
            "Connection refused\n\tIs the server running on that host and accepting TCP/IP "
            "connections?"
        ),
        psycopg.OperationalError(REFUSED + "the database system is starting up"),
        psycopg.OperationalError("connection timeout expired"),
        pg.TooManyConnections("sorry, too many clients already"),
        ValueError('database "shop" does not exist'),
    ],
    ids=["not listening", "starting up", "timeout", "too many clients", "not psycopg"],
)
def test_transient_connection_failures_are_worth_waiting_for(error: Exception) -> None:
    assert refused(error) is None


def test_not_accepting_names_the_timeout_and_the_last_error() -> None:
    error = psycopg.OperationalError("connection refused")
    translated = not_accepting(error, 2.5)
    assert type(translated) is StoreUnavailableError
    assert str(translated) == (
        "PostgreSQL accepted no connection within 2.5 s; last error: connection refused"
    )
    assert translated.__cause__ is error


def cant_open() -> sqlite3.Error:
    return sqlite_error(
        sqlite3.OperationalError, "unable to open database file", sqlite3.SQLITE_CANTOPEN
    )


def test_missing_folder_names_the_folder(tmp_path: Path) -> None:
    error = cant_open()
    translated = missing_folder(error, str(tmp_path / "nowhere" / "events.db"))
    assert type(translated) is EventSourceError
    assert f"the folder {tmp_path / 'nowhere'} does not exist: create it first" in str(translated)
    assert translated.__cause__ is error


@pytest.mark.parametrize(
    ("error", "folder"),
    [
        (cant_open(), "."),  # the folder is there: some other reason (permissions, ...)
        (sqlite_error(sqlite3.OperationalError, "disk I/O error", 10), "nowhere"),
        (sqlite3.DatabaseError("file is not a database"), "nowhere"),
    ],
    ids=["folder exists", "other code", "other error"],
)
def test_missing_folder_is_only_that(error: Any, folder: str, tmp_path: Path) -> None:
    assert missing_folder(error, str(tmp_path / folder / "events.db")) is None
