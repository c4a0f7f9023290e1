"""`read_all`, the global log and `StoredEvent` (DESIGN sections 4 and 7)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sample_events import Happened, Renamed, at, happened

from eventsource import ReadDirection, ReadOptions, StoredEvent, SyncEventStore

BACKWARD = ReadDirection.BACKWARD


def _fill_log(store: SyncEventStore, count: int) -> list[UUID]:
    """`count` events over three streams, round robin, one second apart: event i at T0 + i."""
    ids = [uuid4() for _ in range(3)]
    for i in range(count):
        aggregate_id = ids[i % 3]
        event = Happened(aggregate_id=aggregate_id, occurred_at=at(i + 1), note=str(i + 1))
        store.append_events(aggregate_id, "Order", [event], -1)
    return ids


def _notes(stored: list[StoredEvent]) -> list[int]:
    return [int(s.event.note) for s in stored]  # type: ignore[attr-defined]


def test_empty_store(store: SyncEventStore) -> None:
    assert list(store.read_all()) == []
    assert list(store.read_all(ReadOptions(direction=BACKWARD))) == []
    assert store.get_global_position() == 0


def test_reads_every_event_in_log_order(store: SyncEventStore) -> None:
    results = []
    expected_ids = []
    for i in range(6):
        aggregate_id = uuid4()
        batch = happened(aggregate_id, i % 3 + 1)
        expected_ids += [event.event_id for event in batch]
        results.append(store.append_events(aggregate_id, "Order", batch, 0))
    stored = list(store.read_all())
    assert [s.event_id for s in stored] == expected_ids
    positions = [s.global_position for s in stored]
    assert positions == sorted(set(positions))  # unique, increasing for sequential appends
    assert positions[-1] == results[-1].global_position == store.get_global_position()
    assert all(p > 0 for p in positions)


def test_append_global_position_is_that_of_its_last_event(store: SyncEventStore) -> None:
    for count in (1, 3, 2):
        aggregate_id = uuid4()
        result = store.append_events(aggregate_id, "Order", happened(aggregate_id, count), 0)
        last = list(store.read_stream(f"{aggregate_id}:Order"))[-1]
        assert result.global_position == last.global_position


def _log_cases() -> list[tuple[ReadOptions, list[int]]]:
    return [
        (ReadOptions(), [1, 2, 3, 4, 5, 6]),
        (ReadOptions(limit=2), [1, 2]),
        (ReadOptions(limit=0), []),
        (ReadOptions(direction=BACKWARD), [6, 5, 4, 3, 2, 1]),
        (ReadOptions(direction=BACKWARD, limit=2), [6, 5]),
        (ReadOptions(direction=BACKWARD, limit=0), []),
        (ReadOptions(from_timestamp=at(2), to_timestamp=at(4)), [2, 3, 4]),
        (ReadOptions(from_timestamp=at(3), limit=2), [3, 4]),
        (ReadOptions(to_timestamp=at(4), direction=BACKWARD, limit=3), [4, 3, 2]),
    ]


@pytest.mark.parametrize(("options", "expected"), _log_cases(), ids=str)
def test_direction_filters_and_limit(
    store: SyncEventStore, options: ReadOptions, expected: list[int]
) -> None:
    _fill_log(store, 6)
    assert _notes(list(store.read_all(options))) == expected


def test_from_position_is_an_exclusive_cursor_both_ways(store: SyncEventStore) -> None:
    _fill_log(store, 6)
    log = list(store.read_all())
    third = log[2].global_position
    after = list(store.read_all(ReadOptions(from_position=third)))
    assert [s.global_position for s in after] == [s.global_position for s in log[3:]]
    before = list(store.read_all(ReadOptions(direction=BACKWARD, from_position=third)))
    assert [s.global_position for s in before] == [s.global_position for s in reversed(log[:2])]
    last = log[-1].global_position
    assert list(store.read_all(ReadOptions(from_position=last))) == []
    first = log[0].global_position
    assert list(store.read_all(ReadOptions(direction=BACKWARD, from_position=first))) == []


def test_cursor_naming_no_event_reads_nothing(store: SyncEventStore) -> None:
    """A global cursor names an event; one past the end has no place in the log order.

    (Unlike a stream position, which is a plain number: see read_stream's tests.)
    """
    _fill_log(store, 4)
    beyond = store.get_global_position() + 1000
    assert list(store.read_all(ReadOptions(from_position=beyond))) == []
    assert list(store.read_all(ReadOptions(direction=BACKWARD, from_position=beyond))) == []


def test_cursor_with_filters_and_limit(store: SyncEventStore) -> None:
    _fill_log(store, 8)
    log = list(store.read_all())
    options = ReadOptions(from_position=log[1].global_position, from_timestamp=at(5), limit=2)
    assert _notes(list(store.read_all(options))) == [5, 6]
    options = ReadOptions(
        direction=BACKWARD, from_position=log[6].global_position, to_timestamp=at(4), limit=2
    )
    assert _notes(list(store.read_all(options))) == [4, 3]


def test_tenant_filter(store: SyncEventStore) -> None:
    tenant = uuid4()
    for i in range(6):
        aggregate_id = uuid4()
        event = Happened(
            aggregate_id=aggregate_id, tenant_id=tenant if i % 2 else None, note=str(i)
        )
        store.append_events(aggregate_id, "Order", [event], 0)
    assert _notes(list(store.read_all(ReadOptions(tenant_id=tenant)))) == [1, 3, 5]
    backward = ReadOptions(tenant_id=tenant, direction=BACKWARD, limit=2)
    assert _notes(list(store.read_all(backward))) == [5, 3]
    assert list(store.read_all(ReadOptions(tenant_id=uuid4()))) == []


@pytest.mark.parametrize("chunk", [1, 4, 7, 30])
def test_resume_from_the_last_seen_position(store: SyncEventStore, chunk: int) -> None:
    _fill_log(store, 25)
    full = [(s.event_id, s.global_position) for s in store.read_all()]
    seen: list[tuple[UUID, int]] = []
    last = 0
    while True:
        page = list(store.read_all(ReadOptions(from_position=last, limit=chunk)))
        if not page:
            break
        assert len(page) <= chunk
        seen += [(s.event_id, s.global_position) for s in page]
        last = page[-1].global_position
    assert seen == full
    assert len({event_id for event_id, _ in seen}) == 25


def test_resume_backward_from_the_last_seen_position(store: SyncEventStore) -> None:
    _fill_log(store, 10)
    full = [s.event_id for s in store.read_all(ReadOptions(direction=BACKWARD))]
    seen: list[UUID] = []
    last = 0
    while True:
        options = ReadOptions(direction=BACKWARD, from_position=last, limit=3)
        page = list(store.read_all(options))
        if not page:
            break
        seen += [s.event_id for s in page]
        last = page[-1].global_position
    assert seen == full


def test_resume_sees_later_appends_once(store: SyncEventStore) -> None:
    ids = _fill_log(store, 3)
    first = list(store.read_all())
    store.append_events(ids[0], "Order", happened(ids[0], 2), -1)
    rest = list(store.read_all(ReadOptions(from_position=first[-1].global_position)))
    assert len(rest) == 2
    assert {s.event_id for s in rest}.isdisjoint(s.event_id for s in first)


def test_every_streams_positions_increase_along_the_log(store: SyncEventStore) -> None:
    ids = [uuid4() for _ in range(4)]
    for round_ in range(5):
        for index, aggregate_id in enumerate(ids):
            count = (round_ + index) % 3 + 1
            store.append_events(aggregate_id, "Order", happened(aggregate_id, count), -1)
    by_stream: dict[str, list[int]] = defaultdict(list)
    for stored in store.read_all():
        by_stream[stored.stream_id].append(stored.stream_position)
    assert len(by_stream) == 4
    for positions in by_stream.values():
        assert positions == list(range(1, len(positions) + 1))


def test_stored_event_properties(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), 0)
    event = Renamed(aggregate_id=aggregate_id, name="x")
    result = store.append_events(aggregate_id, "Order", [event], 1)
    stored = list(store.read_all())[-1]
    assert isinstance(stored, StoredEvent)
    assert stored.event_id == event.event_id
    assert stored.event_type == "test.renamed"
    assert stored.aggregate_id == aggregate_id
    assert stored.aggregate_type == "Order"
    assert stored.stream_id == f"{aggregate_id}:Order"
    assert stored.stream_position == 2 == stored.event.aggregate_version
    assert stored.global_position == result.global_position
    assert type(stored.event) is Renamed


def test_stored_at_is_the_time_of_storage_not_occurred_at(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    long_ago = datetime(2001, 2, 3, 4, 5, 6, tzinfo=UTC)
    before = datetime.now(UTC)
    store.append_events(
        aggregate_id, "Order", [Happened(aggregate_id=aggregate_id, occurred_at=long_ago)], 0
    )
    after = datetime.now(UTC)
    (stored,) = store.read_stream(f"{aggregate_id}:Order")
    assert stored.event.occurred_at == long_ago
    assert stored.stored_at.utcoffset() is not None
    # A database clock may differ slightly from ours; a year 2001 value would not.
    slack = timedelta(seconds=5)
    assert before - slack <= stored.stored_at <= after + slack
    (logged,) = store.read_all()
    assert logged.stored_at == stored.stored_at
