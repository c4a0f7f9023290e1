"""The events the examples share: a tiny bank account."""

from __future__ import annotations

from decimal import Decimal

import attrs

from eventsource import DomainEvent, register_event


@register_event(event_type="bank.account_opened")
@attrs.frozen(kw_only=True)
class AccountOpened(DomainEvent):
    owner: str


@register_event(event_type="bank.deposited")
@attrs.frozen(kw_only=True)
class Deposited(DomainEvent):
    amount: Decimal


@register_event(event_type="bank.withdrawn")
@attrs.frozen(kw_only=True)
class Withdrawn(DomainEvent):
    amount: Decimal


def balance(events: list[DomainEvent] | tuple[DomainEvent, ...]) -> Decimal:
    """Fold an account's events into its balance."""
    total = Decimal("0.00")
    for event in events:
        if isinstance(event, Deposited):
            total += event.amount
        elif isinstance(event, Withdrawn):
            total -= event.amount
    return total
