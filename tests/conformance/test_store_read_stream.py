"""`read_stream` and the `ReadOptions` it takes (DESIGN sections 4 and 7)."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest
from sample_events import Happened, at, happened

from eventsource import ReadDirection, ReadOptions, StoredEvent, SyncEventStore

BACKWARD = ReadDirection.BACKWARD


def _positions(stored: list[StoredEvent]) -> list[int]:
    return [s.stream_position for s in stored]


def _fill(
    store: SyncEventStore, aggregate_id: UUID, count: int, aggregate_type: str = "Order"
) -> None:
    """`count` events, one second apart from T0, interleaved with another stream's."""
    for i in range(count):
        store.append_events(
            aggregate_id,
            aggregate_type,
            [Happened(aggregate_id=aggregate_id, occurred_at=at(i + 1), note=str(i + 1))],
            i,
        )
        noise = uuid4()
        store.append_events(noise, aggregate_type, happened(noise, 1), 0)


def test_reads_one_stream_in_order(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    _fill(store, aggregate_id, 5)
    store.append_events(aggregate_id, "Invoice", happened(aggregate_id, 2), 0)
    stored = list(store.read_stream(f"{aggregate_id}:Order"))
    assert _positions(stored) == [1, 2, 3, 4, 5]
    assert {s.stream_id for s in stored} == {f"{aggregate_id}:Order"}
    positions = [s.global_position for s in stored]
    assert positions == sorted(positions)
    assert [s.event.note for s in stored] == ["1", "2", "3", "4", "5"]  # type: ignore[attr-defined]


def test_missing_stream_reads_nothing(store: SyncEventStore) -> None:
    assert list(store.read_stream(f"{uuid4()}:Order")) == []
    assert list(store.read_stream(str(uuid4()))) == []


def test_bare_id_reads_every_type_with_real_stream_ids(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 2), 0)
    other = uuid4()
    store.append_events(other, "Order", happened(other, 1), 0)
    store.append_events(aggregate_id, "Invoice", happened(aggregate_id, 1), 0)
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), 2)
    stored = list(store.read_stream(str(aggregate_id)))
    assert [(s.stream_id, s.stream_position) for s in stored] == [
        (f"{aggregate_id}:Order", 1),
        (f"{aggregate_id}:Order", 2),
        (f"{aggregate_id}:Invoice", 1),
        (f"{aggregate_id}:Order", 3),
    ]
    assert [s.aggregate_type for s in stored] == ["Order", "Order", "Invoice", "Order"]


@pytest.mark.parametrize(
    "stream_id",
    ["", "not-a-uuid", "not-a-uuid:Order", "{id}:", ":Order", "{id}x:Order", "{id}:" + "x" * 256],
    ids=["empty", "garbage", "garbage-id", "empty-type", "no-id", "bad-id", "type-too-long"],
)
def test_malformed_stream_id_is_value_error(store: SyncEventStore, stream_id: str) -> None:
    with pytest.raises(ValueError, match="stream id"):
        list(store.read_stream(stream_id.format(id=uuid4())))


