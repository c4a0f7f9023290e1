"""What an event may hold, and that it comes back exactly (DESIGN sections 2 and 7)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID, uuid4

import attrs
import pytest
from checks import assert_exact, nothing_written
from sample_events import (
    PLUS_TWO,
    Color,
    ElsewhereOnly,
    Happened,
    Measured,
    NotRegistered,
    Priority,
    Renamed,
    Scalars,
    Untyped,
    happened,
    sample_containers,
    sample_scalars,
    sample_untyped_values,
)

from eventsource import (
    DomainEvent,
    EventTypeNotFoundError,
    SerializationError,
    SyncEventStore,
)


def _round_trip(store: SyncEventStore, event: DomainEvent) -> DomainEvent:
    """Append `event` to a new "Order" stream and read it back by every reader."""
    store.append_events(event.aggregate_id, "Order", [event], 0)
    by_stream = store.get_events(event.aggregate_id, "Order").events
    assert len(by_stream) == 1
    by_type = [e for e in store.get_events_by_type("Order") if e.event_id == event.event_id]
    stored = [s.event for s in store.read_stream(f"{event.aggregate_id}:Order")]
    logged = [s.event for s in store.read_all() if s.event_id == event.event_id]
    for other in (by_type[0], stored[0], logged[0]):
        assert_exact(other, by_stream[0])
    return by_stream[0]


def _as_stored(event: DomainEvent) -> DomainEvent:
    return attrs.evolve(event, aggregate_type="Order", aggregate_version=1)


def _with_envelope(aggregate_id: UUID) -> Happened:
    cause = Happened(aggregate_id=uuid4())
    return Happened(
        aggregate_id=aggregate_id,
        occurred_at=datetime(2023, 7, 14, 22, 15, 30, 654321, tzinfo=PLUS_TWO),
        tenant_id=uuid4(),
        actor_id="user-7",
        note="with every envelope field",
        metadata={"source": "test", "attempt": 2},
    ).with_causation(cause)


@pytest.mark.parametrize(
    "make",
    [sample_scalars, sample_containers, _with_envelope],
    ids=["scalars", "containers", "envelope"],
)
def test_typed_fields_round_trip_exactly(
    store: SyncEventStore, make: Callable[[UUID], DomainEvent]
) -> None:
    event = make(uuid4())
    read = _round_trip(store, event)
    assert type(read) is type(event)
    assert_exact(read, _as_stored(event))


def test_decimal_keeps_its_exponent(store: SyncEventStore) -> None:
    event = attrs.evolve(sample_scalars(uuid4()), amount=Decimal("1.10"))
    read = _round_trip(store, event)
    assert isinstance(read, Scalars)
    assert str(read.amount) == "1.10"


def test_aware_datetime_keeps_its_instant(store: SyncEventStore) -> None:
    moment = datetime(2024, 5, 17, 9, 30, 15, 123456, tzinfo=PLUS_TWO)
    event = attrs.evolve(sample_scalars(uuid4()), moment=moment, occurred_at=moment)
    read = _round_trip(store, event)
    assert isinstance(read, Scalars)
    for value in (read.moment, read.occurred_at):
        assert value.utcoffset() is not None
        assert value == moment
        assert value.astimezone(UTC) == datetime(2024, 5, 17, 7, 30, 15, 123456, tzinfo=UTC)


@pytest.mark.parametrize("where", ["any", "bare_list", "bare_dict", "bare_tuple", "metadata"])
def test_untyped_positions_round_trip_exactly(store: SyncEventStore, where: str) -> None:
    values = sample_untyped_values()
    aggregate_id = uuid4()
    cases: dict[str, dict[str, Any]] = {
        "any": {"anything": values},
        "bare_list": {"anything": None, "bare_list": list(values.values())},
        "bare_dict": {"anything": None, "bare_dict": values},
        "bare_tuple": {"anything": None, "bare_tuple": tuple(values.values())},
        "metadata": {"anything": None, "metadata": values},
    }
    event = Untyped(aggregate_id=aggregate_id, **cases[where])
    assert_exact(_round_trip(store, event), _as_stored(event))


@pytest.mark.parametrize(
    "value",
    [
        "",
        "plain",
        Decimal("1.10"),
        Decimal("-0"),
        Decimal("1E+3"),
        12345678901234567890,
        -7,
        1.5,
        True,
        None,
        uuid4(),
        date(2024, 2, 29),
        datetime(2024, 2, 29, 23, 59, 59, tzinfo=PLUS_TWO),
        [],
        (),
        {},
        [(1, 2), {"k": [Decimal("0.10")]}],
    ],
    ids=repr,
)
def test_any_field_values_round_trip_exactly(store: SyncEventStore, value: Any) -> None:
    event = Untyped(aggregate_id=uuid4(), anything=value, metadata={"value": value})
    assert_exact(_round_trip(store, event), _as_stored(event))


def test_awkward_strings_round_trip_exactly(store: SyncEventStore) -> None:
    text = "\U0001f600 e\u0301 \u2028 \\u0000 \\\\u0000 \ue000"  # astral, escapes lookalikes
    event = Untyped(aggregate_id=uuid4(), anything=text, metadata={"text": text})
    assert_exact(_round_trip(store, event), _as_stored(event))


@pytest.mark.parametrize("where", ["payload", "metadata", "nested key"])
@pytest.mark.parametrize("text", ["\x00", "a\x00b", "\\\x00"], ids=["nul", "inner", "escaped"])
def test_nul_characters_are_serialization_errors_everywhere(
    store: SyncEventStore, where: str, text: str
) -> None:
    """PostgreSQL's JSONB cannot hold NUL, so no backend stores it: none behaves differently."""
    aggregate_id = uuid4()
    fields: dict[str, Any] = {"anything": None}
    if where == "payload":
        fields["anything"] = text
    elif where == "metadata":
        fields["metadata"] = {"text": text}
    else:
        fields["anything"] = {"outer": {text: 1}}
    with nothing_written(store), pytest.raises(SerializationError, match="NUL"):
        store.append_events(
            aggregate_id, "Order", [Untyped(aggregate_id=aggregate_id, **fields)], 0
        )


