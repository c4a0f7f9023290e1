"""Stored events as their rows say, read without their classes (for tools: the CLI).

A `RawEvent` is the envelope plus the payload and metadata as the stored JSON, so events of
any type can be listed, whatever registry (if any) knows their classes. The readers page
through the store's own queries, exactly as `read_stream` / `read_all` do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from . import _driver
from ._records import Row, as_datetime, as_uuid, parse_json
from ._stores import SyncSQLEventStore
from .types import ReadOptions

__all__ = ["RawEvent", "read_all_raw", "read_stream_raw"]


@attrs.frozen(kw_only=True)
class RawEvent:
    """One stored event: its place in the log, its envelope, its JSON as stored.

    `payload` and `metadata` are the stored JSON: typed fields in their JSON form (a Decimal
    as its string), values of untyped fields tagged (`{"$decimal": "1.10"}`).
    """

    global_position: int
    stream_id: str
    stream_position: int
    event_id: UUID
    event_type: str
    event_version: int
    aggregate_id: UUID
    aggregate_type: str
    tenant_id: str | None
    actor_id: str | None
    occurred_at: datetime
    correlation_id: UUID | None
    causation_id: UUID | None
    payload: dict[str, Any]
    metadata: dict[str, Any]
    stored_at: datetime

    @classmethod
    def from_row(cls, row: Row) -> RawEvent:
        """The raw event of a read row (see `_records.ROW_COLUMNS`), from any backend."""
        (
            position,
            event_id,
            event_type,
            event_version,
            aggregate_id,
            aggregate_type,
            version,
            tenant_id,
            actor_id,
            occurred_at,
            correlation_id,
            causation_id,
            payload,
            metadata,
            stored_at,
        ) = row
        return cls(
            global_position=position,
            stream_id=f"{aggregate_id}:{aggregate_type}",
            stream_position=version,
            event_id=as_uuid(event_id),
            event_type=event_type,
            event_version=event_version,
            aggregate_id=as_uuid(aggregate_id),
            aggregate_type=aggregate_type,
            tenant_id=None if tenant_id is None else str(tenant_id),
            actor_id=actor_id,
            occurred_at=as_datetime(occurred_at),
            correlation_id=as_uuid(correlation_id),
            causation_id=as_uuid(causation_id),
            payload=parse_json(payload),
            metadata=parse_json(metadata),
            stored_at=as_datetime(stored_at),
        )

    def to_json(self) -> dict[str, Any]:
        """JSON-ready: UUIDs as strings, times as ISO 8601."""
        data: dict[str, Any] = {}
        for field in attrs.fields(type(self)):
            value = getattr(self, field.name)
            if isinstance(value, UUID):
                value = str(value)
            elif isinstance(value, datetime):
                value = value.isoformat()
            data[field.name] = value
        return data


def read_stream_raw(
    store: SyncSQLEventStore, stream_id: str, options: ReadOptions | None = None
) -> Iterator[RawEvent]:
    """`store.read_stream(stream_id, options)`, as raw events."""
    op = store._ops.read_stream_as(RawEvent.from_row, stream_id, options)
    for page in _driver.pages(op, store._traced("read_stream")):
        yield from page


def read_all_raw(
    store: SyncSQLEventStore, options: ReadOptions | None = None
) -> Iterator[RawEvent]:
    """`store.read_all(options)`, as raw events."""
    op = store._ops.read_all_as(RawEvent.from_row, options)
    for page in _driver.pages(op, store._traced("read_all")):
        yield from page
