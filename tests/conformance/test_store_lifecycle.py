"""Opening, initializing and closing a store (DESIGN sections 1 and 7)."""

from __future__ import annotations

from uuid import uuid4

from sample_events import happened

from eventsource import SyncEventStore


def test_initialize_is_idempotent(store: SyncEventStore) -> None:
    store.initialize()
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 2), 0)
    store.initialize()
    assert store.get_stream_version(aggregate_id, "Order") == 2
    assert len(list(store.read_all())) == 2


def test_entering_returns_the_store(store: SyncEventStore) -> None:
    with store as entered:
        assert entered is store
        aggregate_id = uuid4()
        store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), 0)


def test_close_twice_is_fine(store: SyncEventStore) -> None:
    store.close()
    store.close()


def test_close_after_leaving_the_block_is_fine(store: SyncEventStore) -> None:
    with store:
        pass
    store.close()
