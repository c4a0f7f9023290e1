"""The in-memory stores' test helpers: `clear`, `get_all_events`, `get_event_count`."""

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from facade import AsyncStoreFacade
from sample_events import happened

from eventsource import StoreUnavailableError


def test_helpers_are_plain_calls(memory_store: Any) -> None:
    # On the async store too they are not awaited: the facade passes them straight through.
    inner: Any = memory_store.store if isinstance(memory_store, AsyncStoreFacade) else memory_store
    assert isinstance(inner.get_event_count(), int)
    assert isinstance(inner.get_all_events(), list)
    assert inner.clear() is None


def test_get_all_events_and_count(memory_store: Any) -> None:
    first, second = uuid4(), uuid4()
    assert memory_store.get_event_count() == 0
    assert memory_store.get_all_events() == []
    a = happened(first, 2)
    b = happened(second, 1)
    memory_store.append_events(first, "Order", a[:1], 0)
    memory_store.append_events(second, "Invoice", b, 0)
    memory_store.append_events(first, "Order", a[1:], 1)
    events = memory_store.get_all_events()
    assert [e.event_id for e in events] == [a[0].event_id, b[0].event_id, a[1].event_id]
    assert [(e.aggregate_type, e.aggregate_version) for e in events] == [
        ("Order", 1),
        ("Invoice", 1),
        ("Order", 2),
    ]
    assert memory_store.get_event_count() == 3


def test_clear_forgets_everything(memory_store: Any) -> None:
    aggregate_id = uuid4()
    batch = happened(aggregate_id, 2)
    memory_store.append_events(aggregate_id, "Order", batch, 0)
    memory_store.clear()
    assert memory_store.get_event_count() == 0
    assert memory_store.get_global_position() == 0
    assert memory_store.get_stream_version(aggregate_id, "Order") == 0
    assert not memory_store.event_exists(batch[0].event_id)
    assert list(memory_store.read_all()) == []
    assert list(memory_store.read_stream(str(aggregate_id))) == []
    # The same events can be appended again, positions restarting from 1.
    result = memory_store.append_events(aggregate_id, "Order", batch, 0)
    assert (result.new_version, result.global_position) == (2, 2)


@pytest.mark.parametrize("helper", ["clear", "get_all_events", "get_event_count"])
def test_helpers_of_a_closed_store_refuse(memory_store: Any, helper: str) -> None:
    memory_store.close()
    with pytest.raises(StoreUnavailableError, match="closed"):
        getattr(memory_store, helper)()


def test_admin_calls_see_the_helpers_changes(memory_store: Any) -> None:
    aggregate_id = uuid4()
    memory_store.append_events(aggregate_id, "Order", happened(aggregate_id, 2), 0)
    assert memory_store.get_stats().stream_count == 1
    memory_store.clear()
    assert memory_store.list_streams() == []
    assert memory_store.get_stats().head_position == 0