@pytest.mark.parametrize("where", ["payload", "metadata"])
def test_lone_surrogates_are_serialization_errors(store: SyncEventStore, where: str) -> None:
    aggregate_id = uuid4()
    text = "broken \ud800 text"
    fields: dict[str, Any] = {"anything": text} if where == "payload" else {"anything": None}
    if where == "metadata":
        fields["metadata"] = {"text": text}
    with nothing_written(store), pytest.raises(SerializationError):
        store.append_events(
            aggregate_id, "Order", [Untyped(aggregate_id=aggregate_id, **fields)], 0
        )


def test_registered_name_is_stored_and_read_back(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    event = Renamed(aggregate_id=aggregate_id, name="new name")
    store.append_events(aggregate_id, "Order", [event], 0)
    (stored,) = store.read_stream(f"{aggregate_id}:Order")
    assert stored.event_type == "test.renamed"
    assert type(stored.event) is Renamed
    assert stored.event.event_version == 3
    assert stored.event == _as_stored(event)


@pytest.mark.parametrize(
    "bad",
    [
        {"anything": {1, 2}},
        {"anything": frozenset({"a"})},
        {"anything": object()},
        {"anything": b"bytes"},
        {"anything": [object()]},
        {"anything": {1: "non-str key in an untyped dict"}},
        {"anything": None, "metadata": {"key": {1, 2}}},
        {"anything": None, "metadata": {"key": object()}},
        {"anything": float("nan")},
        {"anything": None, "metadata": {"key": float("inf")}},
        {"anything": Color.RED},
        {"anything": [Priority.HIGH]},
        {"anything": None, "metadata": {"key": Priority.LOW}},
    ],
    ids=[
        "set",
        "frozenset",
        "object",
        "bytes",
        "object-in-list",
        "int-key",
        "set-in-metadata",
        "object-in-metadata",
        "nan",
        "inf-in-metadata",
        "enum",
        "int-enum-in-list",
        "int-enum-in-metadata",
    ],
)
def test_unsupported_untyped_values_are_serialization_errors(
    store: SyncEventStore, bad: dict[str, Any]
) -> None:
    """Where no annotation tells the type, what cannot come back exactly is refused.

    Enum members among them: even a str or int enum would come back a plain str or int.
    """
    aggregate_id = uuid4()
    batch = [*happened(aggregate_id, 1), Untyped(aggregate_id=aggregate_id, **bad)]
    with nothing_written(store), pytest.raises(SerializationError):
        store.append_events(aggregate_id, "Order", batch, 0)


@pytest.mark.parametrize(
    "value", [float("nan"), float("inf"), float("-inf")], ids=["nan", "inf", "-inf"]
)
def test_non_finite_floats_are_serialization_errors(store: SyncEventStore, value: float) -> None:
    aggregate_id = uuid4()
    with nothing_written(store), pytest.raises(SerializationError):
        store.append_events(
            aggregate_id, "Order", [Measured(aggregate_id=aggregate_id, value=value)], 0
        )


@pytest.mark.parametrize(
    "change",
    [
        {"moment": datetime(2024, 1, 1, 12)},
        {"maybe_amount": {1, 2}},
        {"amount": 1.1},
        {"ref": object()},
        {"ref": "12345678-1234-5678-1234-567812345678"},
        {"day": datetime(2024, 1, 1, 12, tzinfo=UTC)},
        {"color": "red"},
    ],
    ids=[
        "naive-datetime-field",
        "set-in-decimal-field",
        "float-in-decimal-field",
        "object-in-uuid-field",
        "str-in-uuid-field",
        "datetime-in-date-field",
        "str-in-enum-field",
    ],
)
def test_wrong_values_in_typed_fields_fail_before_writing(
    store: SyncEventStore, change: dict[str, Any]
) -> None:
    """attrs does not enforce annotations; the store must, rather than store what won't read."""
    aggregate_id = uuid4()
    event = attrs.evolve(sample_scalars(aggregate_id), **change)
    with nothing_written(store), pytest.raises((ValueError, SerializationError)):
        store.append_events(aggregate_id, "Order", [event], 0)


@pytest.mark.parametrize(
    "event_fields",
    [
        {"anything": datetime(2024, 1, 1, 12)},
        {"anything": [datetime(2024, 1, 1, 12)]},
        {"anything": None, "metadata": {"at": datetime(2024, 1, 1, 12)}},
    ],
    ids=["any", "in-list", "metadata"],
)
def test_naive_datetime_anywhere_is_value_error_nothing_written(
    store: SyncEventStore, event_fields: dict[str, Any]
) -> None:
    aggregate_id = uuid4()
    event = Untyped(aggregate_id=aggregate_id, **event_fields)
    with nothing_written(store), pytest.raises(ValueError, match="timezone-aware"):
        store.append_events(aggregate_id, "Order", [event], 0)


def test_naive_datetime_in_a_typed_field_is_value_error(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    event = attrs.evolve(sample_scalars(aggregate_id), moment=datetime(2024, 1, 1, 12))
    with nothing_written(store), pytest.raises(ValueError, match="timezone-aware"):
        store.append_events(aggregate_id, "Order", [event], 0)


@pytest.mark.parametrize("cls", [NotRegistered, ElsewhereOnly], ids=["unregistered", "elsewhere"])
def test_class_unknown_to_the_stores_registry_is_not_found(
    store: SyncEventStore, cls: type[DomainEvent]
) -> None:
    aggregate_id = uuid4()
    batch = [*happened(aggregate_id, 1), cls(aggregate_id=aggregate_id)]
    with nothing_written(store), pytest.raises(EventTypeNotFoundError) as caught:
        store.append_events(aggregate_id, "Order", batch, 0)
    assert caught.value.event_type == cls.__name__
    assert "Happened" in str(caught.value)  # the known names are listed
