"""Hostile and extreme input on every backend: a typed error or an exact round trip, never a
raw driver error, never a partial write, never SQL run from data.

- `HOSTILE_CALLS`: one table of wrong calls (malformed stream ids, naive datetimes, wrong
  types, out-of-range versions and cursors), each with the error it must raise, nothing
  written.
- big batches and big payloads; NUL characters in every position; SQL injection strings as
  aggregate types, event type names, payloads, metadata and actor ids.
- values at the edges (big ints, floats with an exponent, -0.0, odd UTC offsets); the one
  defect left (R6) as a strict xfail.
"""

from __future__ import annotations

import contextlib
import math
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from uuid import UUID, uuid4

import attrs
import psycopg
import pytest
import reliability_report
from checks import assert_exact, nothing_written
from reliability_bugs import (
    PG_NEGATIVE_ZERO,
    expect_bug,
)
from reliability_events import Note, Numbers, hostile_class

from eventsource import (
    DomainEvent,
    DuplicateEventError,
    ExpectedVersion,
    OptimisticLockError,
    ReadDirection,
    ReadOptions,
    SerializationError,
    SyncEventStore,
)

TYPE = "Hostile"
NAIVE = datetime(2024, 1, 1, 12)
AWARE = datetime(2024, 1, 1, 12, tzinfo=UTC)


def _counted(backend_id: str, category: str) -> None:
    """One more input tried on this backend (the report's per-backend input counts)."""
    reliability_report.count(f"inputs[{backend_id}]", category)
    reliability_report.count(f"inputs[{backend_id}]", "examples")


def _round_trip_or_refused(store: SyncEventStore, aggregate_id: UUID, event: DomainEvent) -> str:
    """Append `event` to a new stream: a SerializationError with nothing written, or an
    exact round trip. Which one happened."""
    try:
        store.append_events(aggregate_id, TYPE, [event], 0)
    except SerializationError:
        assert store.get_stream_version(aggregate_id, TYPE) == 0
        assert not store.event_exists(event.event_id)
        return "SerializationError"
    (read,) = store.get_events(aggregate_id, TYPE).events
    assert_exact(read, attrs.evolve(event, aggregate_type=TYPE, aggregate_version=1))
    assert read.event_type == event.event_type
    return "round trip"


# -- one table of wrong calls ------------------------------------------------------------------

A = UUID("00000000-0000-4000-8000-000000000001")  # a stream that holds one event
Call = Callable[[Any], Any]  # Any: the calls are wrong on purpose
Options: Any = ReadOptions


def _note(**fields: Any) -> Note:
    return Note(aggregate_id=A, text="x", **fields)


def _append(events: Any, expected: Any = ExpectedVersion.ANY, *, aid: Any = A) -> Call:
    return lambda store: store.append_events(aid, TYPE, events, expected)


def _read_stream(stream_id: Any, options: Any = None) -> Call:
    return lambda store: list(store.read_stream(stream_id, options))


