"""The contenders under test: `SyncPostgreSQLEventStore` (threads) and `PostgreSQLEventStore`
(asyncio tasks), each on a pool made for the workload and given to the store.

The stores are used as an application would: default options (tracing on, with no
OpenTelemetry SDK configured, so spans are no-ops), `ItemAdded` events built before the
clock starts, `ExpectedVersion.NO_STREAM` for appends to new streams, exact versions in W6.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any
from uuid import UUID, uuid4

import psycopg_pool

from eventsource import (
    DomainEvent,
    ExpectedVersion,
    OptimisticLockError,
    PostgreSQLEventStore,
    ReadOptions,
    SyncPostgreSQLEventStore,
)

from .common import (
    CLOCK,
    STREAM_TYPE,
    WARMUP_OPS,
    Plan,
    ReadFixture,
    Run,
    split,
    timed_tasks,
    timed_threads,
)
from .model import REGISTRY, ItemAdded, make_events

NO_STREAM = ExpectedVersion.NO_STREAM


def new_streams(streams: int, per_stream: int, rng: random.Random) -> list[list[ItemAdded]]:
    return [make_events(uuid4(), per_stream, rng) for _ in range(streams)]


def _pool_kwargs(size: int) -> dict[str, Any]:
    return {"min_size": size, "max_size": size, "kwargs": {"autocommit": True}}


@contextmanager
def sync_store(url: str, size: int, **options: Any) -> Iterator[SyncPostgreSQLEventStore]:
    """A store on a fresh, fully opened pool of `size` connections (closed afterwards)."""
    with psycopg_pool.ConnectionPool(url, open=True, **_pool_kwargs(size)) as pool:
        pool.wait()
        yield SyncPostgreSQLEventStore(pool, event_registry=REGISTRY, **options)


@asynccontextmanager
async def async_store(url: str, size: int, **options: Any) -> AsyncIterator[PostgreSQLEventStore]:
    pool = psycopg_pool.AsyncConnectionPool(url, open=False, **_pool_kwargs(size))
    await pool.open(wait=True)
    try:
        yield PostgreSQLEventStore(pool, event_registry=REGISTRY, **options)
    finally:
        await pool.close()


def _append_each(store: SyncPostgreSQLEventStore, streams: list[list[ItemAdded]]) -> int:
    count = 0
    for batch in streams:
        store.append_events(batch[0].aggregate_id, STREAM_TYPE, batch, NO_STREAM)
        count += len(batch)
    return count


async def _append_each_async(store: PostgreSQLEventStore, streams: list[list[ItemAdded]]) -> int:
    count = 0
    for batch in streams:
        await store.append_events(batch[0].aggregate_id, STREAM_TYPE, batch, NO_STREAM)
        count += len(batch)
    return count


def _expect(actual: int, expected: int, what: str) -> None:
    if actual != expected:
        raise RuntimeError(f"{what}: read {actual} events, expected {expected}")


class SyncStore:
    """`SyncPostgreSQLEventStore`; concurrent workloads on threads."""

    name = "sync store"

    def __init__(self, seed: int = 2, **options: Any) -> None:
        self._rng = random.Random(seed)
        self._options = options

    def w1(self, url: str, plan: Plan) -> Run:
        streams = new_streams(WARMUP_OPS + plan.w1_appends, 1, self._rng)
        with sync_store(url, 1, **self._options) as store:
            _append_each(store, streams[:WARMUP_OPS])
            began = CLOCK.start()
            count = _append_each(store, streams[WARMUP_OPS:])
            return Run(count, CLOCK.stop(began))

    def w2(self, url: str, plan: Plan) -> Run:
        streams = new_streams(1 + plan.w2_batches, plan.w2_batch_size, self._rng)
        with sync_store(url, 1, **self._options) as store:
            _append_each(store, streams[:1])
            began = CLOCK.start()
            count = _append_each(store, streams[1:])
            return Run(count, CLOCK.stop(began))

    def w3(self, url: str, plan: Plan) -> Run:
        writers = plan.w3_writers
        shares = split(new_streams((WARMUP_OPS + plan.w3_appends) * writers, 1, self._rng), writers)
        with sync_store(url, writers, **self._options) as store:
            return Run(
                *timed_threads(
                    writers,
                    lambda i: _append_each(store, shares[i][:WARMUP_OPS]),
                    lambda i: _append_each(store, shares[i][WARMUP_OPS:]),
                )
            )

    def w4(self, url: str, plan: Plan, fixture: ReadFixture) -> Run:
        with sync_store(url, 1, **self._options) as store:
            consume(store.read_stream(fixture.stream_id, ReadOptions(limit=10)))
            began = CLOCK.start()
            total = 0
            for _ in range(plan.w4_reads):
                total += consume(store.read_stream(fixture.stream_id))
            seconds = CLOCK.stop(began)
        _expect(total, plan.w4_reads * fixture.stream_length, "W4")
        return Run(total, seconds)

    def w5(self, url: str, plan: Plan, fixture: ReadFixture) -> Run:
        with sync_store(url, 1, **self._options) as store:
            consume(store.read_all(ReadOptions(limit=10)))
            began = CLOCK.start()
            total = consume(store.read_all())
            seconds = CLOCK.stop(began)
        _expect(total, fixture.log_length, "W5")
        return Run(total, seconds)

    def w6(self, url: str, plan: Plan) -> Run:
        writers = plan.w6_writers
        aggregate_id, warm_id = uuid4(), uuid4()
        shares = split(make_events(aggregate_id, writers * plan.w6_appends, self._rng), writers)
        warm = split(make_events(warm_id, writers * 2, self._rng), writers)
        conflicts = [0] * writers
        with sync_store(url, writers, **self._options) as store:

            def write(i: int, stream: UUID, share: list[ItemAdded]) -> int:
                for event in share:
                    while True:
                        version = store.get_stream_version(stream, STREAM_TYPE)
                        try:
                            store.append_events(stream, STREAM_TYPE, [event], version)
                            break
                        except OptimisticLockError:
                            conflicts[i] += 1
                return len(share)

            count, seconds = timed_threads(
                writers,
                lambda i: write(i, warm_id, warm[i]),
                lambda i: write(i, aggregate_id, shares[i]),
            )
        return Run(count, seconds, {"conflicts": sum(conflicts), "stream": str(aggregate_id)})


class AsyncStore:
    """`PostgreSQLEventStore` under asyncio; concurrent workloads as tasks on one loop."""

    name = "async store"

    def __init__(self, seed: int = 3, **options: Any) -> None:
        self._rng = random.Random(seed)
        self._options = options

    def w1(self, url: str, plan: Plan) -> Run:
        streams = new_streams(WARMUP_OPS + plan.w1_appends, 1, self._rng)

        async def main() -> Run:
            async with async_store(url, 1, **self._options) as store:
                await _append_each_async(store, streams[:WARMUP_OPS])
                began = CLOCK.start()
                count = await _append_each_async(store, streams[WARMUP_OPS:])
                return Run(count, CLOCK.stop(began))

        return asyncio.run(main())

    def w2(self, url: str, plan: Plan) -> Run:
        streams = new_streams(1 + plan.w2_batches, plan.w2_batch_size, self._rng)

        async def main() -> Run:
            async with async_store(url, 1, **self._options) as store:
                await _append_each_async(store, streams[:1])
                began = CLOCK.start()
                count = await _append_each_async(store, streams[1:])
                return Run(count, CLOCK.stop(began))

        return asyncio.run(main())

    def w3(self, url: str, plan: Plan) -> Run:
        writers = plan.w3_writers
        shares = split(new_streams((WARMUP_OPS + plan.w3_appends) * writers, 1, self._rng), writers)

        async def main() -> Run:
            async with async_store(url, writers, **self._options) as store:
                return Run(
                    *await timed_tasks(
                        writers,
                        lambda i: _append_each_async(store, shares[i][:WARMUP_OPS]),
                        lambda i: _append_each_async(store, shares[i][WARMUP_OPS:]),
                    )
                )

        return asyncio.run(main())

    def w4(self, url: str, plan: Plan, fixture: ReadFixture) -> Run:
        async def main() -> Run:
            async with async_store(url, 1, **self._options) as store:
                await consume_async(store.read_stream(fixture.stream_id, ReadOptions(limit=10)))
                began = CLOCK.start()
                total = 0
                for _ in range(plan.w4_reads):
                    total += await consume_async(store.read_stream(fixture.stream_id))
                return Run(total, CLOCK.stop(began))

        run = asyncio.run(main())
        _expect(run.events, plan.w4_reads * fixture.stream_length, "W4")
        return run

    def w5(self, url: str, plan: Plan, fixture: ReadFixture) -> Run:
        async def main() -> Run:
            async with async_store(url, 1, **self._options) as store:
                await consume_async(store.read_all(ReadOptions(limit=10)))
                began = CLOCK.start()
                total = await consume_async(store.read_all())
                return Run(total, CLOCK.stop(began))

        run = asyncio.run(main())
        _expect(run.events, fixture.log_length, "W5")
        return run

    def w6(self, url: str, plan: Plan) -> Run:
        writers = plan.w6_writers
        aggregate_id, warm_id = uuid4(), uuid4()
        shares = split(make_events(aggregate_id, writers * plan.w6_appends, self._rng), writers)
        warm = split(make_events(warm_id, writers * 2, self._rng), writers)
        conflicts = [0] * writers

        async def main() -> tuple[int, float]:
            async with async_store(url, writers, **self._options) as store:

                async def write(i: int, stream: UUID, share: list[ItemAdded]) -> int:
                    for event in share:
                        while True:
                            version = await store.get_stream_version(stream, STREAM_TYPE)
                            try:
                                await store.append_events(stream, STREAM_TYPE, [event], version)
                                break
                            except OptimisticLockError:
                                conflicts[i] += 1
                    return len(share)

                return await timed_tasks(
                    writers,
                    lambda i: write(i, warm_id, warm[i]),
                    lambda i: write(i, aggregate_id, shares[i]),
                )

        count, seconds = asyncio.run(main())
        return Run(count, seconds, {"conflicts": sum(conflicts), "stream": str(aggregate_id)})


def consume(events: Iterator[Any]) -> int:
    """Touch a payload field of every event, as a projection would; keep none of them."""
    quantity = 0
    count = 0
    for stored in events:
        event: DomainEvent = stored.event
        quantity += event.quantity  # type: ignore[attr-defined]
        count += 1
    return count


async def consume_async(events: AsyncIterator[Any]) -> int:
    quantity = 0
    count = 0
    async for stored in events:
        event: DomainEvent = stored.event
        quantity += event.quantity  # type: ignore[attr-defined]
        count += 1
    return count
