"""`list_streams`, `get_stats` and the closed-store rule, on every store (DESIGN sections 1, 7)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from uuid import uuid4

import pytest
from sample_events import Happened, Renamed, happened

from eventsource import (
    ReadOptions,
    StoreStats,
    StoreUnavailableError,
    StreamInfo,
    SyncEventStore,
)


def test_empty_store_lists_nothing(store: SyncEventStore) -> None:
    assert store.list_streams() == []
    assert store.get_stats() == StoreStats(
        events_by_type={}, events_by_tenant={}, stream_count=0, head_position=0
    )


def test_list_streams_oldest_first_with_version_and_last_position(store: SyncEventStore) -> None:
    first, second = uuid4(), uuid4()
    store.append_events(first, "Order", happened(first, 2), 0)
    store.append_events(second, "Invoice", happened(second, 1), 0)
    # The same id with another type is another stream, younger than both.
    store.append_events(first, "Invoice", happened(first, 1), 0)
    last = store.append_events(first, "Order", happened(first, 1), 2)
    streams = store.list_streams()
    assert [(info.stream_id, info.version) for info in streams] == [
        (f"{first}:Order", 3),
        (f"{second}:Invoice", 1),
        (f"{first}:Invoice", 1),
    ]
    assert streams[0].last_position == last.global_position
    assert streams[1].last_position < streams[2].last_position < last.global_position


def test_list_streams_limit(store: SyncEventStore) -> None:
    ids = [uuid4() for _ in range(3)]
    for aggregate_id in ids:
        store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), 0)
    assert [info.stream_id for info in store.list_streams(limit=2)] == [
        f"{aggregate_id}:Order" for aggregate_id in ids[:2]
    ]
    assert store.list_streams(limit=0) == []
    assert all(isinstance(info, StreamInfo) for info in store.list_streams(limit=10))


@pytest.mark.parametrize(
    ("limit", "error"), [(-1, ValueError), ("2", TypeError), (True, TypeError)]
)
def test_list_streams_refuses_a_bad_limit(
    store: SyncEventStore, limit: Any, error: type[Exception]
) -> None:
    with pytest.raises(error, match="limit"):
        store.list_streams(limit=limit)


def test_stats_count_by_type_and_tenant(store: SyncEventStore) -> None:
    tenant, other_tenant = uuid4(), uuid4()
    first, second = uuid4(), uuid4()
    store.append_events(
        first,
        "Order",
        [
            Happened(aggregate_id=first, tenant_id=tenant),
            Happened(aggregate_id=first),
            Renamed(aggregate_id=first, name="x", tenant_id=other_tenant),
        ],
        0,
    )
    last = store.append_events(second, "Invoice", happened(second, 2, tenant_id=tenant), 0)
    stats = store.get_stats()
    assert stats == StoreStats(
        events_by_type={"Happened": 4, "test.renamed": 1},
        # Tenants are counted by their text, the same on every backend.
        events_by_tenant={None: 1, str(tenant): 3, str(other_tenant): 1},
        stream_count=2,
        head_position=last.global_position,
    )
    assert stats.event_count == 5
    assert stats.head_position == store.get_global_position()


# -- closed stores -----------------------------------------------------------------------------

CALLS: dict[str, Callable[[SyncEventStore], object]] = {
    "append_events": lambda s: s.append_events(uuid4(), "Order", [], -1),
    "get_events": lambda s: s.get_events(uuid4(), "Order"),
    "get_events_by_type": lambda s: s.get_events_by_type("Order"),
    "event_exists": lambda s: s.event_exists(uuid4()),
    "get_stream_version": lambda s: s.get_stream_version(uuid4(), "Order"),
    "read_stream": lambda s: list(s.read_stream(f"{uuid4()}:Order")),
    "read_all": lambda s: list(s.read_all(ReadOptions(limit=1))),
    "get_global_position": lambda s: s.get_global_position(),
    "initialize": lambda s: s.initialize(),
    "list_streams": lambda s: s.list_streams(),
    "get_stats": lambda s: s.get_stats(),
}


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_closed_store_refuses_every_call(
    store: SyncEventStore, call: Callable[[SyncEventStore], object]
) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), 0)
    store.close()
    with pytest.raises(StoreUnavailableError, match="closed"):
        call(store)
    store.close()  # closing again is fine
    with pytest.raises(StoreUnavailableError, match="closed"):
        call(store)


def test_leaving_the_block_closes_the_store(store: SyncEventStore) -> None:
    with store:
        store.get_global_position()
    with pytest.raises(StoreUnavailableError, match="closed"):
        store.get_global_position()


def test_a_read_under_way_stops_at_its_next_page(sync_store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    sync_store.append_events(aggregate_id, "Order", happened(aggregate_id, 600), 0)
    readers = [sync_store.read_all(), sync_store.read_stream(f"{aggregate_id}:Order")]
    for reader in readers:
        next(reader)  # the first page is fetched
    sync_store.close()
    for reader in readers:
        with pytest.raises(StoreUnavailableError, match="closed"):
            list(reader)  # the rest of the first page, then the second page is refused