def test_type_may_contain_colons(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "billing:Invoice", happened(aggregate_id, 2), 0)
    store.append_events(aggregate_id, "billing", happened(aggregate_id, 1), 0)
    stored = list(store.read_stream(f"{aggregate_id}:billing:Invoice"))
    assert _positions(stored) == [1, 2]
    assert {s.stream_id for s in stored} == {f"{aggregate_id}:billing:Invoice"}
    assert {s.aggregate_type for s in stored} == {"billing:Invoice"}
    assert len(list(store.read_stream(f"{aggregate_id}:billing"))) == 1
    assert store.get_stream_version(aggregate_id, "billing:Invoice") == 2


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (ReadOptions(), [1, 2, 3, 4, 5]),
        (ReadOptions(from_position=2), [3, 4, 5]),
        (ReadOptions(from_position=5), []),
        (ReadOptions(from_position=99), []),
        (ReadOptions(limit=2), [1, 2]),
        (ReadOptions(from_position=1, limit=2), [2, 3]),
        (ReadOptions(limit=0), []),
        (ReadOptions(limit=99), [1, 2, 3, 4, 5]),
        (ReadOptions(direction=BACKWARD), [5, 4, 3, 2, 1]),
        (ReadOptions(direction=BACKWARD, from_position=4), [3, 2, 1]),
        (ReadOptions(direction=BACKWARD, from_position=1), []),
        (ReadOptions(direction=BACKWARD, from_position=99), [5, 4, 3, 2, 1]),
        (ReadOptions(direction=BACKWARD, limit=2), [5, 4]),
        (ReadOptions(direction=BACKWARD, from_position=4, limit=2), [3, 2]),
        (ReadOptions(direction=BACKWARD, limit=0), []),
    ],
    ids=str,
)
def test_cursor_direction_and_limit(
    store: SyncEventStore, options: ReadOptions, expected: list[int]
) -> None:
    aggregate_id = uuid4()
    _fill(store, aggregate_id, 5)
    assert _positions(list(store.read_stream(f"{aggregate_id}:Order", options))) == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        (ReadOptions(from_timestamp=at(2), to_timestamp=at(4)), [2, 3, 4]),
        (ReadOptions(from_timestamp=at(2), limit=2), [2, 3]),
        (ReadOptions(to_timestamp=at(4), direction=BACKWARD, limit=2), [4, 3]),
        (ReadOptions(from_timestamp=at(2), direction=BACKWARD, from_position=4), [3, 2]),
        (ReadOptions(from_timestamp=at(2), from_position=3, limit=1), [4]),
    ],
    ids=str,
)
def test_filters_then_direction_then_limit(
    store: SyncEventStore, options: ReadOptions, expected: list[int]
) -> None:
    aggregate_id = uuid4()
    _fill(store, aggregate_id, 5)
    assert _positions(list(store.read_stream(f"{aggregate_id}:Order", options))) == expected


@pytest.mark.parametrize("direction", list(ReadDirection))
def test_tenant_filter(store: SyncEventStore, direction: ReadDirection) -> None:
    aggregate_id, tenant, other_tenant = uuid4(), uuid4(), uuid4()
    tenants = [tenant, other_tenant, None, tenant, tenant]
    events = [Happened(aggregate_id=aggregate_id, tenant_id=t) for t in tenants]
    store.append_events(aggregate_id, "Order", events, 0)
    options = ReadOptions(tenant_id=tenant, direction=direction, limit=2)
    stored = list(store.read_stream(f"{aggregate_id}:Order", options))
    expected = [1, 4] if direction is ReadDirection.FORWARD else [5, 4]
    assert _positions(stored) == expected
    assert {s.event.tenant_id for s in stored} == {tenant}
    everything = ReadOptions(tenant_id=tenant)
    assert _positions(list(store.read_stream(str(aggregate_id), everything))) == [1, 4, 5]


def test_long_stream_is_read_whole(store: SyncEventStore) -> None:
    # Longer than a page of any backend we know (the readers page internally).
    aggregate_id = uuid4()
    for start in range(0, 1200, 400):
        store.append_events(aggregate_id, "Order", happened(aggregate_id, 400), start)
    assert _positions(list(store.read_stream(f"{aggregate_id}:Order"))) == list(range(1, 1201))
    backward = ReadOptions(direction=BACKWARD, from_position=1100, limit=600)
    assert _positions(list(store.read_stream(f"{aggregate_id}:Order", backward))) == list(
        range(1099, 499, -1)
    )


@pytest.mark.parametrize("direction", list(ReadDirection))
def test_bare_id_over_several_types_spans_pages(
    store: SyncEventStore, direction: ReadDirection
) -> None:
    # More events than one page holds, the id's two streams interleaved in the log: pages
    # continue in log order across the streams, whatever the direction.
    aggregate_id = uuid4()
    expected: list[tuple[str, int]] = []
    for batch in range(8):
        aggregate_type = ("Order", "Invoice")[batch % 2]
        store.append_events(aggregate_id, aggregate_type, happened(aggregate_id, 100), -1)
        version = batch // 2 * 100
        expected += [(f"{aggregate_id}:{aggregate_type}", version + n) for n in range(1, 101)]
    if direction is BACKWARD:
        expected.reverse()
    stored = list(store.read_stream(str(aggregate_id), ReadOptions(direction=direction)))
    assert [(s.stream_id, s.stream_position) for s in stored] == expected
    positions = [s.global_position for s in stored]
    assert positions == sorted(positions, reverse=direction is BACKWARD)
