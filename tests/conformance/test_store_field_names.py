"""Any payload field name but the envelope's round-trips on every store (DESIGN section 2).

The names are those an application is likely to choose, among them the names of the
stores' columns and JSON keys, of `DomainEvent`'s helpers and of mapping methods: a store
encodes and decodes events through the codec and never calls a method of an event, so a
field may shadow any of them.
"""

from __future__ import annotations

from collections.abc import Iterator
from uuid import uuid4

import attrs
import pytest
from checks import assert_exact

from eventsource import DomainEvent, EventRegistry, ReadOptions, SyncEventStore
from eventsource.events import ENVELOPE_NAMES

FIELD_NAMES = (
    # what an event holds
    "payload", "data", "body", "content", "value", "values", "state", "status", "kind",
    "type", "name", "source", "target", "reason", "details", "message", "error", "result",
    "amount", "count", "key", "label",
    # the stores' columns, parameters and JSON keys
    "id", "version", "timestamp", "created_at", "stored_at", "event", "events", "stream",
    "stream_id", "stream_position", "position", "global_position", "transaction_id",
    "outbox_id", "expected_version", "new_version", "n", "tenant", "user_id", "actor",
    # DomainEvent's helpers and what attrs and cattrs look for
    "to_dict", "from_dict", "with_metadata", "with_causation", "evolve", "fields",
    # mapping and object methods
    "items", "keys", "get", "update", "copy", "json", "schema", "dict", "format", "hash",
    "cls", "registry", "mro",
    # spellings attrs treats apart
    "_private", "__dunder", "camelCase", "größe",
)  # fmt: skip
"""Payload field names that must work: none of them is an envelope name."""


def _event_class(name: str, decoded_by_init: bool) -> type[DomainEvent]:
    """An event class whose only payload field is `name` (a str).

    With `decoded_by_init`, it has a post-init hook, so reads build it through `__init__`
    rather than field by field: both decoding paths see the name.
    """
    body = {"__attrs_post_init__": lambda self: None} if decoded_by_init else {}
    return attrs.make_class(
        f"Has_{name.strip('_')}",
        {name: attrs.field(type=str)},
        bases=(DomainEvent,),
        class_body=body,
        frozen=True,
        kw_only=True,
    )


@pytest.fixture(params=[False, True], ids=["fields", "init"])
def event_class(
    request: pytest.FixtureRequest, registry: EventRegistry, name: str
) -> Iterator[type[DomainEvent]]:
    """The class of `name`, registered in the stores' registry for the test."""
    cls = registry.register(_event_class(name, decoded_by_init=request.param))
    try:
        yield cls
    finally:
        registry.unregister(cls)


def test_the_names_are_not_envelope_names() -> None:
    assert not ENVELOPE_NAMES.intersection(FIELD_NAMES)


@pytest.mark.parametrize("name", FIELD_NAMES)
def test_payload_field_name_round_trips(
    store: SyncEventStore, event_class: type[DomainEvent], name: str
) -> None:
    aggregate_id = uuid4()
    alias = attrs.fields_dict(event_class)[name].alias

    def make(text: str) -> DomainEvent:
        return event_class(aggregate_id=aggregate_id, metadata={"m": 1}, **{alias: text})

    # One event alone, then a batch: the stores write the two shapes differently.
    written = [make(f"{name} 1"), make(f"{name} 2"), make(f"{name} 3")]
    store.append_events(aggregate_id, "Named", written[:1], 0)
    result = store.append_events(aggregate_id, "Named", written[1:], 1)
    assert result.new_version == 3

    expected = [
        attrs.evolve(event, aggregate_type="Named", aggregate_version=version)
        for version, event in enumerate(written, 1)
    ]
    readers = {
        "get_events": list(store.get_events(aggregate_id, "Named").events),
        "read_stream": [s.event for s in store.read_stream(f"{aggregate_id}:Named")],
        "read_all": [s.event for s in store.read_all(ReadOptions())],
        "get_events_by_type": store.get_events_by_type("Named"),
    }
    for reader, events in readers.items():
        assert_exact(events, expected, reader)
        assert [getattr(event, name) for event in events] == [f"{name} {i}" for i in (1, 2, 3)]
