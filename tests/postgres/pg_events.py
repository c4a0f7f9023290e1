"""Event classes for the PostgreSQL-specific tests, in a registry of their own."""

from __future__ import annotations

from decimal import Decimal

import attrs

from eventsource import DomainEvent, EventRegistry, register_event

registry = EventRegistry()


@register_event(registry=registry)
@attrs.frozen(kw_only=True)
class Deposited(DomainEvent):
    amount: Decimal
    note: str = ""
