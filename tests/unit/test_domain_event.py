"""`DomainEvent`: envelope fields, validation, helpers, dict round trips (DESIGN section 2)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest

from eventsource import (
    DomainEvent,
    EventRegistry,
    EventTypeNotFoundError,
    default_registry,
    register_event,
)

REGISTRY = EventRegistry()


@attrs.frozen(kw_only=True)
class Money:
    amount: Decimal
    currency: str


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class OrderPlaced(DomainEvent):
    customer: str
    total: Money
    lines: tuple[str, ...] = ()
    due: date | None = None
    extra: Any = None


@register_event(registry=REGISTRY, event_type="order.shipped")
@attrs.frozen(kw_only=True)
class OrderShipped(DomainEvent):
    event_version = 2
    carrier: str


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Shadowing(DomainEvent):
    """Payload fields named like the helpers and like storage: names an application may pick."""

    payload: dict[str, int]
    data: str
    to_dict: str = ""


def _placed(**fields: Any) -> OrderPlaced:
    values: dict[str, Any] = {
        "aggregate_id": uuid4(),
        "customer": "alice",
        "total": Money(amount=Decimal("10.50"), currency="EUR"),
    }
    return OrderPlaced(**{**values, **fields})


def test_envelope_defaults() -> None:
    before = datetime.now(UTC)
    event = _placed()
    after = datetime.now(UTC)
    assert isinstance(event.event_id, UUID)
    assert isinstance(event.correlation_id, UUID)
    assert event.event_id != event.correlation_id
    assert before <= event.occurred_at <= after
    assert event.occurred_at.utcoffset() == timedelta(0)
    assert event.aggregate_type == ""
    assert event.aggregate_version == 0
    assert event.tenant_id is None
    assert event.actor_id is None
    assert event.causation_id is None
    assert dict(event.metadata) == {}
    assert _placed().event_id != event.event_id  # a fresh id each time


def test_event_type_and_version() -> None:
    assert OrderPlaced.event_type == "OrderPlaced"
    assert _placed().event_type == "OrderPlaced"
    assert OrderShipped.event_type == "order.shipped"
    assert OrderShipped(aggregate_id=uuid4(), carrier="ups").event_type == "order.shipped"
    assert OrderPlaced.event_version == 1
    assert OrderShipped.event_version == 2


def test_aggregate_id_is_required() -> None:
    with pytest.raises(TypeError, match="aggregate_id"):
        OrderShipped(carrier="ups")  # type: ignore[call-arg]


@pytest.mark.parametrize("field", ["aggregate_id", "event_id", "correlation_id"])
def test_str_where_a_uuid_belongs_is_type_error(field: str) -> None:
    with pytest.raises(TypeError, match=field):
        _placed(**{field: str(uuid4())})


@pytest.mark.parametrize("field", ["tenant_id", "causation_id"])
def test_str_where_an_optional_uuid_belongs_is_type_error(field: str) -> None:
    with pytest.raises(TypeError, match=field):
        _placed(**{field: str(uuid4())})


def test_naive_occurred_at_is_value_error() -> None:
    with pytest.raises(ValueError, match="occurred_at"):
        _placed(occurred_at=datetime(2024, 1, 1, 12))


@pytest.mark.parametrize("actor_id", ["a\ud800", "\udfff", "a\x00b"])
def test_actor_id_must_be_storable_text(actor_id: str) -> None:
    with pytest.raises(ValueError, match="actor_id"):
        _placed(actor_id=actor_id)


def test_occurred_at_keeps_its_offset() -> None:
    moment = datetime(2024, 1, 1, 12, tzinfo=timezone(timedelta(hours=-5)))
    assert _placed(occurred_at=moment).occurred_at is moment


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("aggregate_version", "1"),
        ("aggregate_version", True),
        ("aggregate_type", None),
        ("actor_id", 7),
        ("metadata", [("a", 1)]),
        ("occurred_at", "2024-01-01T00:00:00+00:00"),
    ],
)
def test_envelope_types_are_checked(field: str, value: object) -> None:
    with pytest.raises(TypeError):
        _placed(**{field: value})


def test_events_are_immutable() -> None:
    event = _placed(metadata={"a": 1})
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        event.customer = "bob"  # type: ignore[misc]
    with pytest.raises(TypeError):
        event.metadata["b"] = 2  # type: ignore[index]


def test_metadata_is_copied_at_construction() -> None:
    metadata = {"a": 1}
    event = _placed(metadata=metadata)
    metadata["a"] = 2
    assert event.metadata["a"] == 1


def test_with_causation() -> None:
    cause = _placed()
    effect = OrderShipped(aggregate_id=cause.aggregate_id, carrier="ups")
    caused = effect.with_causation(cause)
    assert type(caused) is OrderShipped
    assert caused.causation_id == cause.event_id
    assert caused.correlation_id == cause.correlation_id
    assert caused.event_id == effect.event_id
    assert caused.carrier == "ups"
    assert effect.causation_id is None  # the original is untouched
    assert effect.correlation_id != cause.correlation_id


def test_with_metadata_adds_and_replaces() -> None:
    event = _placed(metadata={"a": 1, "b": 2})
    updated = event.with_metadata(b=3, c=4)
    assert dict(updated.metadata) == {"a": 1, "b": 3, "c": 4}
    assert dict(event.metadata) == {"a": 1, "b": 2}
    assert updated.event_id == event.event_id
    assert type(updated) is OrderPlaced


def _full() -> OrderPlaced:
    return _placed(
        occurred_at=datetime(2024, 5, 1, 8, 0, 0, 1, tzinfo=timezone(timedelta(hours=2))),
        aggregate_type="Order",
        aggregate_version=3,
        tenant_id=uuid4(),
        actor_id="user-1",
        causation_id=uuid4(),
        lines=("a", "b"),
        due=date(2024, 6, 1),
        extra={"d": Decimal("1.10"), "t": (1, 2)},
        metadata={"trace": "abc", "amount": Decimal("0.10")},
    )


def test_to_dict_is_json_ready_and_complete() -> None:
    event = _full()
    data = event.to_dict()
    assert data["event_type"] == "OrderPlaced"
    assert data["event_version"] == 1
    for field in attrs.fields(OrderPlaced):
        assert field.name in data
    assert data["total"] == {"amount": "10.50", "currency": "EUR"}
    assert json.loads(json.dumps(data)) is not None  # plain JSON, no custom encoder needed


def test_to_dict_from_dict_round_trip() -> None:
    event = _full()
    data = json.loads(json.dumps(event.to_dict()))
    back = OrderPlaced.from_dict(data)
    assert back == event
    assert str(back.total.amount) == "10.50"
    assert back.lines == ("a", "b")
    assert back.extra == {"d": Decimal("1.10"), "t": (1, 2)}
    assert isinstance(back.extra["t"], tuple)
    assert str(back.metadata["amount"]) == "0.10"


def test_domain_event_from_dict_resolves_the_class_by_event_type() -> None:
    shipped = OrderShipped(aggregate_id=uuid4(), carrier="dhl")
    back = DomainEvent.from_dict(shipped.to_dict(), registry=REGISTRY)
    assert type(back) is OrderShipped
    assert back == shipped
    placed = _full()
    assert DomainEvent.from_dict(placed.to_dict(), registry=REGISTRY) == placed


def test_domain_event_from_dict_of_unknown_type_is_not_found() -> None:
    data = OrderShipped(aggregate_id=uuid4(), carrier="dhl").to_dict()
    with pytest.raises(EventTypeNotFoundError):
        DomainEvent.from_dict(data, registry=EventRegistry())


@attrs.frozen(kw_only=True)
class DefaultOnly(DomainEvent):
    note: str = ""


@pytest.fixture
def in_default_registry() -> Iterator[type[DomainEvent]]:
    default_registry.register(DefaultOnly)
    try:
        yield DefaultOnly
    finally:
        default_registry.unregister(DefaultOnly)


def test_domain_event_from_dict_uses_the_default_registry(
    in_default_registry: type[DomainEvent],
) -> None:
    event = DefaultOnly(aggregate_id=uuid4(), note="x")
    assert DomainEvent.from_dict(event.to_dict()) == event


def test_payload_fields_may_shadow_helpers_and_storage_names() -> None:
    event = Shadowing(aggregate_id=uuid4(), payload={"a": 1}, data="d", to_dict="t")
    data = DomainEvent.to_dict(event)
    assert (data["payload"], data["data"], data["to_dict"]) == ({"a": 1}, "d", "t")
    assert DomainEvent.from_dict(data, registry=REGISTRY) == event
    assert Shadowing.from_dict(data) == event
