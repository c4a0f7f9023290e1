"""`eventsource demo`: an online order's life, told as events, on the store the CLI opened.

Every run uses fresh order ids, so the demo can run again and again on the same store.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from uuid import UUID, uuid4

import attrs

from ..errors import OptimisticLockError
from ..events import DomainEvent, EventRegistry, register_event
from ..interface import SyncEventStore
from ..types import AppendResult, ReadOptions

REGISTRY = EventRegistry()
"""The demo's event classes live in a registry of their own, not in `default_registry`."""

ORDER = "Order"


@attrs.frozen(kw_only=True)
class LineItem:
    sku: str
    quantity: int
    unit_price: Decimal


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class OrderPlaced(DomainEvent):
    customer: str
    lines: tuple[LineItem, ...]
    total: Decimal


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class PaymentReceived(DomainEvent):
    amount: Decimal
    method: str


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class OrderShipped(DomainEvent):
    carrier: str
    tracking_number: str


def _short(aggregate_id: UUID) -> str:
    return str(aggregate_id)[:8]


def _describe(event: DomainEvent) -> str:
    if isinstance(event, OrderPlaced):
        count = sum(line.quantity for line in event.lines)
        return f"customer={event.customer}, total={event.total}, {count} items"
    if isinstance(event, PaymentReceived):
        return f"amount={event.amount}, method={event.method}"
    if isinstance(event, OrderShipped):
        return f"carrier={event.carrier}, tracking_number={event.tracking_number}"
    return type(event).__name__


def _result(result: AppendResult) -> str:
    return f"-> version {result.new_version}, global position {result.global_position}"


def run(
    store: SyncEventStore,
    where: str,
    say: Callable[[str], None] = print,
    *,
    command: str = "eventsource",
) -> None:
    """Walk through an order workflow on `store` (whose registry is `REGISTRY`).

    `command` is how the user ran the CLI: the closing suggestions spell it that way.
    """
    store.initialize()
    start = store.get_global_position()
    ada_order, grace_order = uuid4(), uuid4()

    say(f"eventsource demo: an online order, told as events, stored in {where}")
    say("")
    say("Events are facts in the past tense; here, three frozen attrs classes:")
    say("  OrderPlaced(customer, lines, total)  PaymentReceived(amount, method)")
    say("  OrderShipped(carrier, tracking_number)")
    say("An order's events form a stream, '<order id>:Order'; versions count from 1.")
    say("")

    say(f"1. Ada places order {_short(ada_order)} (expected_version=0: a new stream)")
    placed = OrderPlaced(
        aggregate_id=ada_order,
        customer="Ada",
        lines=(
            LineItem(sku="BOOK-42", quantity=2, unit_price=Decimal("12.50")),
            LineItem(sku="PEN-7", quantity=1, unit_price=Decimal("17.50")),
        ),
        total=Decimal("42.50"),
    )
    say(f"   OrderPlaced total {placed.total}  {_result(_append(store, placed, 0))}")
    say(f"   Grace places order {_short(grace_order)}, another stream in the same log:")
    other = OrderPlaced(
        aggregate_id=grace_order,
        customer="Grace",
        lines=(LineItem(sku="MUG-1", quantity=1, unit_price=Decimal("9.99")),),
        total=Decimal("9.99"),
    )
    say(f"   OrderPlaced total {other.total}  {_result(_append(store, other, 0))}")
    say("")

    say(f"2. Two clerks open order {_short(ada_order)}: both load it at version 1.")
    alice_view = store.get_events(ada_order, ORDER)
    bob_view = store.get_events(ada_order, ORDER)
    payment = PaymentReceived(aggregate_id=ada_order, amount=Decimal("42.50"), method="card")
    result = _append(store, payment, alice_view.version)
    say(f"   Alice records the payment (expected_version={alice_view.version})  {_result(result)}")
    shipped = OrderShipped(aggregate_id=ada_order, carrier="DHL", tracking_number="DHL-0042")
    try:
        _append(store, shipped, bob_view.version)
    except OptimisticLockError as exc:
        say(f"   Bob ships it (expected_version={bob_view.version})  -> OptimisticLockError:")
        say(f"     {exc}")
        say("     Nothing was written: Bob decided on a state that is no longer true.")
    bob_view = store.get_events(ada_order, ORDER)
    paid = any(isinstance(event, PaymentReceived) for event in bob_view.events)
    say(
        f"   Bob reloads: {len(bob_view)} events, version {bob_view.version}; "
        f"paid={paid}, so shipping is still right."
    )
    result = _append(store, shipped, bob_view.version)
    say(f"   Bob ships it again (expected_version={bob_view.version})  {_result(result)}")
    say("")

    stream = store.get_events(ada_order, ORDER)
    say(f"3. The stream {ada_order}:{ORDER}, read back (get_events):")
    for event in stream.events:
        say(f"   v{event.aggregate_version}  {event.event_type:<16} {_describe(event)}")
    total = stream.events[0].total  # type: ignore[attr-defined]
    say(f"   Amounts come back exactly: total is {total!r}.")
    say("")

    say("4. The global log (read_all): every stream, interleaved in commit order:")
    say("   POSITION  STREAM          VERSION  TYPE")
    log = list(store.read_all(ReadOptions(from_position=start)))
    for stored in log:
        stream_label = f"{_short(stored.aggregate_id)}:{stored.aggregate_type}"
        say(
            f"   {stored.global_position:>8}  {stream_label:<14}  {stored.stream_position:>7}"
            f"  {stored.event_type}"
        )
    say("")

    stats = store.get_stats()
    say(
        f"Summary: {len(log)} events appended to 2 streams, 1 conflict caught and retried. "
        f"The store holds {stats.event_count} events in {stats.stream_count} streams."
    )
    say("Next, try:")
    say(f"  {command} streams")
    say(f"  {command} read {ada_order}:{ORDER}")
    say(f"  {command} stats")
    say(f"  {command} tail --follow    (then run the demo again in another terminal)")


def _append(store: SyncEventStore, event: DomainEvent, expected_version: int) -> AppendResult:
    return store.append_events(event.aggregate_id, ORDER, [event], expected_version)
