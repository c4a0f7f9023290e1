"""Stored events as their rows say, read without their classes: for tools such as the CLI.

A `RawEvent` is the envelope plus the payload and metadata as the stored JSON, so events of
any type can be listed, whatever registry (if any) knows their classes. `read_stream_raw` and
`read_all_raw` take the arguments of `read_stream` / `read_all` and page through the store's
own queries exactly as they do.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any
from uuid import UUID

import attrs

from ._core import driver
from ._core.records import (
    ACTOR_ID,
    AGGREGATE_ID,
    AGGREGATE_TYPE,
    CAUSATION_ID,
    CORRELATION_ID,
    EVENT_ID,
    EVENT_TYPE,
    EVENT_VERSION,
    METADATA,
    OCCURRED_AT,
    PAYLOAD,
    POSITION,
    STORED_AT,
    TENANT_ID,
    VERSION,
    Row,
    as_datetime,
    as_uuid,
    parse_json,
)
from ._core.stores import SyncStoreBase
from .interface import SyncEventStore
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
    store: SyncEventStore, stream_id: str, options: ReadOptions | None = None
) -> Iterator[RawEvent]:
    """`store.read_stream(stream_id, options)`, as raw events."""
    ops_store = _operations_store(store)
    op = ops_store._ops.read_stream_as(_raw_event, stream_id, options)
    for page in driver.pages(op, ops_store._traced("read_stream")):
        yield from page


def read_all_raw(store: SyncEventStore, options: ReadOptions | None = None) -> Iterator[RawEvent]:
    """`store.read_all(options)`, as raw events."""
    ops_store = _operations_store(store)
    op = ops_store._ops.read_all_as(_raw_event, options)
    for page in driver.pages(op, ops_store._traced("read_all")):
        yield from page


def _operations_store(store: SyncEventStore) -> SyncStoreBase:
    """`store`, if it is one of ours (raw reads run the store's own operations)."""
    if not isinstance(store, SyncStoreBase):
        raise TypeError(
            f"raw reads need one of eventsource's sync stores, not {type(store).__name__}"
        )
    return store


def _raw_event(row: Row) -> RawEvent:
    """The raw event of a read row (`records.ROW_COLUMNS`), from any backend."""
    aggregate_id, aggregate_type = row[AGGREGATE_ID], row[AGGREGATE_TYPE]
    tenant_id = row[TENANT_ID]
    return RawEvent(
        global_position=row[POSITION],
        stream_id=f"{aggregate_id}:{aggregate_type}",
        stream_position=row[VERSION],
        event_id=as_uuid(row[EVENT_ID]),
        event_type=row[EVENT_TYPE],
        event_version=row[EVENT_VERSION],
        aggregate_id=as_uuid(aggregate_id),
        aggregate_type=aggregate_type,
        tenant_id=None if tenant_id is None else str(tenant_id),
        actor_id=row[ACTOR_ID],
        occurred_at=as_datetime(row[OCCURRED_AT]),
        correlation_id=as_uuid(row[CORRELATION_ID]),
        causation_id=as_uuid(row[CAUSATION_ID]),
        payload=parse_json(row[PAYLOAD]),
        metadata=parse_json(row[METADATA]),
        stored_at=as_datetime(row[STORED_AT]),
    )
