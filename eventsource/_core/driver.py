"""Run the operations of `operations.py`: the only code that hands their queries over.

An executor runs one `Query` and returns its rows, raising our errors (translated in
`translate.py`). `run` / `run_async` drive an operation to its result, throwing a failed
query's error into it (an append answers a `Conflict`); `pages` / `pages_async` drive a
read and hand out its pages, running nothing while the caller holds one. A `Conflict` the
operation did not answer leaves as the public error `translate.unhandled` makes of it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

from .operations import Op, Page, Query, ReadOp
from .records import Row
from .translate import Conflict, unhandled

T = TypeVar("T")
E = TypeVar("E")

Execute = Callable[[Query], list[Row]]
ExecuteAsync = Callable[[Query], Awaitable[list[Row]]]


def run(op: Op[T], execute: Execute) -> T:
    rows: list[Row] | None = None
    error: Exception | None = None
    while True:
        try:
            query = op.throw(error) if error is not None else op.send(rows)  # type: ignore[arg-type]
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except Conflict as conflict:
            raise unhandled(conflict) from conflict.__cause__
        try:
            rows, error = execute(query), None
        except Exception as exc:
            rows, error = None, exc


async def run_async(op: Op[T], execute: ExecuteAsync) -> T:
    rows: list[Row] | None = None
    error: Exception | None = None
    while True:
        try:
            query = op.throw(error) if error is not None else op.send(rows)  # type: ignore[arg-type]
        except StopIteration as stop:
            return stop.value  # type: ignore[no-any-return]
        except Conflict as conflict:
            raise unhandled(conflict) from conflict.__cause__
        try:
            rows, error = await execute(query), None
        except Exception as exc:
            rows, error = None, exc


def pages(op: ReadOp[E], execute: Execute) -> Iterator[list[E]]:
    rows: list[Row] | None = None
    while (step := next(_resumed(op, rows), None)) is not None:
        if isinstance(step, Page):
            rows = None
            yield step.events
        else:
            try:
                rows = execute(step)
            except Conflict as conflict:
                raise unhandled(conflict) from conflict.__cause__


async def pages_async(op: ReadOp[E], execute: ExecuteAsync) -> AsyncIterator[list[E]]:
    rows: list[Row] | None = None
    while (step := next(_resumed(op, rows), None)) is not None:
        if isinstance(step, Page):
            rows = None
            yield step.events
        else:
            try:
                rows = await execute(step)
            except Conflict as conflict:
                raise unhandled(conflict) from conflict.__cause__


def _resumed(op: ReadOp[E], rows: list[Row] | None) -> Iterator[Query | Page[E]]:
    """The read's next step (nothing when it has finished)."""
    try:
        yield op.send(rows)
    except StopIteration:
        return
