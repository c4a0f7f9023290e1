"""`EventRegistry` and `register_event` (DESIGN sections 2 and 7)."""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import attrs
import pytest

from eventsource import (
    DomainEvent,
    DuplicateEventTypeError,
    EventRegistry,
    EventTypeNotFoundError,
    default_registry,
    register_event,
)


def _event_class(name: str) -> type[DomainEvent]:
    """A fresh, unregistered event class called `name`."""
    cls = type(name, (DomainEvent,), {"__annotations__": {"note": "str"}, "note": ""})
    return attrs.frozen(kw_only=True)(cls)


@pytest.fixture
def registry() -> EventRegistry:
    return EventRegistry()


def test_register_event_bare_uses_the_default_registry_and_class_name() -> None:
    @register_event
    @attrs.frozen(kw_only=True)
    class UnitBareRegistered(DomainEvent):
        pass

    try:
        assert default_registry.get("UnitBareRegistered") is UnitBareRegistered
        assert UnitBareRegistered.event_type == "UnitBareRegistered"
    finally:
        default_registry.unregister(UnitBareRegistered)
    assert "UnitBareRegistered" not in default_registry


def test_register_event_with_event_type(registry: EventRegistry) -> None:
    @register_event(event_type="unit.renamed", registry=registry)
    @attrs.frozen(kw_only=True)
    class Renamed(DomainEvent):
        pass

    assert Renamed.event_type == "unit.renamed"
    assert registry.get("unit.renamed") is Renamed
    assert "Renamed" not in registry
    assert "unit.renamed" not in default_registry


def test_register_event_with_registry_only(registry: EventRegistry) -> None:
    @register_event(registry=registry)
    @attrs.frozen(kw_only=True)
    class Local(DomainEvent):
        pass

    assert registry.get("Local") is Local
    assert "Local" not in default_registry


def test_register_returns_the_class(registry: EventRegistry) -> None:
    cls = _event_class("Returned")
    assert registry.register(cls) is cls
    assert register_event(_event_class("Other"), registry=registry).event_type == "Other"


def test_another_class_under_a_taken_name_is_duplicate(registry: EventRegistry) -> None:
    first, second = _event_class("Taken"), _event_class("Taken")
    registry.register(first)
    with pytest.raises(DuplicateEventTypeError) as caught:
        registry.register(second)
    assert caught.value.event_type == "Taken"
    assert caught.value.existing is first
    assert caught.value.new is second
    assert "Taken" in str(caught.value)
    assert registry.get("Taken") is first


def test_same_class_same_name_again_is_a_no_op(registry: EventRegistry) -> None:
    cls = _event_class("Again")
    registry.register(cls)
    registry.register(cls)
    registry.register(cls, "Again")
    assert registry.list_types() == ["Again"]
    assert registry.get("Again") is cls


def test_get_unknown_lists_the_known_names(registry: EventRegistry) -> None:
    registry.register(_event_class("Beta"))
    registry.register(_event_class("Alpha"))
    with pytest.raises(EventTypeNotFoundError) as caught:
        registry.get("Gamma")
    assert caught.value.event_type == "Gamma"
    assert caught.value.known == ("Alpha", "Beta")
    assert "Gamma" in str(caught.value)
    assert "Alpha, Beta" in str(caught.value)
    assert isinstance(caught.value, KeyError)  # a lookup miss, as for a dict


def test_get_or_none(registry: EventRegistry) -> None:
    cls = _event_class("Present")
    registry.register(cls)
    assert registry.get_or_none("Present") is cls
    assert registry.get_or_none("Absent") is None


def test_contains_names_and_classes(registry: EventRegistry) -> None:
    cls = _event_class("Member")
    assert "Member" not in registry
    assert cls not in registry
    registry.register(cls)
    assert "Member" in registry
    assert cls in registry
    assert _event_class("Member") not in registry
    assert 42 not in registry


def test_list_types_is_sorted(registry: EventRegistry) -> None:
    for name in ("c", "a", "b"):
        registry.register(_event_class("X"), name)
    assert registry.list_types() == ["a", "b", "c"]
    assert len(registry) == 3


def test_unregister_by_name_and_by_class(registry: EventRegistry) -> None:
    one, two = _event_class("One"), _event_class("Two")
    registry.register(one)
    registry.register(two)
    registry.unregister("One")
    assert "One" not in registry
    assert one not in registry
    registry.unregister(two)
    assert registry.list_types() == []
    registry.unregister("Never")  # unknown names are ignored
    registry.register(_event_class("One"))  # the name is free again


