"""The value types of the store's API: streams, results, stored events, read options."""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, Final
from uuid import UUID

import attrs

from ._core.validation import check_aware, check_optional_uuid

if TYPE_CHECKING:
    from .events import DomainEvent

__all__ = [
    "AppendResult",
    "EventStream",
    "ExpectedVersion",
    "ReadDirection",
    "ReadOptions",
    "StoreStats",
    "StoredEvent",
    "StreamInfo",
]


class ExpectedVersion:
    """Special values of `expected_version`; any int >= 0 is an exact version."""

    ANY: Final = -1
    """Skip the version check."""
    NO_STREAM: Final = 0
    """The stream must not exist yet."""
    STREAM_EXISTS: Final = -2
    """The stream must have at least one event."""


class ReadDirection(enum.Enum):
    FORWARD = "forward"
    BACKWARD = "backward"


def _non_negative(_: Any, attribute: attrs.Attribute[Any], value: int | None) -> None:
    if value is None:
        return
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{attribute.name} must be an int, got {type(value).__name__}")
    if value < 0:
        raise ValueError(f"{attribute.name} must be >= 0, got {value}")


def _aware_or_none(_: Any, attribute: attrs.Attribute[Any], value: datetime | None) -> None:
    if value is not None:
        check_aware(value, attribute.name)


def _uuid_or_none(_: Any, attribute: attrs.Attribute[Any], value: UUID | None) -> None:
    check_optional_uuid(value, attribute.name)


@attrs.frozen(kw_only=True)
class ReadOptions:
    """How to read a stream or the global log.

    `from_position` is an exclusive cursor in the reading direction: FORWARD reads after it,
    BACKWARD reads before it (0 meaning from the end). Filters apply first, then the
    direction, then `limit`.
    """

    direction: ReadDirection = attrs.field(
        default=ReadDirection.FORWARD, validator=attrs.validators.instance_of(ReadDirection)
    )
    from_position: int = attrs.field(default=0, validator=_non_negative)
    limit: int | None = attrs.field(default=None, validator=_non_negative)
    from_timestamp: datetime | None = attrs.field(default=None, validator=_aware_or_none)
    to_timestamp: datetime | None = attrs.field(default=None, validator=_aware_or_none)
    tenant_id: UUID | None = attrs.field(default=None, validator=_uuid_or_none)


@attrs.frozen(kw_only=True)
class AppendResult:
    """The outcome of `append_events`: the stream's new version and the last event's position."""

    success: bool
    new_version: int
    global_position: int = 0
    conflict: bool = False

    @classmethod
    def successful(cls, new_version: int, global_position: int = 0) -> AppendResult:
        return cls(success=True, new_version=new_version, global_position=global_position)

    @classmethod
    def conflicted(cls, current_version: int) -> AppendResult:
        return cls(success=False, new_version=current_version, conflict=True)


def _to_events(events: Iterable[DomainEvent]) -> tuple[DomainEvent, ...]:
    # A typed converter: with a bare `tuple`, type checkers reject a list of events.
    return tuple(events)


@attrs.frozen(kw_only=True)
class EventStream:
    """The events of one aggregate, in version order, and the version to expect next time."""

    aggregate_id: UUID
    aggregate_type: str | None
    events: tuple[DomainEvent, ...] = attrs.field(default=(), converter=_to_events)
    version: int = 0

    @property
    def is_empty(self) -> bool:
        return not self.events

    @property
    def latest_event(self) -> DomainEvent | None:
        return self.events[-1] if self.events else None

    @classmethod
    def empty(cls, aggregate_id: UUID, aggregate_type: str | None) -> EventStream:
        return cls(aggregate_id=aggregate_id, aggregate_type=aggregate_type)

    def __len__(self) -> int:
        return len(self.events)


@attrs.frozen(kw_only=True)
class StoredEvent:
    """An event as stored: its stream, its position there and in the global log."""

    event: DomainEvent
    stream_id: str
    stream_position: int
    global_position: int
    stored_at: datetime

    @property
    def event_id(self) -> UUID:
        return self.event.event_id

    @property
    def event_type(self) -> str:
        return self.event.event_type

    @property
    def aggregate_id(self) -> UUID:
        return self.event.aggregate_id

    @property
    def aggregate_type(self) -> str:
        return self.event.aggregate_type


@attrs.frozen(kw_only=True)
class StreamInfo:
    """One stream, as `list_streams` lists it."""

    stream_id: str
    version: int
    last_position: int
    """The global position of the stream's last event."""


@attrs.frozen(kw_only=True)
class StoreStats:
    """The store in numbers (`get_stats`, `eventsource stats`)."""

    events_by_type: Mapping[str, int]
    events_by_tenant: Mapping[str | None, int]
    """Event counts by tenant id (as text); None counts the events without a tenant."""
    stream_count: int
    head_position: int
    """The global position of the last event of the log (0 when empty)."""

    @property
    def event_count(self) -> int:
        return sum(self.events_by_type.values())
