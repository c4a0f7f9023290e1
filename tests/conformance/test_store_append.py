"""Appends: results, atomic batches, stream checks, empty batches (DESIGN section 3)."""

from __future__ import annotations

from uuid import uuid4

import attrs
import pytest
from checks import log_of, nothing_written
from sample_events import Happened, Measured, happened

from eventsource import (
    AppendResult,
    ExpectedVersion,
    OptimisticLockError,
    SerializationError,
    SyncEventStore,
)


def test_append_returns_new_version_and_last_global_position(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    result = store.append_events(aggregate_id, "Order", happened(aggregate_id, 3), 0)
    assert result == AppendResult(success=True, new_version=3, global_position=3, conflict=False)
    assert [entry[3] for entry in log_of(store)][-1] == result.global_position

    again = store.append_events(aggregate_id, "Order", happened(aggregate_id, 2), 3)
    assert (again.success, again.new_version, again.conflict) == (True, 5, False)
    last = list(store.read_all())[-1]
    assert again.global_position == last.global_position
    assert last.stream_position == 5


def test_versions_start_at_one_and_missing_stream_is_zero(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    assert store.get_stream_version(aggregate_id, "Order") == 0
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 2), ExpectedVersion.NO_STREAM)
    assert store.get_stream_version(aggregate_id, "Order") == 2
    assert [
        event.aggregate_version for event in store.get_events(aggregate_id, "Order").events
    ] == [
        1,
        2,
    ]


def test_a_stream_is_aggregate_id_and_type(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 2), 0)
    store.append_events(aggregate_id, "Invoice", happened(aggregate_id, 1), 0)
    assert store.get_stream_version(aggregate_id, "Order") == 2
    assert store.get_stream_version(aggregate_id, "Invoice") == 1
    assert store.get_stream_version(uuid4(), "Order") == 0


def test_read_back_events_carry_stored_version_and_stream_type(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    events = [
        Happened(aggregate_id=aggregate_id, aggregate_version=99, note="a"),
        Happened(aggregate_id=aggregate_id, aggregate_type="", note="b"),
        Happened(aggregate_id=aggregate_id, aggregate_type="Order", note="c"),
    ]
    store.append_events(aggregate_id, "Order", events, 0)
    read = [e for e in store.get_events(aggregate_id, "Order").events if isinstance(e, Happened)]
    assert [(e.note, e.aggregate_type, e.aggregate_version) for e in read] == [
        ("a", "Order", 1),
        ("b", "Order", 2),
        ("c", "Order", 3),
    ]
    assert [e.event_id for e in read] == [e.event_id for e in events]


def test_events_get_no_version_of_their_own_from_the_caller(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), 0)
    # A caller-set aggregate_version is not a position: the store assigns the next one.
    event = Happened(aggregate_id=aggregate_id, aggregate_version=1)
    result = store.append_events(aggregate_id, "Order", [event], 1)
    assert result.new_version == 2
    assert store.get_events(aggregate_id, "Order", from_version=1).events[0].aggregate_version == 2


@pytest.mark.parametrize(
    "aggregate_type",
    ["", "x" * 256, "a\x00b", "a\ud800b"],
    ids=["empty", "long", "nul", "surrogate"],
)
def test_invalid_stream_type_argument_is_value_error(
    store: SyncEventStore, aggregate_type: str
) -> None:
    aggregate_id = uuid4()
    with nothing_written(store), pytest.raises(ValueError, match="aggregate_type"):
        store.append_events(aggregate_id, aggregate_type, happened(aggregate_id, 1), 0)


