"""The public exceptions: hierarchy, the data they carry, their messages, pickling."""

from __future__ import annotations

import pickle
from uuid import uuid4

import attrs
import pytest

from eventsource import (
    DomainEvent,
    DuplicateEventError,
    DuplicateEventTypeError,
    EventSourceError,
    EventTypeNotFoundError,
    OptimisticLockError,
    SchemaNotInitializedError,
    SerializationError,
    StoreUnavailableError,
)


@attrs.frozen(kw_only=True)
class First(DomainEvent):
    pass


@attrs.frozen(kw_only=True)
class Second(DomainEvent):
    pass


@pytest.mark.parametrize(
    "cls",
    [
        OptimisticLockError,
        DuplicateEventError,
        EventTypeNotFoundError,
        DuplicateEventTypeError,
        SerializationError,
        StoreUnavailableError,
        SchemaNotInitializedError,
    ],
)
def test_every_error_is_an_event_source_error(cls: type[Exception]) -> None:
    assert issubclass(cls, EventSourceError)
    assert issubclass(EventSourceError, Exception)


@pytest.mark.parametrize(
    ("expected_version", "described"),
    [(5, "expected version 5"), (0, "NO_STREAM"), (-2, "STREAM_EXISTS")],
)
def test_optimistic_lock_error(expected_version: int, described: str) -> None:
    aggregate_id = uuid4()
    error = OptimisticLockError(aggregate_id, "Order", expected_version, 3)
    assert error.aggregate_id == aggregate_id
    assert error.aggregate_type == "Order"
    assert error.expected_version == expected_version
    assert error.actual_version == 3
    message = str(error)
    assert f"{aggregate_id}:Order" in message
    assert "version 3" in message
    assert described in message


def test_duplicate_event_error() -> None:
    ids = [uuid4(), uuid4()]
    error = DuplicateEventError(iter(ids), "already stored")
    assert error.event_ids == tuple(ids)
    assert isinstance(error.event_ids, tuple)
    assert all(str(event_id) in str(error) for event_id in ids)
    assert "already stored" in str(error)
    assert DuplicateEventError(ids).detail == ""


def test_event_type_not_found_error() -> None:
    error = EventTypeNotFoundError("Missing", ["b", "a"])
    assert error.event_type == "Missing"
    assert error.known == ("a", "b")
    assert str(error) == "event type 'Missing' is not registered; known types: a, b"
    assert isinstance(error, KeyError)
    assert "(none)" in str(EventTypeNotFoundError("Missing"))


def test_duplicate_event_type_error() -> None:
    error = DuplicateEventTypeError("Name", First, Second)
    assert (error.event_type, error.existing, error.new) == ("Name", First, Second)
    assert "'Name'" in str(error)
    assert "First" in str(error)
    assert "Second" in str(error)


@pytest.mark.parametrize(
    "error",
    [
        OptimisticLockError(uuid4(), "Order", 2, 3),
        DuplicateEventError([uuid4()], "detail"),
        EventTypeNotFoundError("Missing", ["a"]),
        DuplicateEventTypeError("Name", First, Second),
        SerializationError("cannot"),
        StoreUnavailableError("down"),
        SchemaNotInitializedError("no tables"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_survive_pickling(error: EventSourceError) -> None:
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert vars(copy) == vars(error)
