"""Domain events: the `DomainEvent` base class and the registry of event type names."""

from __future__ import annotations

import threading
import types
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar, overload
from uuid import UUID, uuid4

import attrs

from ._core import codec
from ._core.validation import (
    check_aware,
    check_int,
    check_optional_uuid,
    check_unicode,
    check_uuid,
    utcnow,
)
from .errors import DuplicateEventTypeError, EventTypeNotFoundError

__all__ = ["DomainEvent", "EventRegistry", "default_registry", "register_event"]

E = TypeVar("E", bound="DomainEvent")


def _freeze_metadata(value: Mapping[str, Any]) -> Mapping[str, Any]:
    if isinstance(value, types.MappingProxyType):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"metadata must be a mapping, got {type(value).__name__}")
    return types.MappingProxyType(dict(value))


def _optional_str(_: object, attribute: attrs.Attribute[Any], value: object) -> None:
    if value is None:
        return
    if not isinstance(value, str):
        raise TypeError(f"{attribute.name} must be a str or None, got {type(value).__name__}")
    check_unicode(value, attribute.name)
    if "\x00" in value:
        raise ValueError(f"{attribute.name} must not contain NUL characters")


@attrs.frozen(kw_only=True)
class DomainEvent:
    """Base class of every event: the envelope fields. Subclasses add the payload fields.

    Subclasses are frozen attrs classes, registered under a name with `@register_event`.
    `event_type` is that name (the class name by default); `event_version` is the schema
    version of the payload, for upcasting. A payload field may have any name but those of
    the envelope (`ENVELOPE_NAMES`), even a helper's: stores encode and decode events
    through the codec and never call a method of an event.
    """

    event_type: ClassVar[str] = "DomainEvent"
    event_version: ClassVar[int] = 1

    event_id: UUID = attrs.field(factory=uuid4, validator=lambda _, a, v: check_uuid(v, a.name))
    occurred_at: datetime = attrs.field(
        factory=utcnow, validator=lambda _, a, v: check_aware(v, a.name)
    )
    aggregate_id: UUID = attrs.field(validator=lambda _, a, v: check_uuid(v, a.name))
    aggregate_type: str = attrs.field(default="", validator=attrs.validators.instance_of(str))
    aggregate_version: int = attrs.field(default=0, validator=lambda _, a, v: check_int(v, a.name))
    tenant_id: UUID | None = attrs.field(
        default=None, validator=lambda _, a, v: check_optional_uuid(v, a.name)
    )
    actor_id: str | None = attrs.field(default=None, validator=_optional_str)
    correlation_id: UUID = attrs.field(
        factory=uuid4, validator=lambda _, a, v: check_uuid(v, a.name)
    )
    causation_id: UUID | None = attrs.field(
        default=None, validator=lambda _, a, v: check_optional_uuid(v, a.name)
    )
    metadata: Mapping[str, Any] = attrs.field(factory=dict, converter=_freeze_metadata)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "event_type" not in cls.__dict__:
            cls.event_type = cls.__name__

    def with_causation(self: E, other: DomainEvent) -> E:
        """A copy caused by `other`: its event id as causation, its correlation id."""
        return attrs.evolve(self, causation_id=other.event_id, correlation_id=other.correlation_id)

    def with_metadata(self: E, **metadata: Any) -> E:
        """A copy with these metadata keys added (or replaced)."""
        return attrs.evolve(self, metadata={**self.metadata, **metadata})

    def to_dict(self) -> dict[str, Any]:
        """Every field plus `event_type` and `event_version`, JSON-ready."""
        return {
            "event_type": self.event_type,
            "event_version": self.event_version,
            **codec.unstructure_fields(self, frozenset()),
        }

    @classmethod
    def from_dict(
        cls: type[E], data: Mapping[str, Any], *, registry: EventRegistry | None = None
    ) -> E:
        """Inverse of `to_dict`. On `DomainEvent` itself, the class is found by `event_type`."""
        target: type[Any] = cls
        if cls is DomainEvent:
            target = (registry or default_registry).get(data["event_type"])
        fields = {k: v for k, v in data.items() if k not in ("event_type", "event_version")}
        result: E = codec.structure(fields, target)
        return result


ENVELOPE_FIELDS: frozenset[str] = frozenset(codec.fields_of(DomainEvent))
"""The attrs fields of `DomainEvent`: stored in columns of their own, not in the payload."""

ENVELOPE_NAMES: frozenset[str] = ENVELOPE_FIELDS | {"event_type", "event_version"}
"""Names no payload field may take: the envelope fields and the class-level type and version."""


