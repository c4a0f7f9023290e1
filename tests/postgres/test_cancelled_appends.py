"""A cancelled or timed-out async append is an unknown outcome; its retry is safe.

An append is one statement in autocommit: once the server has run it, it has committed,
whether or not the client is still there to read the answer. Cancelling the caller's task
(`asyncio.wait_for`, `task.cancel()`) therefore leaves the batch stored or not stored, and
the caller cannot tell which. The rule (docs/reliability.md): retry with the same event
objects and the expected version first given. The retry succeeds either way, and the batch
is stored exactly once: a batch whose every id is stored is a retried append (DESIGN
section 3), recognised without writing or checking the version.

The test cancels 200-event appends at moments spread over the time one takes, so that both
outcomes occur in a usual run; it counts them but asserts only the rule. (The sync store's
statement timeouts, retried the same way, are in tests/reliability/test_pg_faults.py.)
"""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from uuid import UUID, uuid4

import attrs
import psycopg
import pytest
from pg_events import Deposited, registry

from eventsource import AppendResult, ExpectedVersion, PostgreSQLEventStore

pytestmark = pytest.mark.slow

BATCH = 200
ATTEMPTS = 24
"""Appends per test, each cancelled after a delay from 0 to the time an append takes."""
AGGREGATE_TYPE = "Account"
APPLICATION = "eventsource-cancelled-appends"


@attrs.frozen
class Attempt:
    """One batch appended and cancelled: what was asked, and what the caller saw."""

    aggregate_id: UUID
    expected_version: int
    opened: int
    """Events the stream held before the batch (1 when the expected version is exact)."""
    batch: list[Deposited]
    outcome: str
    """`returned`, or the exception the cancelled call ended with."""


def _batch(aggregate_id: UUID) -> list[Deposited]:
    return [Deposited(aggregate_id=aggregate_id, amount=Decimal(n)) for n in range(BATCH)]


async def _by_wait_for(append: Awaitable[AppendResult], delay: float) -> str:
    try:
        await asyncio.wait_for(append, timeout=delay)
    except TimeoutError:
        return "TimeoutError"
    return "returned"


async def _by_cancel(append: Awaitable[AppendResult], delay: float) -> str:
    task = asyncio.ensure_future(append)
    await asyncio.sleep(delay)
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        return "CancelledError"
    return "returned"


Canceller = Callable[[Awaitable[AppendResult], float], Awaitable[str]]
CANCELLERS: dict[str, Canceller] = {
    "wait_for": _by_wait_for,
    "cancel": _by_cancel,
}
EXPECTATIONS = (ExpectedVersion.NO_STREAM, 1, ExpectedVersion.ANY)
"""The expected versions the attempts take in turn: none, an exact one (after one opening
event), any."""


def _settle(url: str) -> None:
    """Wait until no connection of the store runs a statement or holds a transaction, so each
    cancelled append has committed or rolled back before its outcome is counted."""
    deadline = time.monotonic() + 10
    with psycopg.connect(url, autocommit=True) as admin:
        while True:
            busy = admin.execute(
                "SELECT count(*) FROM pg_stat_activity"
                " WHERE application_name = %s AND state <> 'idle'",
                [APPLICATION],
            ).fetchone()
            if busy == (0,):
                return
            assert time.monotonic() < deadline, "cancelled appends still running after 10 s"
            time.sleep(0.05)


async def _attempt(store: PostgreSQLEventStore, n: int, delay: float, cancel: Canceller) -> Attempt:
    """Append a batch to a new stream and cancel the call after `delay` seconds."""
    aggregate_id = uuid4()
    expected = EXPECTATIONS[n % len(EXPECTATIONS)]
    opened = 1 if expected > 0 else 0
    if opened:
        opening = Deposited(aggregate_id=aggregate_id, amount=Decimal("1"))
        await store.append_events(aggregate_id, AGGREGATE_TYPE, [opening], 0)
    batch = _batch(aggregate_id)
    outcome = await cancel(
        store.append_events(aggregate_id, AGGREGATE_TYPE, batch, expected), delay
    )
    return Attempt(aggregate_id, expected, opened, batch, outcome)


async def _retry(store: PostgreSQLEventStore, attempt: Attempt) -> None:
    """The rule: the same events, the expected version first given, whatever happened.
    The retry succeeds, a second one answers the same, and the batch is stored once."""
    retried = await store.append_events(
        attempt.aggregate_id, AGGREGATE_TYPE, attempt.batch, attempt.expected_version
    )
    assert retried.success
    assert retried.new_version == attempt.opened + BATCH
    again = await store.append_events(
        attempt.aggregate_id, AGGREGATE_TYPE, attempt.batch, attempt.expected_version
    )
    assert again == retried
    stream = await store.get_events(attempt.aggregate_id, AGGREGATE_TYPE)
    stored = stream.events[attempt.opened :]
    assert [e.event_id for e in stored] == [e.event_id for e in attempt.batch]
    assert [e.aggregate_version for e in stream.events] == list(
        range(1, attempt.opened + BATCH + 1)
    )


async def _count_outcomes(store: PostgreSQLEventStore, attempts: list[Attempt]) -> str:
    """How many cancelled appends committed anyway (the statements have all ended)."""
    committed = not_committed = 0
    for attempt in attempts:
        version = await store.get_stream_version(attempt.aggregate_id, AGGREGATE_TYPE)
        assert version in (attempt.opened, attempt.opened + BATCH), "a torn batch"
        if attempt.outcome == "returned":
            assert version == attempt.opened + BATCH
        elif version > attempt.opened:
            committed += 1
        else:
            not_committed += 1
    return (
        f"{committed + not_committed} of {len(attempts)} appends cancelled,"
        f" {committed} of them committed anyway, {not_committed} not"
    )


@pytest.mark.parametrize("retried", ["when-settled", "at-once"])
@pytest.mark.parametrize("how", CANCELLERS)
def test_a_cancelled_append_is_retried_with_the_same_events(
    pg_url: str, how: str, retried: str
) -> None:
    """`when-settled`: every cancelled statement has ended before the retries, so the test
    can count the outcomes. `at-once`: each retry follows its cancellation, while the
    cancelled statement may still be running in the server, as in a caller's retry loop."""
    cancel = CANCELLERS[how]

    async def main() -> None:
        store = PostgreSQLEventStore.from_url(
            pg_url,
            event_registry=registry,
            min_size=2,
            max_size=4,
            kwargs={"application_name": APPLICATION},
        )
        async with store:
            # How long a 200-event append takes here: the cancellations are spread over it.
            durations = []
            for _ in range(3):
                aggregate_id = uuid4()
                started = time.perf_counter()
                await store.append_events(aggregate_id, "Warm-up", _batch(aggregate_id), 0)
                durations.append(time.perf_counter() - started)
            duration = statistics.median(durations)

            attempts = []
            for n in range(ATTEMPTS):
                attempt = await _attempt(store, n, duration * n / (ATTEMPTS - 1), cancel)
                attempts.append(attempt)
                if retried == "at-once":
                    await _retry(store, attempt)
            if retried == "when-settled":
                await asyncio.to_thread(_settle, pg_url)
                # The figures of docs/reliability.md; shown with -s or -rP.
                print(f"{how}: {await _count_outcomes(store, attempts)}")
                for attempt in attempts:
                    await _retry(store, attempt)

            log = [stored async for stored in store.read_all()]
            ids = [stored.event_id for stored in log]
            assert len(ids) == len(set(ids))
            opened = sum(attempt.opened for attempt in attempts)
            assert len(log) == (len(durations) + ATTEMPTS) * BATCH + opened

    asyncio.run(main())