def test_clear(registry: EventRegistry) -> None:
    registry.register(_event_class("A"))
    registry.register(_event_class("B"))
    registry.clear()
    assert registry.list_types() == []
    assert len(registry) == 0


def test_registries_are_independent(registry: EventRegistry) -> None:
    other = EventRegistry()
    cls = _event_class("Shared")
    registry.register(cls)
    assert cls not in other
    with pytest.raises(EventTypeNotFoundError):
        other.get("Shared")


@pytest.mark.parametrize(
    "bad",
    [int, DomainEvent.__init__, "Name"],
    ids=["not-an-event", "function", "str"],
)
def test_only_event_classes_register(registry: EventRegistry, bad: object) -> None:
    with pytest.raises(TypeError):
        registry.register(bad)  # type: ignore[arg-type]


def test_subclass_without_its_own_attrs_decorator_is_refused(registry: EventRegistry) -> None:
    base = _event_class("Base")
    plain = type("Plain", (base,), {})
    with pytest.raises(TypeError, match="attrs"):
        registry.register(plain)


ENVELOPE = (
    "event_id", "occurred_at", "aggregate_id", "aggregate_type", "aggregate_version",
    "tenant_id", "actor_id", "correlation_id", "causation_id", "metadata",
    "event_type", "event_version",
)  # fmt: skip
"""DomainEvent's fields and its class-level type and version (DESIGN section 2)."""


def _with_field(name: str) -> type[DomainEvent]:
    """An event class defining a str field `name`."""
    fields = {name: attrs.field(type=str, default="x")}
    return attrs.make_class("Shadowing", fields, bases=(DomainEvent,), frozen=True, kw_only=True)


@pytest.mark.parametrize("name", ENVELOPE)
def test_a_field_with_an_envelope_name_is_refused(registry: EventRegistry, name: str) -> None:
    with pytest.raises(TypeError, match=f"Shadowing defines a field '{name}'.*envelope"):
        registry.register(_with_field(name))
    assert registry.list_types() == []


@pytest.mark.parametrize("name", ["aggregate_type", "event_version"])
def test_an_envelope_field_redefined_in_a_base_is_refused(
    registry: EventRegistry, name: str
) -> None:
    fields = {"note": attrs.field(type=str, default="")}
    base = _with_field(name)
    child = attrs.make_class("Child", fields, bases=(base,), frozen=True, kw_only=True)
    with pytest.raises(TypeError, match=f"Shadowing defines a field '{name}'"):
        register_event(child, registry=registry)
    assert child not in registry


def test_type_and_version_set_as_class_attributes_register(registry: EventRegistry) -> None:
    @register_event(registry=registry)
    @attrs.frozen(kw_only=True)
    class Versioned(DomainEvent):
        event_type = "unit.versioned"
        event_version = 3
        note: str = ""

    assert registry.get("unit.versioned") is Versioned
    assert Versioned(aggregate_id=uuid4()).event_version == 3


def test_empty_name_is_value_error(registry: EventRegistry) -> None:
    with pytest.raises(ValueError, match="event_type"):
        registry.register(_event_class("Named"), "")


def test_repr_lists_the_names(registry: EventRegistry) -> None:
    registry.register(_event_class("Shown"))
    assert "Shown" in repr(registry)


@pytest.fixture
def restored_default_registry() -> Iterator[None]:
    before = {name: default_registry.get(name) for name in default_registry.list_types()}
    yield
    default_registry.clear()
    for name, cls in before.items():
        default_registry.register(cls, name)


def test_default_registry_is_an_event_registry(restored_default_registry: None) -> None:
    assert isinstance(default_registry, EventRegistry)
    cls = _event_class("UnitDefault")
    register_event(cls)
    assert default_registry.get("UnitDefault") is cls


@pytest.mark.parametrize("name", ["nul\x00type", "T" * 256])
def test_event_type_names_must_fit_every_backend(name: str) -> None:
    registry = EventRegistry()

    @attrs.frozen(kw_only=True)
    class Odd(DomainEvent):
        pass

    with pytest.raises(ValueError, match="event_type"):
        registry.register(Odd, name)
    assert name not in registry