def _check_payload_names(cls: type[DomainEvent]) -> None:
    """TypeError if `cls` (or a base between it and DomainEvent) redefines an envelope name
    as a field: its value would shadow the envelope's, and the event could not be stored."""
    for klass in cls.__mro__:
        if klass is DomainEvent:
            return
        for field in klass.__dict__.get("__attrs_attrs__", ()):
            if field.inherited or field.name not in ENVELOPE_NAMES:
                continue
            hint = {
                "event_type": "name the type with @register_event(event_type=...)",
                "event_version": "set it as a class attribute without a type (event_version = 2)",
            }.get(field.name, "rename the payload field")
            raise TypeError(
                f"{klass.__qualname__} defines a field {field.name!r}, a name DomainEvent "
                f"reserves for its envelope: {hint}"
            )


class EventRegistry:
    """Maps event type names to event classes, and back. Thread-safe."""

    def __init__(self) -> None:
        self._by_name: dict[str, type[DomainEvent]] = {}
        self._by_class: dict[type[DomainEvent], str] = {}
        self._lock = threading.Lock()

    def register(self, cls: type[E], event_type: str | None = None) -> type[E]:
        """Register `cls` under `event_type` (default: its `event_type`, the class name)."""
        if not (isinstance(cls, type) and issubclass(cls, DomainEvent)):
            raise TypeError(f"only DomainEvent subclasses can be registered, got {cls!r}")
        if "__attrs_attrs__" not in cls.__dict__:
            raise TypeError(
                f"{cls.__qualname__} is not an attrs class of its own: decorate it with "
                "@attrs.frozen(kw_only=True), below @register_event"
            )
        _check_payload_names(cls)
        name = cls.event_type if event_type is None else event_type
        if not isinstance(name, str) or not name or len(name) > 255 or "\x00" in name:
            raise ValueError(
                "event_type must be a non-empty str of at most 255 characters without NUL,"
                f" got {name!r}"
            )
        with self._lock:
            existing = self._by_name.get(name)
            if existing is not None and existing is not cls:
                raise DuplicateEventTypeError(name, existing, cls)
            self._by_name[name] = cls
            self._by_class.setdefault(cls, name)
        cls.event_type = self._by_class[cls]
        return cls

    def get(self, event_type: str) -> type[DomainEvent]:
        cls = self._by_name.get(event_type)
        if cls is None:
            raise EventTypeNotFoundError(event_type, self._by_name)
        return cls

    def get_or_none(self, event_type: str) -> type[DomainEvent] | None:
        return self._by_name.get(event_type)

    def name_of(self, cls: type[DomainEvent]) -> str:
        """The name `cls` is registered under here; EventTypeNotFoundError if it is not."""
        name = self._by_class.get(cls)
        if name is None:
            raise EventTypeNotFoundError(cls.event_type, self._by_name)
        return name

    def __contains__(self, item: object) -> bool:
        if isinstance(item, str):
            return item in self._by_name
        return item in self._by_class

    def __len__(self) -> int:
        return len(self._by_name)

    def list_types(self) -> list[str]:
        return sorted(self._by_name)

    def unregister(self, item: str | type[DomainEvent]) -> None:
        """Forget a name (or every name of a class). Unknown names are ignored."""
        with self._lock:
            if isinstance(item, str):
                cls = self._by_name.pop(item, None)
                if cls is not None and self._by_class.get(cls) == item:
                    del self._by_class[cls]
                    for name, other in self._by_name.items():
                        if other is cls:
                            self._by_class[cls] = name
                            break
            else:
                self._by_class.pop(item, None)
                for name in [n for n, c in self._by_name.items() if c is item]:
                    del self._by_name[name]

    def clear(self) -> None:
        with self._lock:
            self._by_name.clear()
            self._by_class.clear()

    def __repr__(self) -> str:
        return f"EventRegistry({self.list_types()!r})"


default_registry = EventRegistry()


@overload
def register_event(cls: type[E], /) -> type[E]: ...
@overload
def register_event(
    cls: type[E], /, *, event_type: str | None = None, registry: EventRegistry | None = None
) -> type[E]: ...
@overload
def register_event(
    *, event_type: str | None = None, registry: EventRegistry | None = None
) -> Callable[[type[E]], type[E]]: ...
def register_event(
    cls: type[E] | None = None,
    /,
    *,
    event_type: str | None = None,
    registry: EventRegistry | None = None,
) -> type[E] | Callable[[type[E]], type[E]]:
    """Register an event class: `@register_event` or `@register_event(event_type=...)`."""
    target = default_registry if registry is None else registry

    def decorate(event_cls: type[E]) -> type[E]:
        return target.register(event_cls, event_type)

    return decorate if cls is None else decorate(cls)
