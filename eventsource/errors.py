"""The public exceptions. No driver is imported here: driver errors are translated elsewhere."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

__all__ = [
    "DuplicateEventError",
    "DuplicateEventTypeError",
    "EventSourceError",
    "EventTypeNotFoundError",
    "OptimisticLockError",
    "SchemaNotInitializedError",
    "SerializationError",
    "StoreUnavailableError",
]


class EventSourceError(Exception):
    """Base of every error raised by eventsource."""


class OptimisticLockError(EventSourceError):
    """The stream's version is not the one the caller expected; nothing was written."""

    def __init__(
        self, aggregate_id: UUID, aggregate_type: str, expected_version: int, actual_version: int
    ) -> None:
        self.aggregate_id = aggregate_id
        self.aggregate_type = aggregate_type
        self.expected_version = expected_version
        self.actual_version = actual_version
        super().__init__(
            f"stream {aggregate_id}:{aggregate_type} is at version {actual_version}, "
            f"expected {_describe_expected(expected_version)}"
        )

    def __reduce__(self) -> tuple[object, ...]:
        args = (self.aggregate_id, self.aggregate_type, self.expected_version, self.actual_version)
        return (type(self), args)


def _describe_expected(expected_version: int) -> str:
    if expected_version == -2:
        return "an existing stream (STREAM_EXISTS)"
    if expected_version == 0:
        return "no stream (NO_STREAM)"
    return f"version {expected_version}"


class DuplicateEventError(EventSourceError):
    """Some ids of a batch are already stored (or repeat in the batch); nothing was written."""

    def __init__(self, event_ids: Iterable[UUID], detail: str = "") -> None:
        self.event_ids: tuple[UUID, ...] = tuple(event_ids)
        self.detail = detail
        ids = ", ".join(str(event_id) for event_id in self.event_ids)
        super().__init__(f"duplicate event ids: {ids}" + (f" ({detail})" if detail else ""))

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.event_ids, self.detail))


class EventTypeNotFoundError(EventSourceError, KeyError):
    """No event class is registered under this name (or this class has no name here)."""

    def __init__(self, event_type: str, known: Iterable[str] = ()) -> None:
        self.event_type = event_type
        self.known: tuple[str, ...] = tuple(sorted(known))
        self.message = f"event type {event_type!r} is not registered; known types: " + (
            ", ".join(self.known) if self.known else "(none)"
        )
        super().__init__(self.message)

    def __str__(self) -> str:  # KeyError would quote the message
        return self.message

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.event_type, self.known))


class DuplicateEventTypeError(EventSourceError):
    """Another class is already registered under this event type name."""

    def __init__(self, event_type: str, existing: type, new: type) -> None:
        self.event_type = event_type
        self.existing = existing
        self.new = new
        super().__init__(
            f"event type {event_type!r} is already registered to "
            f"{existing.__module__}.{existing.__qualname__}; "
            f"cannot register {new.__module__}.{new.__qualname__} under the same name"
        )

    def __reduce__(self) -> tuple[object, ...]:
        return (type(self), (self.event_type, self.existing, self.new))


class SerializationError(EventSourceError):
    """An event (or its metadata) holds a value that cannot be stored and read back exactly."""


class StoreUnavailableError(EventSourceError):
    """The store could not be reached (connection, pool or server trouble). Safe to retry."""


class SchemaNotInitializedError(EventSourceError):
    """The store's tables do not exist yet."""
