"""`eventsource._core.operations` driven with canned rows and thrown errors, no database.

Each case scripts what the database answers to each statement the append asks for: rows of
the documented shapes (`(position, version)` for the append, `(stream_version,
*ExistingEvent)` for its status) or a real driver error, translated as an executor would.
The real `PostgresQueries` builds the statements, and the real drivers run the operations,
so every branch of the append and the drivers' handling of a `Conflict` nobody answered are
exercised as a store would.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple
from uuid import UUID

import attrs
import psycopg
import pytest
from psycopg import errors as pg
from psycopg.pq import DiagnosticField

from eventsource import (
    AppendResult,
    DomainEvent,
    DuplicateEventError,
    EventRegistry,
    EventSourceError,
    ExpectedVersion,
    OptimisticLockError,
    StoreUnavailableError,
    register_event,
)
from eventsource._core import driver
from eventsource._core.operations import MAX_APPEND_ATTEMPTS, Operations, Query
from eventsource._core.records import Row
from eventsource._core.rules import prepare_append
from eventsource._core.translate import Conflict, translate_psycopg
from eventsource.postgres.queries import PostgresQueries

REGISTRY = EventRegistry()


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Noted(DomainEvent):
    n: int


STREAM = UUID("00000000-0000-4000-8000-000000000001")
OTHER = UUID("00000000-0000-4000-8000-000000000002")
E1 = UUID("00000000-0000-4000-8000-0000000000e1")
E2 = UUID("00000000-0000-4000-8000-0000000000e2")
BATCH = (
    Noted(event_id=E1, aggregate_id=STREAM, n=1),
    Noted(event_id=E2, aggregate_id=STREAM, n=2),
)
QUERIES = PostgresQueries()
OPS = Operations(QUERIES, REGISTRY)
NONE_STORED = (None, None, None, None, None)


def none_stored(stream_version: int) -> list[Row]:
    """The status row when no id of the batch is stored."""
    return [(stream_version, *NONE_STORED)]


def stored(stream_version: int, *events: tuple[UUID, UUID, int, int]) -> list[Row]:
    """Status rows for stored ids: `(event_id, aggregate_id, version, global_position)`."""
    return [
        (stream_version, event_id, aggregate_id, "Order", version, position)
        for event_id, aggregate_id, version, position in events
    ]


def driver_error(error: psycopg.Error) -> Callable[[], Exception]:
    """A fresh translated error per raise, as the store's executor would raise it."""
    return lambda: translate_psycopg(error)


def taken(constraint: str) -> Callable[[], Exception]:
    info = {DiagnosticField.CONSTRAINT_NAME: constraint.encode()}
    return driver_error(pg.UniqueViolation("duplicate key value", info=info))


VERSION_TAKEN = taken("uq_events_aggregate_version")
EVENT_ID_TAKEN = taken("events_event_id_key")
SERIALIZATION_FAILURE = driver_error(pg.SerializationFailure("could not serialize access"))
DEADLOCK = driver_error(pg.DeadlockDetected("deadlock detected"))

Answer = list[Row] | Callable[[], Exception]
Step = tuple[str, Answer]  # which statement the operation must ask for, and the answer


class Case(NamedTuple):
    expected_version: int
    steps: Sequence[Step]
    outcome: AppendResult | type[Exception]
    fields: dict[str, Any] = {}  # noqa: RUF012  # the error's expected attributes
    message: str = ""
    events: tuple[DomainEvent, ...] = BATCH


CASES = {
    "one statement": Case(0, [("append", [(12, 2), (11, 1)])], AppendResult.successful(2, 12)),
    "nothing inserted: the version differs": Case(
        3,
        [("append", []), ("status", none_stored(5))],
        OptimisticLockError,
        {"expected_version": 3, "actual_version": 5, "aggregate_id": STREAM},
    ),
    "nothing inserted: no stream to extend": Case(
        ExpectedVersion.STREAM_EXISTS,
        [("append", []), ("status", none_stored(0))],
        OptimisticLockError,
        {"expected_version": ExpectedVersion.STREAM_EXISTS, "actual_version": 0},
    ),
    "nothing inserted: a retried batch": Case(
        0,  # not checked: the batch is already stored in this stream
        [("append", []), ("status", stored(2, (E1, STREAM, 1, 40), (E2, STREAM, 2, 41)))],
        AppendResult.successful(2, 41),
    ),
    "nothing inserted: partly stored": Case(
        0,
        [("append", []), ("status", stored(1, (E1, STREAM, 1, 40)))],
        DuplicateEventError,
        {"event_ids": (E1,)},
        "other events of the batch are new",
    ),
    "nothing inserted: stored in another stream": Case(
        0,
        [("append", []), ("status", stored(0, (E1, OTHER, 1, 40), (E2, OTHER, 2, 41)))],
        DuplicateEventError,
        {"event_ids": (E1, E2)},
        "already stored in another stream",
    ),
    "empty batch: the version holds": Case(
        4, [("append", []), ("status", none_stored(4))], AppendResult.successful(4), events=()
    ),
    "empty batch: the version differs": Case(
        4,
        [("append", []), ("status", none_stored(3))],
        OptimisticLockError,
        {"expected_version": 4, "actual_version": 3},
        events=(),
    ),
    "ANY, version taken: goes again": Case(
        ExpectedVersion.ANY,
        [("append", VERSION_TAKEN), ("append", [(21, 6), (22, 7)])],
        AppendResult.successful(7, 22),
    ),
    "ANY, serialization failure: goes again": Case(
        ExpectedVersion.ANY,
        [("append", SERIALIZATION_FAILURE), ("append", DEADLOCK), ("append", [(5, 1), (6, 2)])],
        AppendResult.successful(2, 6),
    ),
    "exact, version taken: the status says it was lost": Case(
        0,
        [("append", VERSION_TAKEN), ("status", none_stored(2))],
        OptimisticLockError,
        {"expected_version": 0, "actual_version": 2},
    ),
    "exact, version taken by a writer that rolled back: goes again": Case(
        0,
        [("append", VERSION_TAKEN), ("status", none_stored(0)), ("append", [(5, 1), (6, 2)])],
        AppendResult.successful(2, 6),
    ),
    "event id taken: a retried batch": Case(
        ExpectedVersion.ANY,
        [
            ("append", EVENT_ID_TAKEN),
            ("status", stored(9, (E1, STREAM, 8, 70), (E2, STREAM, 9, 71))),
        ],
        AppendResult.successful(9, 71),
    ),
    "event id taken: a duplicate": Case(
        ExpectedVersion.ANY,
        [("append", EVENT_ID_TAKEN), ("status", stored(3, (E2, OTHER, 1, 12)))],
        DuplicateEventError,
        {"event_ids": (E2,)},
        "other events of the batch are new",
    ),
    "the attempts limit": Case(
        ExpectedVersion.ANY,
        [("append", VERSION_TAKEN)] * MAX_APPEND_ATTEMPTS,
        StoreUnavailableError,
        message=f"kept colliding with other writers ({MAX_APPEND_ATTEMPTS} attempts)",
    ),
}


