"""The global log never skips and never repeats, with writers racing and transactions open."""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from decimal import Decimal
from uuid import UUID, uuid4

import psycopg
import pytest
from pg_events import Deposited, registry

from eventsource import ExpectedVersion, ReadOptions, SyncPostgreSQLEventStore
from eventsource._core.rules import prepare_append
from eventsource.postgres.queries import PostgresQueries

WRITERS = 8
DURATION = 4.0  # seconds of racing


def deposits(aggregate_id: UUID, count: int) -> list[Deposited]:
    return [Deposited(aggregate_id=aggregate_id, amount=Decimal(i)) for i in range(count)]


@pytest.mark.slow
def test_tailer_sees_every_event_once_while_writers_race(pg_url: str) -> None:
    store = SyncPostgreSQLEventStore.from_url(pg_url, event_registry=registry, max_size=WRITERS + 2)
    streams = [uuid4() for _ in range(20)]
    written: list[UUID] = []
    written_lock = threading.Lock()
    stop = threading.Event()
    errors: list[BaseException] = []

    def writer(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while not stop.is_set():
                aggregate_id = rng.choice(streams)
                batch = deposits(aggregate_id, rng.randint(1, 5))
                store.append_events(aggregate_id, "Account", batch, ExpectedVersion.ANY)
                with written_lock:
                    written.extend(event.event_id for event in batch)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    seen: list[UUID] = []
    positions: dict[str, list[int]] = defaultdict(list)
    last = 0

    def tail_once() -> int:
        nonlocal last
        count = 0
        for stored in store.read_all(ReadOptions(from_position=last)):
            seen.append(stored.event_id)
            positions[stored.stream_id].append(stored.stream_position)
            last = stored.global_position
            count += 1
        return count

    threads = [threading.Thread(target=writer, args=(seed,)) for seed in range(WRITERS)]
    with store:
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + DURATION
        while time.monotonic() < deadline:
            tail_once()
        stop.set()
        for thread in threads:
            thread.join()
        while tail_once():
            pass

    assert not errors
    assert len(written) > 100  # the race really happened
    assert len(seen) == len(set(seen)), "the tailer saw an event twice"
    assert set(seen) == set(written), f"missed {len(set(written) - set(seen))} events"
    for stream, stream_positions in positions.items():
        assert stream_positions == list(range(1, len(stream_positions) + 1)), stream


def test_read_all_waits_for_an_open_transaction_then_delivers_it(pg_url: str) -> None:
    a, b, c = uuid4(), uuid4(), uuid4()
    with SyncPostgreSQLEventStore.from_url(pg_url, event_registry=registry) as store:
        first = store.append_events(a, "Account", deposits(a, 1), 0)
        # A writer whose transaction stays open: the store's own append statement, uncommitted.
        request = prepare_append(b, "Account", deposits(b, 2), 0, registry)
        query = PostgresQueries().append(request)
        with psycopg.connect(pg_url) as slow_writer:
            slow_writer.execute(query.sql, query.params)
            later = store.append_events(c, "Account", deposits(c, 1), 0)  # commits meanwhile

            visible = list(store.read_all())
            assert [e.global_position for e in visible] == [first.global_position]
            assert store.get_global_position() == first.global_position
            resumed = list(store.read_all(ReadOptions(from_position=first.global_position)))
            assert resumed == []
            # The delay is visible: what is held back, and by which transaction.
            horizon = store.log_horizon()
            assert horizon.held_back == 1  # c, committed; b is not committed yet
            assert horizon.blocking_pid == slow_writer.info.backend_pid
            assert horizon.blocking_age is not None
            slow_writer.commit()

        resumed = list(store.read_all(ReadOptions(from_position=first.global_position)))
        assert [e.aggregate_id for e in resumed] == [b, b, c]
        assert resumed[-1].global_position == later.global_position
        assert store.get_global_position() == later.global_position
        assert store.log_horizon().held_back == 0
