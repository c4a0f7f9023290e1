"""`eventsource._core.rules`: the store contract's rules that every backend shares."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import attrs
import pytest

from eventsource import (
    AppendResult,
    DomainEvent,
    DuplicateEventError,
    EventRegistry,
    EventTypeNotFoundError,
    ExpectedVersion,
    OptimisticLockError,
    ReadOptions,
    register_event,
)
from eventsource._core.rules import (
    AppendRequest,
    ExistingEvent,
    check_expected_version,
    check_read_options,
    check_since,
    check_time_range,
    check_version,
    idempotent_result,
    parse_stream_id,
    prepare_append,
    stream_id,
)

REGISTRY = EventRegistry()


@register_event(registry=REGISTRY)
@attrs.frozen(kw_only=True)
class Noted(DomainEvent):
    note: str = ""


# -- stream ids ---------------------------------------------------------------------------------


def test_stream_id_round_trip() -> None:
    aggregate_id = uuid4()
    assert stream_id(aggregate_id, "Order") == f"{aggregate_id}:Order"
    assert parse_stream_id(stream_id(aggregate_id, "Order")) == (aggregate_id, "Order")


@pytest.mark.parametrize(
    ("suffix", "expected_type"),
    [("", None), (":Order", "Order"), (":billing:Invoice", "billing:Invoice"), (": x", " x")],
)
def test_parse_stream_id_splits_at_the_first_colon(suffix: str, expected_type: str | None) -> None:
    aggregate_id = uuid4()
    assert parse_stream_id(f"{aggregate_id}{suffix}") == (aggregate_id, expected_type)


def test_parse_stream_id_accepts_uuid_spellings() -> None:
    aggregate_id = uuid4()
    assert parse_stream_id(f"{aggregate_id.hex.upper()}:T") == (aggregate_id, "T")


@pytest.mark.parametrize(
    "value",
    [
        "",
        "nope",
        "nope:Order",
        ":Order",
        "{id}:",
        "{id}:" + "x" * 256,
        "{id}:a\x00b",
        "{id}:\ud800",
    ],
    ids=[
        "empty",
        "garbage",
        "bad-uuid",
        "no-uuid",
        "empty-type",
        "long-type",
        "nul-in-type",
        "surrogate-in-type",
    ],
)
def test_parse_stream_id_malformed_is_value_error(value: str) -> None:
    with pytest.raises(ValueError, match="malformed stream id"):
        parse_stream_id(value.format(id=uuid4()))


def test_parse_stream_id_of_a_non_str_is_type_error() -> None:
    with pytest.raises(TypeError):
        parse_stream_id(uuid4())


# -- expected versions ---------------------------------------------------------------------------


@pytest.mark.parametrize("value", [-2, -1, 0, 1, 10**12])
def test_check_expected_version_accepts(value: int) -> None:
    assert check_expected_version(value) == value


@pytest.mark.parametrize("value", [-3, -100])
def test_check_expected_version_other_negatives_are_value_errors(value: int) -> None:
    with pytest.raises(ValueError, match="expected_version"):
        check_expected_version(value)


@pytest.mark.parametrize("value", [True, "1", 1.0, None])
def test_check_expected_version_non_int_is_type_error(value: object) -> None:
    with pytest.raises(TypeError, match="expected_version"):
        check_expected_version(value)


@pytest.mark.parametrize(
    ("expected", "actual", "ok"),
    [
        (ExpectedVersion.ANY, 0, True),
        (ExpectedVersion.ANY, 5, True),
        (ExpectedVersion.NO_STREAM, 0, True),
        (ExpectedVersion.NO_STREAM, 1, False),
        (ExpectedVersion.STREAM_EXISTS, 1, True),
        (ExpectedVersion.STREAM_EXISTS, 0, False),
        (3, 3, True),
        (3, 2, False),
        (3, 4, False),
    ],
)
def test_check_version(expected: int, actual: int, ok: bool) -> None:
    aggregate_id = uuid4()
    if ok:
        check_version(aggregate_id, "Order", expected, actual)
        return
    with pytest.raises(OptimisticLockError) as caught:
        check_version(aggregate_id, "Order", expected, actual)
    error = caught.value
    assert (error.aggregate_id, error.aggregate_type) == (aggregate_id, "Order")
    assert (error.expected_version, error.actual_version) == (expected, actual)


# -- preparing an append -------------------------------------------------------------------------


def test_prepare_append_encodes_the_batch() -> None:
    aggregate_id = uuid4()
    events = [
        Noted(aggregate_id=aggregate_id, note="a"),
        Noted(aggregate_id=aggregate_id, aggregate_type="Order", note="b"),
    ]
    request = prepare_append(aggregate_id, "Order", events, 0, REGISTRY)
    assert isinstance(request, AppendRequest)
    assert (request.aggregate_id, request.aggregate_type, request.expected_version) == (
        aggregate_id,
        "Order",
        0,
    )
    assert request.event_ids == [event.event_id for event in events]
    assert [new.aggregate_type for new in request.events] == ["Order", "Order"]
    assert [new.event_type for new in request.events] == ["Noted", "Noted"]
    assert request.events[0].payload == '{"note":"a"}'


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        (("not-a-uuid", "Order", 0), TypeError, "aggregate_id"),
        ((None, "", 0), TypeError, "aggregate_id"),
        (("{id}", "", 0), ValueError, "aggregate_type"),
        (("{id}", "Order", -5), ValueError, "expected_version"),
    ],
)
def test_prepare_append_checks_its_arguments(
    args: tuple[object, str, int], error: type[Exception], match: str
) -> None:
    aggregate_id = uuid4()
    raw_id, aggregate_type, expected = args
    target = aggregate_id if raw_id == "{id}" else raw_id
    with pytest.raises(error, match=match):
        prepare_append(target, aggregate_type, [], expected, REGISTRY)


def test_prepare_append_checks_each_event() -> None:
    aggregate_id = uuid4()
    with pytest.raises(ValueError, match=r"events\[1\] has aggregate_id"):
        prepare_append(
            aggregate_id,
            "Order",
            [Noted(aggregate_id=aggregate_id), Noted(aggregate_id=uuid4())],
            0,
            REGISTRY,
        )
    with pytest.raises(ValueError, match=r"events\[0\] has aggregate_type 'Invoice'"):
        prepare_append(
            aggregate_id,
            "Order",
            [Noted(aggregate_id=aggregate_id, aggregate_type="Invoice")],
            0,
            REGISTRY,
        )
    with pytest.raises(TypeError, match="DomainEvent"):
        prepare_append(aggregate_id, "Order", ["not an event"], 0, REGISTRY)  # type: ignore[list-item]
    with pytest.raises(TypeError, match="list"):
        prepare_append(aggregate_id, "Order", Noted(aggregate_id=aggregate_id), 0, REGISTRY)  # type: ignore[arg-type]


def test_prepare_append_same_id_twice_is_duplicate() -> None:
    aggregate_id = uuid4()
    event = Noted(aggregate_id=aggregate_id)
    with pytest.raises(DuplicateEventError) as caught:
        prepare_append(aggregate_id, "Order", [event, event], 0, REGISTRY)
    assert caught.value.event_ids == (event.event_id,)


def test_prepare_append_unknown_class_is_not_found() -> None:
    aggregate_id = uuid4()
    with pytest.raises(EventTypeNotFoundError):
        prepare_append(
            aggregate_id, "Order", [Noted(aggregate_id=aggregate_id)], 0, EventRegistry()
        )


# -- idempotent retries --------------------------------------------------------------------------


def _request(aggregate_id: UUID, count: int) -> AppendRequest:
    events = [Noted(aggregate_id=aggregate_id, note=str(i)) for i in range(count)]
    return prepare_append(aggregate_id, "Order", events, ExpectedVersion.ANY, REGISTRY)


def _existing(request: AppendRequest, *, aggregate_type: str = "Order") -> list[ExistingEvent]:
    return [
        ExistingEvent(new.event_id, request.aggregate_id, aggregate_type, version, 100 + version)
        for version, new in enumerate(request.events, start=1)
    ]


def test_idempotent_result_none_when_nothing_is_stored() -> None:
    assert idempotent_result(_request(uuid4(), 2), []) is None


def test_idempotent_result_of_a_retried_batch_is_its_last_event() -> None:
    request = _request(uuid4(), 3)
    existing = _existing(request)
    assert idempotent_result(request, existing) == AppendResult.successful(3, 103)
    # The rows may come in any order: the batch's last event decides.
    assert idempotent_result(request, existing[::-1]) == AppendResult.successful(3, 103)


def test_idempotent_result_partial_overlap_is_duplicate() -> None:
    request = _request(uuid4(), 3)
    existing = _existing(request)[1:2]
    with pytest.raises(DuplicateEventError, match="other events of the batch are new") as caught:
        idempotent_result(request, existing)
    assert caught.value.event_ids == (request.events[1].event_id,)


@pytest.mark.parametrize("where", ["other-type", "other-id"])
def test_idempotent_result_all_stored_elsewhere_is_duplicate(where: str) -> None:
    request = _request(uuid4(), 2)
    if where == "other-type":
        existing = _existing(request, aggregate_type="Invoice")
    else:
        existing = [row._replace(aggregate_id=uuid4()) for row in _existing(request)]
    with pytest.raises(DuplicateEventError, match="another stream") as caught:
        idempotent_result(request, existing)
    assert caught.value.event_ids == tuple(request.event_ids)


# -- read arguments ------------------------------------------------------------------------------


def test_check_read_options() -> None:
    assert check_read_options(None) == ReadOptions()
    options = ReadOptions(limit=3)
    assert check_read_options(options) is options
    with pytest.raises(TypeError):
        check_read_options({"limit": 3})


def test_check_time_range() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    assert check_time_range(None, None) == (None, None)
    assert check_time_range(moment, moment) == (moment, moment)
    with pytest.raises(ValueError, match="from_timestamp"):
        check_time_range(datetime(2024, 1, 1), None)
    with pytest.raises(ValueError, match="to_timestamp"):
        check_time_range(None, datetime(2024, 1, 1))


def test_check_since_takes_epoch_seconds_or_aware_datetimes() -> None:
    moment = datetime(2024, 1, 1, tzinfo=UTC)
    assert check_since(None) is None
    assert check_since(moment) is moment
    assert check_since(moment.timestamp()) == moment
    assert check_since(int(moment.timestamp())) == moment
    with pytest.raises(ValueError, match="from_timestamp"):
        check_since(datetime(2024, 1, 1))
    with pytest.raises(TypeError):
        check_since(True)