HOSTILE_CALLS: list[tuple[str, Call, type[Exception]]] = [
    # malformed stream ids (read_stream)
    ("stream-id-int", _read_stream(123), TypeError),
    ("stream-id-none", _read_stream(None), TypeError),
    ("stream-id-bytes", _read_stream(f"{A}:{TYPE}".encode()), TypeError),
    ("stream-id-uuid-object", _read_stream(A), TypeError),
    ("stream-id-sql", _read_stream("x'; DROP TABLE events; --"), ValueError),
    ("stream-id-sql-type-too-long", _read_stream(f"{A}:" + "'" * 256), ValueError),
    ("stream-id-nul-type", _read_stream(f"{A}:a\x00b"), ValueError),
    ("stream-id-surrogate-type", _read_stream(f"{A}:a\ud800"), ValueError),
    ("stream-id-urn", _read_stream(f"urn:uuid:{A}"), ValueError),
    ("stream-id-spaces", _read_stream(f" {A}:{TYPE}"), ValueError),
    ("stream-id-newline", _read_stream(f"{A}\n:{TYPE}"), ValueError),
    ("read-options-dict", _read_stream(f"{A}:{TYPE}", {"limit": 1}), TypeError),
    # naive datetimes: fields and filters
    ("naive-metadata", _append([_note(metadata={"at": NAIVE})]), ValueError),
    ("naive-untyped-nested", _append([_note(extra={"a": [(NAIVE,)]})]), ValueError),
    ("naive-get-events-from", lambda s: s.get_events(A, TYPE, from_timestamp=NAIVE), ValueError),
    ("naive-get-events-to", lambda s: s.get_events(A, TYPE, to_timestamp=NAIVE), ValueError),
    ("naive-by-type", lambda s: s.get_events_by_type(TYPE, from_timestamp=NAIVE), ValueError),
    ("naive-read-options", lambda s: ReadOptions(from_timestamp=NAIVE), ValueError),
    ("naive-occurred-at", lambda s: _note(occurred_at=NAIVE), ValueError),
    ("date-as-timestamp", lambda s: s.get_events(A, TYPE, from_timestamp=AWARE.date()), TypeError),
    ("str-timestamp", lambda s: s.get_events_by_type(TYPE, from_timestamp="2024"), TypeError),
    # wrong types: a str where a UUID belongs, and friends
    ("append-str-id", _append([_note()], aid=str(A)), TypeError),
    ("get-events-str-id", lambda s: s.get_events(str(A), TYPE), TypeError),
    ("version-str-id", lambda s: s.get_stream_version(str(A), TYPE), TypeError),
    ("exists-str-id", lambda s: s.event_exists(str(uuid4())), TypeError),
    ("exists-int-id", lambda s: s.event_exists(uuid4().int), TypeError),
    ("by-type-str-tenant", lambda s: s.get_events_by_type(TYPE, tenant_id=str(A)), TypeError),
    ("read-options-str-tenant", lambda s: Options(tenant_id=str(A)), TypeError),
    ("aggregate-type-none", lambda s: s.append_events(A, None, [_note()], -1), TypeError),
    ("aggregate-type-bytes", lambda s: s.get_stream_version(A, b"Hostile"), TypeError),
    ("events-not-a-list", _append(_note()), TypeError),
    ("events-a-str", _append("events"), TypeError),
    ("events-a-generator", _append(_note() for _ in range(2)), TypeError),
    ("events-a-dict", _append([{"aggregate_id": A}]), TypeError),
    ("expected-str", _append([_note()], "0"), TypeError),
    ("expected-float", _append([_note()], 0.0), TypeError),
    ("expected-bool", _append([_note()], True), TypeError),
    ("expected-none", _append([_note()], None), TypeError),
    ("from-version-str", lambda s: s.get_events(A, TYPE, from_version="1"), TypeError),
    ("limit-float", lambda s: Options(limit=1.5), TypeError),
    ("direction-str", lambda s: Options(direction="backward"), TypeError),
    # out-of-range versions and cursors
    ("expected-minus-3", _append([_note()], -3), ValueError),
    ("expected-minus-2-pow-70", _append([_note()], -(2**70)), ValueError),
    ("expected-2-pow-31", _append([_note()], 2**31), OptimisticLockError),
    ("expected-2-pow-63", _append([_note()], 2**63), OptimisticLockError),
    ("expected-2-pow-70", _append([_note()], 2**70), OptimisticLockError),
    ("from-position-negative", lambda s: ReadOptions(from_position=-1), ValueError),
    ("limit-negative", lambda s: ReadOptions(limit=-1), ValueError),
    # aggregate types the contract refuses
    ("aggregate-type-empty", lambda s: s.get_stream_version(A, ""), ValueError),
    ("aggregate-type-256", lambda s: s.get_stream_version(A, "x" * 256), ValueError),
    ("aggregate-type-nul", lambda s: s.get_events_by_type("a\x00"), ValueError),
    ("aggregate-type-surrogate", lambda s: s.get_stream_version(A, "\udfff"), ValueError),
    ("event-of-another-stream", _append([Note(aggregate_id=uuid4())]), ValueError),
    ("duplicate-id-in-batch", lambda s: _append([e := _note(), e])(s), DuplicateEventError),
]


