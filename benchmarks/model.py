"""The benchmark's data: one event class, its inputs, and the raw baseline's plain objects.

Every contender writes the same values (ids, timestamps, payload content) into the same
`events` table. The store gets `ItemAdded` events (attrs, registered in `REGISTRY`); the
raw baseline gets the same values as plain tuples with the payload as a dict, and reads rows
back into frozen dataclasses (`RawEvent`, `RawItem`).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import attrs

from eventsource import DomainEvent, EventRegistry, register_event

REGISTRY = EventRegistry()
AGGREGATE_TYPE = "Cart"
ACTOR = "bench-user"


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class ItemAdded(DomainEvent):
    """A typical small event: about 90 bytes of JSON payload."""

    sku: str
    quantity: int
    price: Decimal
    note: str


def make_events(aggregate_id: UUID, count: int, rng: random.Random) -> list[ItemAdded]:
    """`count` events of one stream, built before any clock starts."""
    now = datetime.now(UTC)
    return [
        ItemAdded(
            aggregate_id=aggregate_id,
            occurred_at=now,
            actor_id=ACTOR,
            sku=f"SKU-{rng.randrange(100_000):05d}",
            quantity=rng.randrange(1, 10),
            price=Decimal(rng.randrange(100, 100_000)) / 100,
            note="added from the storefront",
        )
        for _ in range(count)
    ]


# -- the raw baseline's shapes -----------------------------------------------------------

RawInput = tuple[Any, ...]
"""The insert parameters of one event, in `INSERT_COLUMNS` order except the version."""

INSERT_COLUMNS = (
    "event_id",
    "event_type",
    "event_version",
    "aggregate_type",
    "aggregate_id",
    "tenant_id",
    "actor_id",
    "version",
    "timestamp",
    "payload",
    "metadata",
    "correlation_id",
    "causation_id",
)


def raw_input(event: ItemAdded) -> RawInput:
    """The same event as the baseline's input: plain values, the payload a dict.

    The price is given as the string a hand-written app would store (`str(Decimal)`), so
    the JSON payload is byte-for-byte what the store writes.
    """
    payload = {
        "sku": event.sku,
        "quantity": event.quantity,
        "price": str(event.price),
        "note": event.note,
    }
    return (
        event.event_id,
        "ItemAdded",
        1,
        AGGREGATE_TYPE,
        event.aggregate_id,
        None,
        event.actor_id,
        event.occurred_at,
        payload,
        {},
        event.correlation_id,
        event.causation_id,
    )


@dataclass(frozen=True, slots=True)
class RawItem:
    """The baseline's payload object: the typed fields of `ItemAdded`."""

    sku: str
    quantity: int
    price: Decimal
    note: str


@dataclass(frozen=True, slots=True)
class RawEvent:
    """The baseline's event object: every column of a row, decoded."""

    global_position: int
    event_id: UUID
    event_type: str
    event_version: int
    aggregate_id: UUID
    aggregate_type: str
    version: int
    tenant_id: str | None
    actor_id: str | None
    occurred_at: datetime
    correlation_id: UUID
    causation_id: UUID | None
    payload: RawItem
    metadata: dict[str, Any]
    stored_at: datetime


SELECT_COLUMNS = (
    "id, event_id, event_type, event_version, aggregate_id, aggregate_type, version, tenant_id,"
    ' actor_id, "timestamp", correlation_id, causation_id, payload, metadata, created_at'
)


def raw_event(row: tuple[Any, ...]) -> RawEvent:
    """A row (psycopg has already made the UUIDs, datetimes and JSONB dicts) as a RawEvent."""
    payload = row[12]
    item = RawItem(payload["sku"], payload["quantity"], Decimal(payload["price"]), payload["note"])
    return RawEvent(
        row[0],
        row[1],
        row[2],
        row[3],
        row[4],
        row[5],
        row[6],
        row[7],
        row[8],
        row[9],
        row[10],
        row[11],
        item,
        row[13],
        row[14],
    )


def new_ids(count: int) -> list[UUID]:
    return [uuid4() for _ in range(count)]
