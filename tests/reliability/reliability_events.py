"""The reliability suite's event classes, in a registry of their own (`REGISTRY`).

`Everything` has a field of every payload type DESIGN section 2 lists, typed and untyped;
`Tick` is the small event the fault and race tests write in numbered batches; `hostile_class`
makes classes registered under hostile names (SQL injection, NUL characters, long names).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import attrs

from eventsource import DomainEvent, EventRegistry, register_event

REGISTRY = EventRegistry()


class Color(enum.Enum):
    RED = "red"
    GREEN = "green"
    QUOTE = "it's"


class Level(enum.IntEnum):
    LOW = 1
    HIGH = 2**40


@attrs.frozen(kw_only=True)
class Inner:
    """A nested attrs class, with a nested attrs class of its own."""

    label: str
    amount: Decimal
    when: datetime
    tags: tuple[str, ...]
    leaf: Leaf | None = None


@attrs.frozen(kw_only=True)
class Leaf:
    day: date
    color: Color


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Everything(DomainEvent):
    """Every supported payload type, in typed and untyped positions."""

    text: str
    number: int
    ratio: float
    flag: bool
    nothing: None
    amount: Decimal
    ref: UUID
    moment: datetime
    day: date
    color: Color
    level: Level
    maybe: Decimal | None
    inner: Inner
    inners: list[Inner]
    pair: tuple[int, str]
    many: tuple[Decimal, ...]
    by_name: dict[str, datetime]
    by_id: dict[UUID, list[date]]
    by_number: dict[int, Color]
    anything: Any


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Tick(DomainEvent):
    """One event of a numbered batch: `writer`, `batch` and `index` name it."""

    writer: int
    batch: int
    index: int


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Note(DomainEvent):
    """A free-text event (hostile strings, big payloads, tenancy)."""

    text: str = ""
    extra: Any = None


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Numbers(DomainEvent):
    """Typed float, int and datetime fields, and an untyped one, for values at the edges."""

    ratio: float = 0.5
    count: int = 0
    moment: datetime | None = None
    extra: Any = None


def ticks(aggregate_id: UUID, writer: int, batch: int, size: int, **envelope: Any) -> list[Tick]:
    return [
        Tick(aggregate_id=aggregate_id, writer=writer, batch=batch, index=i, **envelope)
        for i in range(size)
    ]


def hostile_class(event_type: str, registry: EventRegistry = REGISTRY) -> type[Note]:
    """A fresh `Note` subclass registered in `registry` under `event_type`."""
    name = f"Hostile_{uuid4().hex}"
    cls: type[Note] = attrs.frozen(kw_only=True)(type(name, (Note,), {"__module__": __name__}))
    registry.register(cls, event_type)
    return cls