@pytest.mark.parametrize(
    ("call", "error"),
    [pytest.param(call, error, id=name) for name, call, error in HOSTILE_CALLS],
)
def test_wrong_calls_raise_their_typed_error_and_write_nothing(
    any_store: SyncEventStore, call: Call, error: type[Exception], backend_id: str
) -> None:
    any_store.append_events(A, TYPE, [Note(aggregate_id=A, text="there")], 0)
    with nothing_written(any_store), pytest.raises(error) as caught:
        call(any_store)
    assert caught.type.__module__.split(".")[0] in ("builtins", "eventsource")
    if isinstance(caught.value, OptimisticLockError):
        assert caught.value.actual_version == 1
    _counted(backend_id, "wrong calls")


@pytest.mark.parametrize(
    ("spelling", "found"),
    [
        (lambda a: f"{a}:{TYPE}", True),
        (lambda a: f"{str(a).upper()}:{TYPE}", True),
        (lambda a: f"{{{a}}}:{TYPE}", True),
        (lambda a: f"{a.hex}:{TYPE}", True),
        (lambda a: f"{a}:{TYPE.lower()}", False),
        (lambda a: f"{a}:{TYPE} ", False),
        (lambda a: f"{a}:{TYPE}' OR '1'='1", False),
    ],
    ids=["canonical", "upper-case", "braces", "hex", "other-case-type", "trailing-space", "sql"],
)
def test_stream_id_spellings_read_exactly_that_stream(
    any_store: SyncEventStore, spelling: Callable[[UUID], str], found: bool, backend_id: str
) -> None:
    """Python's UUID parser accepts upper case, braces and bare hex: they name the same
    stream, and the events carry the canonical stream id. The type is matched exactly."""
    aggregate_id, other = uuid4(), uuid4()
    any_store.append_events(aggregate_id, TYPE, [Note(aggregate_id=aggregate_id)], 0)
    any_store.append_events(other, TYPE, [Note(aggregate_id=other)], 0)
    read = list(any_store.read_stream(spelling(aggregate_id)))
    assert [s.stream_id for s in read] == ([f"{aggregate_id}:{TYPE}"] if found else [])
    _counted(backend_id, "stream id spellings")


@pytest.mark.parametrize("from_position", [2**31, 2**63, 2**70])
@pytest.mark.parametrize("direction", list(ReadDirection), ids=lambda d: d.value)
def test_huge_cursors_and_limits_are_harmless(
    any_store: SyncEventStore, from_position: int, direction: ReadDirection, backend_id: str
) -> None:
    """A cursor no event has reads nothing (or everything, backward from beyond the end);
    a huge limit is no limit; a huge from_version selects nothing."""
    aggregate_id = uuid4()
    events = [Note(aggregate_id=aggregate_id, text=str(i)) for i in range(3)]
    any_store.append_events(aggregate_id, TYPE, events, 0)
    options = ReadOptions(direction=direction, from_position=from_position, limit=from_position)
    stream = list(any_store.read_stream(f"{aggregate_id}:{TYPE}", options))
    logged = list(any_store.read_all(options))
    assert len(stream) in (0, 3)
    assert len(logged) in (0, 3)
    assert any_store.get_events(aggregate_id, TYPE, from_version=from_position).events == ()
    assert len(any_store.get_events(aggregate_id, TYPE, from_version=-from_position)) == 3
    everything = list(any_store.read_all(ReadOptions(direction=direction, limit=from_position)))
    assert len(everything) == 3
    _counted(backend_id, "huge cursors")


# -- big batches, big payloads ----------------------------------------------------------------

BIG_BATCH = 10_000


@pytest.mark.slow
@pytest.mark.parametrize("spoiler", ["none", "last-id-already-stored", "last-unserializable"])
def test_a_10000_event_batch_is_atomic(
    any_store: SyncEventStore, spoiler: str, section: str, backend_id: str
) -> None:
    aggregate_id = uuid4()
    taken = Note(aggregate_id=aggregate_id, text="already here")
    any_store.append_events(aggregate_id, "Taken", [taken], 0)
    batch = [Note(aggregate_id=aggregate_id, text=str(i)) for i in range(BIG_BATCH)]
    if spoiler == "last-id-already-stored":
        batch[-1] = attrs.evolve(batch[-1], event_id=taken.event_id)
    elif spoiler == "last-unserializable":
        batch[-1] = attrs.evolve(batch[-1], extra=math.nan)
    began = time.monotonic()
    if spoiler == "none":
        result = any_store.append_events(aggregate_id, TYPE, batch, 0)
        assert result.new_version == BIG_BATCH
        read = list(any_store.read_stream(f"{aggregate_id}:{TYPE}"))
        assert [s.event_id for s in read] == [e.event_id for e in batch]
        assert [s.stream_position for s in read] == list(range(1, BIG_BATCH + 1))
    else:
        error = DuplicateEventError if spoiler == "last-id-already-stored" else SerializationError
        with nothing_written(any_store), pytest.raises(error):
            any_store.append_events(aggregate_id, TYPE, batch, 0)
    reliability_report.record(
        section,
        inputs=1,
        events_in_batch=BIG_BATCH,
        events_written=BIG_BATCH if spoiler == "none" else 0,
        events_lost=0,
        seconds=round(time.monotonic() - began, 2),
    )
    _counted(backend_id, "10000-event batches")


