"""`eventsource.raw`: stored events read without their classes, on every sync store."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import attrs
import pytest

from eventsource import (
    DomainEvent,
    EventRegistry,
    EventTypeNotFoundError,
    ReadDirection,
    ReadOptions,
    StoredEvent,
    SyncEventStore,
    SyncInMemoryEventStore,
    SyncPostgreSQLEventStore,
    SyncSQLiteEventStore,
)
from eventsource.raw import RawEvent, read_all_raw, read_stream_raw


@attrs.frozen(kw_only=True)
class Priced(DomainEvent):
    amount: Decimal
    note: str | None = None


@pytest.fixture
def registry() -> EventRegistry:
    registry = EventRegistry()
    registry.register(Priced)
    return registry


@pytest.fixture(
    params=[
        pytest.param("memory"),
        pytest.param("sqlite", marks=pytest.mark.sqlite),
        pytest.param("postgres", marks=pytest.mark.postgres),
    ]
)
def store(
    request: pytest.FixtureRequest, tmp_path: Path, registry: EventRegistry
) -> Iterator[SyncEventStore]:
    """A fresh, empty sync store of each backend."""
    opened: SyncEventStore
    if request.param == "memory":
        opened = SyncInMemoryEventStore(event_registry=registry)
    elif request.param == "sqlite":
        opened = SyncSQLiteEventStore(tmp_path / "events.db", event_registry=registry)
    else:
        url = request.getfixturevalue("pg_url")
        opened = SyncPostgreSQLEventStore.from_url(url, event_registry=registry, min_size=1)
    with opened:
        yield opened


def test_raw_reads_match_the_typed_reads_and_need_no_class(
    store: SyncEventStore, registry: EventRegistry
) -> None:
    first, second = uuid4(), uuid4()
    store.append_events(
        first, "Order", [Priced(aggregate_id=first, amount=Decimal(n)) for n in range(3)], 0
    )
    store.append_events(second, "Order", [Priced(aggregate_id=second, amount=Decimal("1.10"))], 0)
    backward = ReadOptions(direction=ReadDirection.BACKWARD, from_position=3, limit=1)
    typed = {
        "stream": list(store.read_stream(f"{first}:Order", backward)),
        "log": list(store.read_all(ReadOptions(from_position=1))),
    }

    registry.unregister("Priced")  # from now on no class decodes these events
    with pytest.raises(EventTypeNotFoundError):
        list(store.read_all())
    raw = {
        "stream": list(read_stream_raw(store, f"{first}:Order", backward)),
        "log": list(read_all_raw(store, ReadOptions(from_position=1))),
    }

    for name in ("stream", "log"):
        assert list(map(_key, raw[name])) == list(map(_key, typed[name]))
    assert [event.payload for event in raw["log"]] == [
        {"amount": "1", "note": None},
        {"amount": "2", "note": None},
        {"amount": "1.10", "note": None},
    ]
    assert raw["stream"][0].to_json()["event_id"] == str(typed["stream"][0].event_id)


def _key(event: RawEvent | StoredEvent) -> tuple[object, ...]:
    return (
        event.global_position,
        event.stream_id,
        event.stream_position,
        event.event_id,
        event.event_type,
    )


def test_raw_reads_need_an_eventsource_store() -> None:
    with pytest.raises(TypeError, match="raw reads need one of eventsource's sync stores"):
        next(read_all_raw(object()))  # type: ignore[arg-type]
