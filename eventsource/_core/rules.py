"""The store contract's rules, written once for every backend.

Expected-version checks, batch validation, idempotent retries and stream ids live here, so
the in-memory, SQLite and PostgreSQL stores raise the same errors with the same messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple
from uuid import UUID

from ..errors import DuplicateEventError, OptimisticLockError
from ..events import DomainEvent, EventRegistry
from ..types import AppendResult, ExpectedVersion, ReadOptions
from .records import NewEvent
from .validation import check_aggregate_type, check_aware, check_int, check_uuid, to_timestamp

__all__ = [
    "AppendRequest",
    "ExistingEvent",
    "check_expected_version",
    "check_read_options",
    "check_version",
    "idempotent_result",
    "parse_stream_id",
    "prepare_append",
    "stream_id",
]


class ExistingEvent(NamedTuple):
    """An already stored event whose id appears in a batch being appended."""

    event_id: UUID
    aggregate_id: UUID
    aggregate_type: str
    version: int
    global_position: int


class AppendRequest(NamedTuple):
    """A validated append: the stream, the expected version and the encoded events."""

    aggregate_id: UUID
    aggregate_type: str
    expected_version: int
    events: tuple[NewEvent, ...]

    @property
    def event_ids(self) -> list[UUID]:
        return [event.event_id for event in self.events]


def check_expected_version(expected_version: object) -> int:
    value = check_int(expected_version, "expected_version")
    if value < ExpectedVersion.STREAM_EXISTS:
        raise ValueError(
            "expected_version must be an exact version >= 0 or ExpectedVersion.ANY (-1), "
            f"NO_STREAM (0) or STREAM_EXISTS (-2); got {value}"
        )
    return value


def check_version(
    aggregate_id: UUID, aggregate_type: str, expected_version: int, actual_version: int
) -> None:
    """Raise OptimisticLockError unless `actual_version` satisfies `expected_version`."""
    if expected_version == ExpectedVersion.ANY:
        return
    if expected_version == ExpectedVersion.STREAM_EXISTS:
        ok = actual_version > 0
    else:
        ok = actual_version == expected_version
    if not ok:
        raise OptimisticLockError(aggregate_id, aggregate_type, expected_version, actual_version)


def prepare_append(
    aggregate_id: object,
    aggregate_type: object,
    events: Sequence[DomainEvent],
    expected_version: object,
    registry: EventRegistry,
) -> AppendRequest:
    """Validate and encode an append; raises before anything is written."""
    aggregate_id = check_uuid(aggregate_id, "aggregate_id")
    aggregate_type = check_aggregate_type(aggregate_type)
    expected = check_expected_version(expected_version)
    batch: object = events  # typed loosely: callers may pass anything at run time
    if isinstance(batch, (str, bytes)) or not isinstance(batch, Sequence):
        raise TypeError(f"events must be a list of DomainEvent, got {type(events).__name__}")
    encoded: list[NewEvent] = []
    seen: set[UUID] = set()
    repeated: list[UUID] = []
    for index, event in enumerate(events):
        if not isinstance(event, DomainEvent):
            raise TypeError(f"events[{index}] is a {type(event).__name__}, not a DomainEvent")
        if event.aggregate_id != aggregate_id:
            raise ValueError(
                f"events[{index}] has aggregate_id {event.aggregate_id}, "
                f"but is appended to {aggregate_id}"
            )
        if event.aggregate_type not in ("", aggregate_type):
            raise ValueError(
                f"events[{index}] has aggregate_type {event.aggregate_type!r}, "
                f"but is appended to {aggregate_type!r}"
            )
        if event.event_id in seen:
            repeated.append(event.event_id)
        seen.add(event.event_id)
        event_type = registry.name_of(type(event))
        encoded.append(NewEvent.encode(event, event_type, aggregate_type))
    if repeated:
        raise DuplicateEventError(repeated, "the same event id appears twice in the batch")
    return AppendRequest(aggregate_id, aggregate_type, expected, tuple(encoded))


def idempotent_result(
    request: AppendRequest, existing: Sequence[ExistingEvent]
) -> AppendResult | None:
    """Decide a batch some of whose ids are already stored.

    None when none is stored (append normally). A success without writing when every event
    is already in this stream (a retried append). Otherwise DuplicateEventError.
    """
    if not existing:
        return None
    by_id = {row.event_id: row for row in existing}
    retried = len(by_id) == len(request.events) and all(
        row.aggregate_id == request.aggregate_id and row.aggregate_type == request.aggregate_type
        for row in existing
    )
    if retried:
        last = by_id[request.events[-1].event_id]
        return AppendResult.successful(last.version, last.global_position)
    ids = [event_id for event_id in request.event_ids if event_id in by_id]
    if len(by_id) == len(request.events):
        detail = "already stored in another stream"
    else:
        detail = "already stored, while other events of the batch are new"
    raise DuplicateEventError(ids, detail)


def stream_id(aggregate_id: UUID, aggregate_type: str) -> str:
    return f"{aggregate_id}:{aggregate_type}"


def parse_stream_id(value: object) -> tuple[UUID, str | None]:
    """Split `"<uuid>:<type>"` at its first colon; a bare `"<uuid>"` means every type."""
    if not isinstance(value, str):
        raise TypeError(f"stream_id must be a str, got {type(value).__name__}")
    raw_id, colon, aggregate_type = value.partition(":")
    try:
        aggregate_id = UUID(raw_id)
    except ValueError:
        raise ValueError(
            f"malformed stream id {value!r}: expected '<uuid>:<aggregate_type>' or '<uuid>'"
        ) from None
    if not colon:
        return aggregate_id, None
    try:
        return aggregate_id, check_aggregate_type(aggregate_type, "the stream id's type")
    except ValueError as exc:
        raise ValueError(f"malformed stream id {value!r}: {exc}") from None


def check_read_options(options: object) -> ReadOptions:
    if options is None:
        return ReadOptions()
    if not isinstance(options, ReadOptions):
        raise TypeError(f"options must be ReadOptions, got {type(options).__name__}")
    return options


def check_time_range(
    from_timestamp: object, to_timestamp: object
) -> tuple[datetime | None, datetime | None]:
    lower = None if from_timestamp is None else check_aware(from_timestamp, "from_timestamp")
    upper = None if to_timestamp is None else check_aware(to_timestamp, "to_timestamp")
    return lower, upper


def check_since(from_timestamp: object) -> datetime | None:
    """`get_events_by_type`'s lower bound: epoch seconds or an aware datetime."""
    return None if from_timestamp is None else to_timestamp(from_timestamp, "from_timestamp")