@pytest.mark.parametrize("where", ["payload", "metadata", "untyped"])
def test_a_1_mib_payload_round_trips(
    any_store: SyncEventStore, where: str, section: str, backend_id: str
) -> None:
    text = ("é€🎉 plain ascii '\"\\ " * 60_000)[: 1 << 20]  # 1 Mi characters, ~1.6 MiB UTF-8
    aggregate_id = uuid4()
    choices: dict[str, dict[str, Any]] = {
        "payload": {"text": text},
        "metadata": {"metadata": {"blob": text}},
        "untyped": {"extra": [text, {"blob": text}]},
    }
    fields = choices[where]
    event = Note(aggregate_id=aggregate_id, **fields)
    any_store.append_events(aggregate_id, TYPE, [event], 0)
    (read,) = any_store.get_events(aggregate_id, TYPE).events
    assert_exact(read, attrs.evolve(event, aggregate_type=TYPE, aggregate_version=1))
    (logged,) = any_store.read_stream(f"{aggregate_id}:{TYPE}")
    assert logged.event == read
    reliability_report.record(section, utf8_bytes=len(text.encode()))
    _counted(backend_id, "1 MiB payloads")


# -- NUL characters ---------------------------------------------------------------------------

NUL_POSITIONS: dict[str, Callable[[UUID], Note]] = {
    "payload-str": lambda a: Note(aggregate_id=a, text="a\x00b"),
    "untyped-dict-key": lambda a: Note(aggregate_id=a, extra={"k\x00": "\x00"}),
    "metadata-value": lambda a: Note(aggregate_id=a, metadata={"m": "v\x00w"}),
    "actor-id": lambda a: Note(aggregate_id=a, actor_id="left\x00right"),
    # An event type name with NUL cannot even be registered (ValueError).
    "event-type-name": lambda a: hostile_class("nul\x00type")(aggregate_id=a, text="t"),
}


@pytest.mark.parametrize("position", sorted(NUL_POSITIONS))
def test_nul_characters_round_trip_or_are_typed_errors(
    any_store: SyncEventStore, position: str, request: pytest.FixtureRequest, backend_id: str
) -> None:
    """A NUL character anywhere: the event cannot be made (ValueError), or its append is a
    SerializationError with nothing written, or it comes back exactly. PostgreSQL cannot
    store NUL at all (JSONB rejects \\u0000, text columns reject 0x00); since ac9ddf0 every
    backend refuses it in payloads and metadata. Which outcome each backend gives goes to
    the report."""
    aggregate_id = uuid4()
    try:
        event = NUL_POSITIONS[position](aggregate_id)
    except ValueError:
        outcome = "ValueError (the event cannot be made)"
    else:
        outcome = _round_trip_or_refused(any_store, aggregate_id, event)
    reliability_report.record(f"test_nul_characters[{backend_id}]", **{position: outcome})
    _counted(backend_id, "NUL characters")
    if backend_id.startswith("postgres"):
        assert outcome != "round trip"


# -- SQL injection ----------------------------------------------------------------------------

INJECTIONS = [
    "x'; DROP TABLE events; --",
    'Robert"); DROP TABLE events;--',
    "' OR '1'='1",
    "1; DELETE FROM events",
    "'; SELECT pg_sleep(5); --",
    "%s",
    "%(aggregate_id)s",
    "{events}",
    "$1",
    "?",
    ":aggregate_type",
    "\\'; TRUNCATE event_outbox; --",
    "events",
    "/* */ UNION SELECT * FROM events --",
    "$$; DROP TABLE events; $$",
]
HOSTILE_CLASSES = {text: hostile_class(text) for text in INJECTIONS}