class Script:
    """An executor that checks each statement against the script and gives its answer."""

    def __init__(self, case: Case) -> None:
        request = prepare_append(STREAM, "Order", case.events, case.expected_version, REGISTRY)
        statements = {"append": QUERIES.append(request), "status": QUERIES.append_status(request)}
        self.steps = [(statements[kind], answer) for kind, answer in case.steps]

    def __call__(self, query: Query) -> list[Row]:
        assert self.steps, f"a statement after the script's end: {query.sql[:60]}"
        expected, answer = self.steps.pop(0)
        assert query == expected
        if callable(answer):
            raise answer()
        return answer

    async def execute_async(self, query: Query) -> list[Row]:
        return self(query)


def append(case: Case, run_async: bool) -> AppendResult:
    script = Script(case)
    op = OPS.append_events(STREAM, "Order", case.events, case.expected_version)
    if run_async:
        result = asyncio.run(driver.run_async(op, script.execute_async))
    else:
        result = driver.run(op, script)
    assert not script.steps, "the operation ended before the script"
    return result


@pytest.mark.parametrize("run_async", [False, True], ids=["run", "run_async"])
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_append(case: Case, run_async: bool) -> None:
    if isinstance(case.outcome, AppendResult):
        assert append(case, run_async) == case.outcome
        return
    with pytest.raises(case.outcome, match=re.escape(case.message) or None) as caught:
        append(case, run_async)
    assert type(caught.value) is case.outcome
    for name, value in case.fields.items():
        assert getattr(caught.value, name) == value


# -- a Conflict outside an append reaches the caller as a public error -------------------------

UNANSWERED = {
    "serialization failure": (
        pg.SerializationFailure("could not serialize access"),
        StoreUnavailableError,
        "the server aborted the statement (SerializationFailure)",
    ),
    "deadlock": (
        pg.DeadlockDetected("deadlock detected"),
        StoreUnavailableError,
        "the server aborted the statement (DeadlockDetected)",
    ),
    "unique violation": (
        pg.UniqueViolation("duplicate key value"),
        EventSourceError,
        "unexpected unique violation",
    ),
}


def failing(error: psycopg.Error) -> tuple[driver.Execute, driver.ExecuteAsync]:
    def execute(query: Query) -> list[Row]:
        raise translate_psycopg(error)

    async def execute_async(query: Query) -> list[Row]:
        return execute(query)

    return execute, execute_async


def run_read(error: psycopg.Error, how: str) -> object:
    execute, execute_async = failing(error)
    if how == "run":
        return driver.run(OPS.get_stream_version(STREAM, "Order"), execute)
    if how == "run_async":
        return asyncio.run(driver.run_async(OPS.get_stream_version(STREAM, "Order"), execute_async))
    if how == "pages":
        return list(driver.pages(OPS.read_all(), execute))

    async def pages() -> list[object]:
        return [page async for page in driver.pages_async(OPS.read_all(), execute_async)]

    return asyncio.run(pages())


@pytest.mark.parametrize("how", ["run", "run_async", "pages", "pages_async"])
@pytest.mark.parametrize(
    ("error", "expected", "message"), UNANSWERED.values(), ids=UNANSWERED.keys()
)
def test_a_conflict_outside_an_append_is_a_public_error(
    error: psycopg.Error, expected: type[Exception], message: str, how: str
) -> None:
    with pytest.raises(expected, match=re.escape(message)) as caught:
        run_read(error, how)
    assert type(caught.value) is expected
    assert not isinstance(caught.value, Conflict)
    assert caught.value.__cause__ is error
    assert caught.value.__suppress_context__  # the internal Conflict is not shown
