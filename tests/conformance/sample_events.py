"""The conformance suite's event classes, registered in registries of their own.

They cover every payload type of DESIGN section 2, typed (by annotation) and untyped (`Any`,
bare containers, metadata). Nothing here touches `default_registry`.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from eventsource import DomainEvent, EventRegistry, register_event

REGISTRY = EventRegistry()
"""The registry every conformance store resolves its classes in."""

OTHER_REGISTRY = EventRegistry()
"""A registry the stores do not use: classes registered only here are unknown to them."""

T0 = datetime(2024, 3, 1, 12, 0, tzinfo=UTC)
"""A fixed instant: tests place `occurred_at` around it to control time ordering."""

PLUS_TWO = timezone(timedelta(hours=2))


def at(seconds: float) -> datetime:
    """`T0` shifted by `seconds` (an aware UTC datetime)."""
    return T0 + timedelta(seconds=seconds)


class Color(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Priority(enum.IntEnum):
    LOW = 1
    HIGH = 2


@attrs.frozen(kw_only=True)
class Address:
    street: str
    city: str
    geo: tuple[float, float] | None = None


@attrs.frozen(kw_only=True)
class Line:
    sku: str
    quantity: int
    unit_price: Decimal
    added_on: date
    address: Address | None = None


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Happened(DomainEvent):
    """The workhorse: a small event with a note to tell instances apart."""

    note: str = ""


@register_event(registry=REGISTRY, event_type="test.renamed")
@attrs.frozen(kw_only=True)
class Renamed(DomainEvent):
    """Registered under an explicit name, different from the class name."""

    event_version = 3
    name: str


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Scalars(DomainEvent):
    text: str
    count: int
    ratio: float
    flag: bool
    amount: Decimal
    ref: UUID
    moment: datetime
    day: date
    color: Color
    priority: Priority
    maybe_amount: Decimal | None = None
    maybe_text: str | None = None
    nothing: None = None


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Containers(DomainEvent):
    address: Address
    lines: list[Line]
    tags: tuple[str, ...]
    pair: tuple[int, Decimal]
    amounts: dict[str, Decimal]
    days_by_id: dict[UUID, date]
    names_by_number: dict[int, str]
    moments: list[datetime]
    colors: dict[str, list[Color]]
    nested: list[dict[str, tuple[UUID, ...]]]
    addresses: dict[str, Address]
    empty_list: list[int]
    empty_dict: dict[str, int]


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Untyped(DomainEvent):
    """Fields whose annotation does not tell the type of their values."""

    anything: Any
    bare_list: list = attrs.field(factory=list)  # type: ignore[type-arg]
    bare_dict: dict = attrs.field(factory=dict)  # type: ignore[type-arg]
    bare_tuple: tuple = ()  # type: ignore[type-arg]


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Measured(DomainEvent):
    """A float field, for non-finite values."""

    value: float


@attrs.frozen(kw_only=True)
class NotRegistered(DomainEvent):
    """A valid event class that no registry knows."""

    note: str = ""


@register_event(registry=OTHER_REGISTRY)
@attrs.frozen(kw_only=True)
class ElsewhereOnly(DomainEvent):
    """Registered, but only in `OTHER_REGISTRY`."""

    note: str = ""


def happened(aggregate_id: UUID, count: int, **fields: Any) -> list[Happened]:
    """`count` fresh `Happened` events for `aggregate_id`, noted "0", "1", ..."""
    return [Happened(aggregate_id=aggregate_id, note=str(i), **fields) for i in range(count)]


def sample_scalars(aggregate_id: UUID) -> Scalars:
    return Scalars(
        aggregate_id=aggregate_id,
        text='héllo "wörld" \\ 🎉 \t\n',
        count=-(2**53) - 1,
        ratio=0.1,
        flag=True,
        amount=Decimal("1.10"),
        ref=UUID("12345678-1234-5678-1234-567812345678"),
        moment=datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=PLUS_TWO),
        day=date(1999, 12, 31),
        color=Color.BLUE,
        priority=Priority.HIGH,
        maybe_amount=Decimal("-0.000"),
        maybe_text=None,
    )


def sample_containers(aggregate_id: UUID) -> Containers:
    ref = UUID("87654321-4321-8765-4321-876543218765")
    home = Address(street="1 rue de la Paix", city="Paris", geo=(48.8698, 2.3311))
    return Containers(
        aggregate_id=aggregate_id,
        address=home,
        lines=[
            Line(sku="A-1", quantity=2, unit_price=Decimal("9.90"), added_on=date(2024, 1, 2)),
            Line(
                sku="B-2",
                quantity=1,
                unit_price=Decimal("1E+3"),
                added_on=date(2024, 2, 29),
                address=Address(street="2 Main St", city="Springfield"),
            ),
        ],
        tags=("new", "vip"),
        pair=(7, Decimal("0.50")),
        amounts={"net": Decimal("100.00"), "tax": Decimal("20.0")},
        days_by_id={ref: date(2020, 2, 29)},
        names_by_number={1: "one", 20: "twenty"},
        moments=[datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 1, 3, tzinfo=PLUS_TWO)],
        colors={"warm": [Color.RED], "cold": [Color.BLUE, Color.BLUE]},
        nested=[{"ids": (ref, ref)}, {}],
        addresses={"home": home},
        empty_list=[],
        empty_dict={},
    )


def sample_untyped_values() -> dict[str, Any]:
    """Values an untyped position (Any, bare container, metadata) must bring back exactly."""
    return {
        "text": "plain",
        "int": 42,
        "float": 2.5,
        "bool": False,
        "none": None,
        "decimal": Decimal("1.10"),
        "uuid": UUID("12345678-1234-5678-1234-567812345678"),
        "datetime": datetime(2024, 5, 17, 9, 30, tzinfo=PLUS_TWO),
        "date": date(2024, 5, 17),
        "list": [1, Decimal("2.0"), [date(2024, 1, 1)]],
        "tuple": (1, "a", (Decimal("3.00"),)),
        "dict": {"inner": {"deep": Decimal("0.001")}},
        "looks_tagged": {"$decimal": "not a decimal"},
        "looks_tagged_too": {"$tuple": [1, 2], "other": 1},
        "empty": {},
    }