@pytest.mark.parametrize("text", INJECTIONS)
def test_sql_injection_strings_are_stored_literally(
    any_store: SyncEventStore, text: str, backend_id: str, request: pytest.FixtureRequest
) -> None:
    """The string as aggregate type, event type name, payload, metadata key and value, and
    actor id: stored and read back literally, filters match it literally, and the tables and
    the other streams are untouched."""
    control, target = uuid4(), uuid4()
    control_events = [Note(aggregate_id=control, text=str(i)) for i in range(3)]
    any_store.append_events(control, TYPE, control_events, 0)
    hostile = HOSTILE_CLASSES[text]
    events = [
        hostile(aggregate_id=target, text=text, actor_id=text, metadata={text: text}),
        Note(aggregate_id=target, text=text, extra={text: [text]}),
    ]
    any_store.append_events(target, text, events, 0)

    expected = [
        attrs.evolve(event, aggregate_type=text, aggregate_version=n)
        for n, event in enumerate(events, 1)
    ]
    for read in (
        any_store.get_events(target, text).events,
        any_store.get_events_by_type(text),
        [s.event for s in any_store.read_stream(f"{target}:{text}")],
        [s.event for s in any_store.read_all() if s.aggregate_id == target],
    ):
        assert len(read) == 2
        for got, want in zip(read, expected, strict=True):
            assert_exact(got, want)
        assert read[0].event_type == text
    assert any_store.get_stream_version(target, text) == 2
    assert any_store.get_events_by_type(TYPE) == list(any_store.get_events(control, TYPE).events)
    # The tables are still there, with every event.
    assert len(list(any_store.read_all())) == 5
    assert [e.event_id for e in any_store.get_events(control, TYPE).events] == [
        e.event_id for e in control_events
    ]
    assert _tables(backend_id, request) >= {"events", "event_outbox"}
    _counted(backend_id, "SQL injection strings")


def _tables(backend_id: str, request: pytest.FixtureRequest) -> set[str]:
    """The tables in the store's database, asked for outside the store."""
    if backend_id.startswith("postgres"):
        with psycopg.connect(request.getfixturevalue("pg_url")) as conn:
            rows = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
    elif backend_id.startswith("sqlite"):
        path = request.getfixturevalue("tmp_path") / "events.db"  # backends.py's file
        with contextlib.closing(sqlite3.connect(path)) as conn:
            rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    else:
        return {"events", "event_outbox"}  # in memory: no tables to drop
    return {name for (name,) in rows}


# -- known defects ----------------------------------------------------------------------------


@attrs.frozen
class Defect:
    field: str  # of Numbers: "ratio" (typed float), "count" (typed int), "moment" (typed
    #             datetime) or "extra" (untyped)
    value: Any
    bug: str | None  # None: a control case that must pass everywhere
    backends: tuple[str, ...] = ("memory", "sqlite", "postgres")


PG = ("postgres",)
ONE_MICROSECOND = timezone(timedelta(microseconds=1))
DEFECTS = {
    "float-1e16-typed": Defect("ratio", 1e16, None),
    "float-1e16-untyped": Defect("extra", 1e16, None),
    "float-5e-324-untyped": Defect("extra", 5e-324, None),
    "float-1e15-untyped": Defect("extra", 1e15, None),
    "negative-zero-typed": Defect("ratio", -0.0, PG_NEGATIVE_ZERO, PG),
    "negative-zero-untyped": Defect("extra", {"z": -0.0}, None),
    "int-2**64-typed": Defect("count", 2**64, None),
    "int-2**64-untyped": Defect("extra", 2**64, None),
    "int-10**30-untyped": Defect("extra", (10**30,), None),
    "int-minus-2**63-minus-1-typed": Defect("count", -(2**63) - 1, None),
    "int-2**64-minus-1-typed": Defect("count", 2**64 - 1, None),
    "offset-1us-typed": Defect("moment", datetime(2024, 1, 1, tzinfo=ONE_MICROSECOND), None),
    "offset-1us-untyped": Defect("extra", [datetime(2024, 1, 1, tzinfo=ONE_MICROSECOND)], None),
    "offset-1s-1us-typed": Defect(
        "moment", datetime(2024, 1, 1, tzinfo=timezone(timedelta(seconds=1, microseconds=1))), None
    ),
}


