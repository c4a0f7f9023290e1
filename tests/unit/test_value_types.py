"""The value types: `ReadOptions`, `AppendResult`, `EventStream`, `StoredEvent`, constants."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import uuid4

import attrs
import pytest

from eventsource import (
    AppendResult,
    DomainEvent,
    EventStream,
    ExpectedVersion,
    ReadDirection,
    ReadOptions,
    StoredEvent,
)


@attrs.frozen(kw_only=True)
class Noted(DomainEvent):
    note: str = ""


def test_expected_version_constants() -> None:
    assert ExpectedVersion.ANY == -1
    assert ExpectedVersion.NO_STREAM == 0
    assert ExpectedVersion.STREAM_EXISTS == -2


def test_read_direction_members() -> None:
    assert [d.name for d in ReadDirection] == ["FORWARD", "BACKWARD"]


def test_read_options_defaults() -> None:
    options = ReadOptions()
    assert options.direction is ReadDirection.FORWARD
    assert options.from_position == 0
    assert options.limit is None
    assert options.from_timestamp is None
    assert options.to_timestamp is None
    assert options.tenant_id is None


def test_read_options_accepts_valid_values() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    tenant = uuid4()
    options = ReadOptions(
        direction=ReadDirection.BACKWARD,
        from_position=5,
        limit=0,
        from_timestamp=moment,
        to_timestamp=moment,
        tenant_id=tenant,
    )
    assert (options.from_position, options.limit, options.tenant_id) == (5, 0, tenant)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"limit": -1}, ValueError),
        ({"from_position": -1}, ValueError),
        ({"from_timestamp": datetime(2024, 1, 1)}, ValueError),
        ({"to_timestamp": datetime(2024, 1, 1)}, ValueError),
        ({"limit": 1.5}, TypeError),
        ({"limit": True}, TypeError),
        ({"from_position": "3"}, TypeError),
        ({"direction": "forward"}, TypeError),
        ({"tenant_id": "not-a-uuid"}, TypeError),
        ({"from_timestamp": "2024-01-01T00:00:00+00:00"}, TypeError),
    ],
    ids=repr,
)
def test_read_options_rejects_invalid_values_at_construction(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        ReadOptions(**kwargs)


def test_read_options_is_keyword_only_and_immutable() -> None:
    with pytest.raises(TypeError):
        ReadOptions(ReadDirection.BACKWARD)  # type: ignore[call-arg]
    options = ReadOptions()
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        options.limit = 3  # type: ignore[misc]
    assert attrs.evolve(options, limit=3).limit == 3
    with pytest.raises(ValueError, match="limit"):
        attrs.evolve(options, limit=-3)


def test_append_result_constructors() -> None:
    ok = AppendResult.successful(3, 42)
    assert (ok.success, ok.new_version, ok.global_position, ok.conflict) == (True, 3, 42, False)
    assert AppendResult.successful(1).global_position == 0
    conflict = AppendResult.conflicted(7)
    assert (conflict.success, conflict.new_version, conflict.conflict) == (False, 7, True)
    assert conflict.global_position == 0
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        ok.success = False  # type: ignore[misc]
    assert ok == AppendResult(success=True, new_version=3, global_position=42)


def test_event_stream_helpers() -> None:
    aggregate_id = uuid4()
    empty = EventStream.empty(aggregate_id, "Order")
    assert (empty.aggregate_id, empty.aggregate_type, empty.version) == (aggregate_id, "Order", 0)
    assert empty.is_empty
    assert empty.latest_event is None
    assert len(empty) == 0
    events = [Noted(aggregate_id=aggregate_id, note=str(i)) for i in range(3)]
    stream = EventStream(
        aggregate_id=aggregate_id, aggregate_type="Order", events=events, version=3
    )
    assert not stream.is_empty
    assert stream.latest_event is events[-1]
    assert len(stream) == 3
    assert EventStream.empty(aggregate_id, None).aggregate_type is None


def test_event_stream_is_immutable() -> None:
    aggregate_id = uuid4()
    events = [Noted(aggregate_id=aggregate_id)]
    stream = EventStream(
        aggregate_id=aggregate_id, aggregate_type="Order", events=events, version=1
    )
    events.append(Noted(aggregate_id=aggregate_id))  # the caller's list is not shared
    assert len(stream) == 1
    assert isinstance(stream.events, tuple)
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stream.version = 2  # type: ignore[misc]


def test_stored_event_properties() -> None:
    aggregate_id = uuid4()
    event = Noted(aggregate_id=aggregate_id, aggregate_type="Order", aggregate_version=2)
    stored_at = datetime.now(UTC)
    stored = StoredEvent(
        event=event,
        stream_id=f"{aggregate_id}:Order",
        stream_position=2,
        global_position=10,
        stored_at=stored_at,
    )
    assert stored.event_id == event.event_id
    assert stored.event_type == "Noted"
    assert stored.aggregate_id == aggregate_id
    assert stored.aggregate_type == "Order"
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        stored.global_position = 11  # type: ignore[misc]
