"""Run the operations of `_operations.py`: the only code that hands their queries over.

An executor runs one `Query` and returns its rows, raising our errors (translated in
`_translate.py`). `run` / `run_async` drive an operation to its result, throwing a failed
query's error into it (an append retries on a `Conflict`); `pages` / `pages_async` drive a
read and hand out its pages, running nothing while the caller holds one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TypeVar

from .operations import Op, Page, Query, ReadOp
from .records import Row

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
            rows = execute(step)


async def pages_async(op: ReadOp[E], execute: ExecuteAsync) -> AsyncIterator[list[E]]:
    rows: list[Row] | None = None
    while (step := next(_resumed(op, rows), None)) is not None:
        if isinstance(step, Page):
            rows = None
            yield step.events
        else:
            rows = await execute(step)


def _resumed(op: ReadOp[E], rows: list[Row] | None) -> Iterator[Query | Page[E]]:
    """The read's next step (nothing when it has finished)."""
    try:
        yield op.send(rows)
    except StopIteration:
        return