def _same(actual: Any, expected: Any) -> bool:
    """Exactly the value: same type, same repr (-0.0 is not 0.0), same instant."""
    if isinstance(expected, (list, tuple)):
        return (
            type(actual) is type(expected)
            and all(_same(a, e) for a, e in zip(actual, expected, strict=True))
            and len(actual) == len(expected)
        )
    if isinstance(expected, dict):
        return (
            type(actual) is dict
            and actual.keys() == expected.keys()
            and all(_same(actual[key], value) for key, value in expected.items())
        )
    if isinstance(expected, datetime):
        return isinstance(actual, datetime) and actual == expected
    return type(actual) is type(expected) and repr(actual) == repr(expected)


@pytest.mark.parametrize("name", sorted(DEFECTS))
def test_values_at_the_edges_keep_their_type_and_value(
    any_store: SyncEventStore,
    name: str,
    section: str,
    request: pytest.FixtureRequest,
    backend_id: str,
) -> None:
    case = DEFECTS[name]
    backend = backend_id.split("-")[0]
    if case.bug is not None and backend in case.backends:
        expect_bug(request, case.bug)
    aggregate_id = uuid4()
    event = Numbers(aggregate_id=aggregate_id, **{case.field: case.value})
    any_store.append_events(aggregate_id, TYPE, [event], 0)
    (read,) = any_store.get_events(aggregate_id, TYPE).events
    got = getattr(read, case.field)
    assert _same(got, case.value), f"{case.value!r} came back as {got!r}"
    _counted(backend_id, "edge values")


# -- occurred_at and envelope strings at the edges ------------------------------------------


EDGE_EVENTS: dict[str, Callable[[UUID], DomainEvent]] = {
    "occurred-at-offset-+20:00": lambda a: Note(
        aggregate_id=a, occurred_at=datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=20)))
    ),
    "occurred-at-offset-seconds": lambda a: Note(
        aggregate_id=a,
        occurred_at=datetime(2024, 1, 1, tzinfo=timezone(timedelta(seconds=3661))),
    ),
    "occurred-at-offset-microseconds": lambda a: Note(
        aggregate_id=a,
        occurred_at=datetime(2024, 1, 1, tzinfo=timezone(timedelta(hours=1, microseconds=7))),
    ),
    "occurred-at-year-1-utc": lambda a: Note(
        aggregate_id=a, occurred_at=datetime(1, 1, 1, tzinfo=UTC)
    ),
    "occurred-at-before-year-1-in-utc": lambda a: Note(
        aggregate_id=a, occurred_at=datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1)))
    ),
    "occurred-at-after-9999-in-utc": lambda a: Note(
        aggregate_id=a,
        occurred_at=datetime(9999, 12, 31, 23, tzinfo=timezone(-timedelta(hours=2))),
    ),
    "actor-id-256-chars": lambda a: Note(aggregate_id=a, actor_id="a" * 256),
    "actor-id-10000-chars": lambda a: Note(aggregate_id=a, actor_id="\u00e9" * 10_000),
    "metadata-10000-keys": lambda a: Note(
        aggregate_id=a, metadata={str(i): i for i in range(10_000)}
    ),
    "nesting-depth-200": lambda a: Note(aggregate_id=a, extra=_nested(200)),
}


def _nested(depth: int) -> Any:
    value: Any = "bottom"
    for i in range(depth):
        value = [value] if i % 2 else {"k": value}
    return value


@pytest.mark.parametrize("name", sorted(EDGE_EVENTS))
def test_envelope_edges_round_trip_or_are_serialization_errors(
    any_store: SyncEventStore, name: str, backend_id: str, request: pytest.FixtureRequest
) -> None:
    """Round trip (the instant of occurred_at, every other field exactly) or a
    SerializationError with nothing written; which one, per backend, goes to the report."""
    aggregate_id = uuid4()
    event = EDGE_EVENTS[name](aggregate_id)
    outcome = _round_trip_or_refused(any_store, aggregate_id, event)
    reliability_report.record(f"test_envelope_edges[{backend_id.split('-')[0]}]", **{name: outcome})
    _counted(backend_id, "envelope edges")
