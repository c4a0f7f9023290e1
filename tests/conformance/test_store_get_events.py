"""`get_events`, `get_events_by_type`, `get_stream_version` (DESIGN section 4)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import pytest
from sample_events import PLUS_TWO, T0, Happened, at

from eventsource import DomainEvent, EventStream, SyncEventStore


def _timed(
    store: SyncEventStore, aggregate_id: UUID, aggregate_type: str, *seconds: float
) -> list[Happened]:
    """Append one event per offset (occurred_at = T0 + offset), noted by its offset."""
    events = [
        Happened(aggregate_id=aggregate_id, occurred_at=at(s), note=f"{aggregate_type}@{s:g}")
        for s in seconds
    ]
    store.append_events(aggregate_id, aggregate_type, events, -1)
    return events


def _notes(stream: EventStream | Sequence[DomainEvent]) -> list[str]:
    events = stream.events if isinstance(stream, EventStream) else stream
    notes = []
    for event in events:
        assert isinstance(event, Happened)
        notes.append(event.note)
    return notes


def test_events_in_version_order(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    # occurred_at deliberately out of order: versions, not times, order a stream.
    _timed(store, aggregate_id, "Order", 30, 10, 20)
    stream = store.get_events(aggregate_id, "Order")
    assert _notes(stream) == ["Order@30", "Order@10", "Order@20"]
    assert [e.aggregate_version for e in stream.events] == [1, 2, 3]
    assert (stream.aggregate_id, stream.aggregate_type, stream.version) == (
        aggregate_id,
        "Order",
        3,
    )


def test_missing_stream_is_empty_at_version_zero(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    stream = store.get_events(aggregate_id, "Order")
    assert stream.is_empty
    assert stream.version == 0
    assert (stream.aggregate_id, stream.aggregate_type) == (aggregate_id, "Order")


@pytest.mark.parametrize(("from_version", "expected"), [(0, [1, 2, 3]), (1, [2, 3]), (3, [])])
def test_from_version_is_exclusive_and_version_stays_current(
    store: SyncEventStore, from_version: int, expected: list[int]
) -> None:
    aggregate_id = uuid4()
    _timed(store, aggregate_id, "Order", 1, 2, 3)
    stream = store.get_events(aggregate_id, "Order", from_version=from_version)
    assert [e.aggregate_version for e in stream.events] == expected
    assert stream.version == 3


def test_timestamps_are_inclusive_on_occurred_at(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    _timed(store, aggregate_id, "Order", 10, 20, 30, 40)
    stream = store.get_events(aggregate_id, "Order", from_timestamp=at(20), to_timestamp=at(30))
    assert _notes(stream) == ["Order@20", "Order@30"]
    assert _notes(store.get_events(aggregate_id, "Order", from_timestamp=at(20))) == [
        "Order@20",
        "Order@30",
        "Order@40",
    ]
    assert _notes(store.get_events(aggregate_id, "Order", to_timestamp=at(20))) == [
        "Order@10",
        "Order@20",
    ]


def test_timestamp_bounds_compare_instants_across_offsets(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    _timed(store, aggregate_id, "Order", 10, 20, 30)
    # 14:00:20+02:00 is the same instant as T0 + 20 s (12:00:20 UTC).
    bound = at(20).astimezone(PLUS_TWO)
    assert _notes(store.get_events(aggregate_id, "Order", from_timestamp=bound)) == [
        "Order@20",
        "Order@30",
    ]


def test_version_is_as_of_to_timestamp_whatever_the_lower_bounds(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    _timed(store, aggregate_id, "Order", 10, 20, 30, 40)
    assert store.get_events(aggregate_id, "Order", to_timestamp=at(25)).version == 2
    lower_bounded = store.get_events(
        aggregate_id, "Order", from_version=2, from_timestamp=at(15), to_timestamp=at(25)
    )
    assert lower_bounded.is_empty
    assert lower_bounded.version == 2
    assert store.get_events(aggregate_id, "Order", from_timestamp=at(35)).version == 4
    assert store.get_events(aggregate_id, "Order", from_version=4).version == 4
    assert store.get_events(aggregate_id, "Order", to_timestamp=at(5)).version == 0


def test_naive_timestamps_are_value_errors(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    _timed(store, aggregate_id, "Order", 1)
    naive = datetime(2024, 1, 1)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.get_events(aggregate_id, "Order", from_timestamp=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        store.get_events(aggregate_id, "Order", to_timestamp=naive)


def test_no_type_reads_every_stream_of_the_id(store: SyncEventStore) -> None:
    aggregate_id, other_id = uuid4(), uuid4()
    _timed(store, aggregate_id, "Order", 1, 2, 3)
    _timed(store, aggregate_id, "Invoice", 4)
    _timed(store, other_id, "Order", 5)
    _timed(store, aggregate_id, "Order", 6)
    stream = store.get_events(aggregate_id)
    assert stream.aggregate_type is None
    assert sorted(_notes(stream)) == sorted(
        ["Order@1", "Order@2", "Order@3", "Invoice@4", "Order@6"]
    )
    for aggregate_type in ("Order", "Invoice"):
        mine = [e for e in stream.events if e.aggregate_type == aggregate_type]
        assert [e.aggregate_version for e in mine] == list(range(1, len(mine) + 1))
    assert stream.version == 4  # the highest stream position returned


@pytest.mark.parametrize(
    ("kwargs", "expected_version"),
    [
        ({}, 3),
        ({"from_version": 1}, 3),
        ({"from_version": 3}, 0),
        ({"to_timestamp": at(1.5)}, 1),
        ({"from_timestamp": at(10)}, 1),
    ],
)
def test_no_type_version_is_the_highest_returned(
    store: SyncEventStore, kwargs: dict[str, object], expected_version: int
) -> None:
    aggregate_id = uuid4()
    _timed(store, aggregate_id, "Order", 1, 2, 3)
    _timed(store, aggregate_id, "Invoice", 10)
    stream = store.get_events(aggregate_id, None, **kwargs)  # type: ignore[arg-type]
    assert stream.version == max((e.aggregate_version for e in stream.events), default=0)
    assert stream.version == expected_version


def test_get_stream_version(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    assert store.get_stream_version(aggregate_id, "Order") == 0
    _timed(store, aggregate_id, "Order", 1, 2)
    _timed(store, aggregate_id, "Invoice", 1)
    assert store.get_stream_version(aggregate_id, "Order") == 2
    assert store.get_stream_version(aggregate_id, "Invoice") == 1
    assert store.get_stream_version(aggregate_id, "Other") == 0


# -- get_events_by_type ------------------------------------------------------------------------


def test_by_type_orders_by_occurred_at_then_log_order(store: SyncEventStore) -> None:
    first, second = uuid4(), uuid4()
    _timed(store, first, "Order", 30, 10)
    _timed(store, second, "Order", 20, 10)
    _timed(store, uuid4(), "Invoice", 0)
    # An instant between 10 and 20 s, written with another offset.
    halfway = Happened(aggregate_id=first, occurred_at=at(15).astimezone(PLUS_TWO), note="+2@15")
    store.append_events(first, "Order", [halfway], 2)
    notes = _notes(store.get_events_by_type("Order"))
    assert notes == ["Order@10", "Order@10", "+2@15", "Order@20", "Order@30"]
    by_type = store.get_events_by_type("Order")
    # Equal times keep the log order: the first stream's event was appended first.
    assert [e.aggregate_id for e in by_type[:2]] == [first, second]
    assert all(e.aggregate_type == "Order" for e in by_type)


def test_by_type_filters_by_tenant(store: SyncEventStore) -> None:
    tenant_a, tenant_b = uuid4(), uuid4()
    ids = [uuid4() for _ in range(3)]
    store.append_events(ids[0], "Order", [Happened(aggregate_id=ids[0], tenant_id=tenant_a)], 0)
    store.append_events(ids[1], "Order", [Happened(aggregate_id=ids[1], tenant_id=tenant_b)], 0)
    store.append_events(ids[2], "Order", [Happened(aggregate_id=ids[2])], 0)
    store.append_events(ids[0], "Invoice", [Happened(aggregate_id=ids[0], tenant_id=tenant_a)], 0)
    assert [e.aggregate_id for e in store.get_events_by_type("Order", tenant_id=tenant_a)] == [
        ids[0]
    ]
    assert [e.tenant_id for e in store.get_events_by_type("Order", tenant_b)] == [tenant_b]
    assert len(store.get_events_by_type("Order")) == 3
    assert store.get_events_by_type("Order", tenant_id=uuid4()) == []


@pytest.mark.parametrize(
    "since",
    [at(20), at(20).astimezone(PLUS_TWO), at(20).timestamp(), int(at(20).timestamp())],
    ids=["datetime", "datetime+02:00", "epoch-float", "epoch-int"],
)
def test_by_type_from_timestamp_is_strictly_after(
    store: SyncEventStore, since: datetime | float
) -> None:
    aggregate_id = uuid4()
    _timed(store, aggregate_id, "Order", 10, 20, 20.5, 30)
    assert _notes(store.get_events_by_type("Order", from_timestamp=since)) == [
        "Order@20.5",
        "Order@30",
    ]


def test_by_type_from_timestamp_naive_is_value_error(store: SyncEventStore) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        store.get_events_by_type("Order", from_timestamp=datetime(2024, 1, 1))


def test_by_type_of_unknown_type_is_empty(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    _timed(store, aggregate_id, "Order", 1)
    assert store.get_events_by_type("Nothing") == []
    assert store.get_events_by_type("Order", from_timestamp=T0 + timedelta(days=1)) == []


@pytest.mark.parametrize("aggregate_type", ["", "x" * 256, "a\x00b", "a\ud800b"])
def test_invalid_type_arguments_of_readers_are_value_errors(
    store: SyncEventStore, aggregate_type: str
) -> None:
    aggregate_id = uuid4()
    with pytest.raises(ValueError, match="aggregate_type"):
        store.get_events(aggregate_id, aggregate_type)
    with pytest.raises(ValueError, match="aggregate_type"):
        store.get_stream_version(aggregate_id, aggregate_type)
    with pytest.raises(ValueError, match="aggregate_type"):
        store.get_events_by_type(aggregate_type)
