"""Events in their storage form: encoded for writing, decoded from rows when read.

Every backend writes `NewEvent`s and reads rows of `ROW_COLUMNS`, so the round trip of an
event is the same code everywhere.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any, NamedTuple
from uuid import UUID

import attrs

from ..errors import SerializationError
from ..events import ENVELOPE_FIELDS, DomainEvent, EventRegistry
from ..types import StoredEvent
from . import codec

ROW_COLUMNS = (
    "id",
    "event_id",
    "event_type",
    "event_version",
    "aggregate_id",
    "aggregate_type",
    "version",
    "tenant_id",
    "actor_id",
    "timestamp",
    "correlation_id",
    "causation_id",
    "payload",
    "metadata",
    "created_at",
)
"""The columns of a read row, in order: the shared shape every backend selects."""

(
    POSITION,
    EVENT_ID,
    EVENT_TYPE,
    EVENT_VERSION,
    AGGREGATE_ID,
    AGGREGATE_TYPE,
    VERSION,
    TENANT_ID,
    ACTOR_ID,
    OCCURRED_AT,
    CORRELATION_ID,
    CAUSATION_ID,
    PAYLOAD,
    METADATA,
    STORED_AT,
) = range(len(ROW_COLUMNS))
"""Where each column stands in a read row: the only way a row is indexed."""

Row = Sequence[Any]


class NewEvent(NamedTuple):
    """One event of a batch, validated and encoded, ready to be written.

    A named tuple: one is built for every event appended, and a tuple is the cheapest
    record to build.
    """

    event_id: UUID
    event_type: str
    event_version: int
    aggregate_id: UUID
    aggregate_type: str
    tenant_id: UUID | None
    actor_id: str | None
    occurred_at: datetime
    correlation_id: UUID
    causation_id: UUID | None
    payload: str
    metadata: str

    @classmethod
    def encode(cls, event: DomainEvent, event_type: str, aggregate_type: str) -> NewEvent:
        return cls(
            event.event_id,
            event_type,
            event.event_version,
            event.aggregate_id,
            aggregate_type,
            event.tenant_id,
            event.actor_id,
            _utc(event.occurred_at),
            event.correlation_id,
            event.causation_id,
            codec.dumps(codec.unstructure_fields(event, ENVELOPE_FIELDS)),
            codec.dumps(codec.unstructure_as(event.metadata, _METADATA))
            if event.metadata
            else "{}",
        )

    def row(self, global_position: int, version: int, stored_at: datetime) -> tuple[Any, ...]:
        """The read row this event becomes once stored (the in-memory store keeps these).

        The tenant is text, as the SQL backends store and return it.
        """
        tenant_id = self.tenant_id
        return (
            global_position,
            self.event_id,
            self.event_type,
            self.event_version,
            self.aggregate_id,
            self.aggregate_type,
            version,
            None if tenant_id is None else str(tenant_id),
            self.actor_id,
            self.occurred_at,
            self.correlation_id,
            self.causation_id,
            self.payload,
            self.metadata,
            stored_at,
        )


def _utc(moment: datetime) -> datetime:
    """`occurred_at` as stored: in UTC (the column keeps the instant, not the offset)."""
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise SerializationError(
            f"occurred_at {moment.isoformat()} is outside the years 1-9999 in UTC"
        ) from None


def parse_json(value: Any) -> Any:
    """Stored JSON: text on SQLite (and PostgreSQL's JSONB read as text), parsed here."""
    return codec.loads(value) if isinstance(value, (str, bytes)) else value


_EMPTY: Mapping[str, Any] = MappingProxyType({})
_METADATA = Mapping[str, Any]
_set = object.__setattr__
_STEPS: dict[type[DomainEvent], tuple[codec.FieldStep, ...] | None] = {}
_FACTORY: type[Any] = attrs.Factory  # type: ignore[assignment]


def as_uuid(value: Any) -> Any:
    """A UUID column's value (text on SQLite)."""
    return value if value is None or isinstance(value, UUID) else UUID(value)


def as_datetime(value: Any) -> datetime:
    """A timestamp column's value (ISO 8601 text on SQLite)."""
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)


def _payload_only(
    cls: type[DomainEvent], steps: tuple[codec.FieldStep, ...], data: dict[str, Any]
) -> DomainEvent | None:
    """An instance with its payload fields set from `data`; None if a required one is missing."""
    event = object.__new__(cls)
    for name, hook, tp, default in steps:
        if name in data:
            value = data[name]
            if hook is not None:
                value = hook(value, tp)
        elif default is attrs.NOTHING:
            return None
        elif isinstance(default, _FACTORY):
            value = default.factory(event) if default.takes_self else default.factory()
        else:
            value = default
        _set(event, name, value)
    return event


def decode_event(row: Row, registry: EventRegistry) -> DomainEvent:
    """The event of a read row (see ROW_COLUMNS).

    Stored events were validated when written, so the event is built field by field without
    running `__init__` (its validators), which makes reads several times cheaper. Classes
    that need their `__init__` (converters, a post-init hook) take the ordinary path.
    """
    cls = registry.get(row[EVENT_TYPE])
    data: dict[str, Any] = parse_json(row[PAYLOAD])
    metadata = parse_json(row[METADATA])
    try:
        steps = _STEPS[cls]
    except KeyError:
        steps = _STEPS[cls] = codec.field_steps(cls, ENVELOPE_FIELDS)
    event = None if steps is None else _payload_only(cls, steps, data)
    if event is None:  # the ordinary path: __init__, validators, cattrs
        data.update(
            event_id=row[EVENT_ID],
            occurred_at=row[OCCURRED_AT],
            aggregate_id=row[AGGREGATE_ID],
            aggregate_type=row[AGGREGATE_TYPE],
            aggregate_version=row[VERSION],
            tenant_id=row[TENANT_ID],
            actor_id=row[ACTOR_ID],
            correlation_id=row[CORRELATION_ID],
            causation_id=row[CAUSATION_ID],
            metadata=metadata,
        )
        structured: DomainEvent = codec.structure(data, cls)
        return structured
    _set(event, "event_id", as_uuid(row[EVENT_ID]))
    _set(event, "occurred_at", as_datetime(row[OCCURRED_AT]))
    _set(event, "aggregate_id", as_uuid(row[AGGREGATE_ID]))
    _set(event, "aggregate_type", row[AGGREGATE_TYPE])
    _set(event, "aggregate_version", row[VERSION])
    _set(event, "tenant_id", as_uuid(row[TENANT_ID]))
    _set(event, "actor_id", row[ACTOR_ID])
    _set(event, "correlation_id", as_uuid(row[CORRELATION_ID]))
    _set(event, "causation_id", as_uuid(row[CAUSATION_ID]))
    _set(
        event,
        "metadata",
        MappingProxyType(codec.structure_as(metadata, _METADATA)) if metadata else _EMPTY,
    )
    return event


def decode_stored(row: Row, registry: EventRegistry) -> StoredEvent:
    """The stored event of a read row (see ROW_COLUMNS)."""
    event = decode_event(row, registry)
    return StoredEvent(
        event=event,
        stream_id=f"{event.aggregate_id}:{event.aggregate_type}",
        stream_position=event.aggregate_version,
        global_position=row[POSITION],
        stored_at=as_datetime(row[STORED_AT]),
    )