def test_longest_stream_type_is_accepted(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    aggregate_type = "T" * 255
    store.append_events(aggregate_id, aggregate_type, happened(aggregate_id, 1), 0)
    assert store.get_stream_version(aggregate_id, aggregate_type) == 1
    assert store.get_events(aggregate_id, aggregate_type).events[0].aggregate_type == (
        aggregate_type
    )


def test_event_of_another_aggregate_is_value_error_nothing_written(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    batch = [*happened(aggregate_id, 2), *happened(uuid4(), 1)]
    with nothing_written(store), pytest.raises(ValueError, match="aggregate_id"):
        store.append_events(aggregate_id, "Order", batch, ExpectedVersion.ANY)
    assert store.get_stream_version(aggregate_id, "Order") == 0


def test_event_of_another_type_is_value_error_nothing_written(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    batch = [*happened(aggregate_id, 2), Happened(aggregate_id=aggregate_id, aggregate_type="X")]
    with nothing_written(store), pytest.raises(ValueError, match="aggregate_type"):
        store.append_events(aggregate_id, "Order", batch, ExpectedVersion.ANY)


def test_batch_is_atomic_when_a_late_event_fails(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), 0)
    batch = [*happened(aggregate_id, 3), Measured(aggregate_id=aggregate_id, value=float("nan"))]
    with nothing_written(store), pytest.raises(SerializationError):
        store.append_events(aggregate_id, "Order", batch, 1)
    assert store.get_stream_version(aggregate_id, "Order") == 1
    assert not any(store.event_exists(event.event_id) for event in batch)


def test_batch_is_stored_contiguously_in_the_stream(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    batch = happened(aggregate_id, 4)
    result = store.append_events(aggregate_id, "Order", batch, 0)
    stored = list(store.read_stream(f"{aggregate_id}:Order"))
    assert [s.event_id for s in stored] == [e.event_id for e in batch]
    assert [s.stream_position for s in stored] == [1, 2, 3, 4]
    positions = [s.global_position for s in stored]
    assert positions == sorted(positions)
    assert len(set(positions)) == 4
    assert positions[-1] == result.global_position


@pytest.mark.parametrize(
    ("existing", "expected_version"),
    [
        (0, ExpectedVersion.NO_STREAM),
        (0, ExpectedVersion.ANY),
        (2, 2),
        (2, ExpectedVersion.STREAM_EXISTS),
        (2, ExpectedVersion.ANY),
    ],
)
def test_empty_batch_writes_nothing_and_returns_current_version(
    store: SyncEventStore, existing: int, expected_version: int
) -> None:
    aggregate_id = uuid4()
    if existing:
        store.append_events(aggregate_id, "Order", happened(aggregate_id, existing), 0)
    with nothing_written(store):
        result = store.append_events(aggregate_id, "Order", [], expected_version)
    assert result.success
    assert not result.conflict
    assert result.new_version == existing
    assert store.get_stream_version(aggregate_id, "Order") == existing


@pytest.mark.parametrize(
    ("existing", "expected_version"),
    [(0, 1), (0, ExpectedVersion.STREAM_EXISTS), (2, 1), (2, 3), (2, ExpectedVersion.NO_STREAM)],
)
def test_empty_batch_still_checks_the_version(
    store: SyncEventStore, existing: int, expected_version: int
) -> None:
    aggregate_id = uuid4()
    if existing:
        store.append_events(aggregate_id, "Order", happened(aggregate_id, existing), 0)
    with nothing_written(store), pytest.raises(OptimisticLockError) as caught:
        store.append_events(aggregate_id, "Order", [], expected_version)
    assert caught.value.actual_version == existing
    assert caught.value.expected_version == expected_version


def test_get_global_position(store: SyncEventStore) -> None:
    assert store.get_global_position() == 0
    first, second = uuid4(), uuid4()
    result = store.append_events(first, "Order", happened(first, 2), 0)
    assert store.get_global_position() == result.global_position
    result = store.append_events(second, "Invoice", happened(second, 1), 0)
    assert store.get_global_position() == result.global_position
    assert store.get_global_position() == list(store.read_all())[-1].global_position


def test_the_input_events_are_not_changed(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    batch = happened(aggregate_id, 2)
    copies = [attrs.evolve(event) for event in batch]
    store.append_events(aggregate_id, "Order", batch, 0)
    assert batch == copies
    assert all(event.aggregate_version == 0 for event in batch)
