"""OpenTelemetry spans: one per public call (one per page for reads), on every store."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest
from opentelemetry import trace
from sample_events import happened

from eventsource import (
    EventRegistry,
    ReadOptions,
    SyncEventStore,
    SyncInMemoryEventStore,
    SyncPostgreSQLEventStore,
    SyncSQLiteEventStore,
)

DB_SYSTEM = {"memory": "memory", "sqlite": "sqlite", "postgres": "postgresql"}
"""`db.system.name` by backend (the first word of its conformance id)."""


def db_system(request: pytest.FixtureRequest) -> str:
    return DB_SYSTEM[request.node.callspec.params["store"].id.split("-")[0]]


def test_a_span_per_public_call(
    store: SyncEventStore, spans: Any, request: pytest.FixtureRequest
) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 3), 0)
    store.get_events(aggregate_id, "Order")
    list(store.read_all(ReadOptions(limit=2)))
    store.list_streams()
    store.get_stats()
    finished = spans.get_finished_spans()
    assert [span.name for span in finished] == [
        "eventsource.append_events",
        "eventsource.get_events",
        "eventsource.read_all",
        "eventsource.list_streams",
        "eventsource.get_stats",
    ]
    append = finished[0]
    assert append.kind is trace.SpanKind.CLIENT
    assert (
        dict(append.attributes or {}).items()
        >= {
            "db.system.name": db_system(request),
            "db.operation.name": "append_events",
            "db.collection.name": "events",
            "eventsource.aggregate_id": str(aggregate_id),
            "eventsource.aggregate_type": "Order",
            "eventsource.stream_id": f"{aggregate_id}:Order",
            "eventsource.event_count": 3,
        }.items()
    )


def _memory(request: pytest.FixtureRequest, registry: EventRegistry) -> SyncEventStore:
    return SyncInMemoryEventStore(event_registry=registry, enable_tracing=False)


def _sqlite(request: pytest.FixtureRequest, registry: EventRegistry) -> SyncEventStore:
    path: Path = request.getfixturevalue("tmp_path") / "events.db"
    return SyncSQLiteEventStore(path, event_registry=registry, enable_tracing=False)


def _postgres(request: pytest.FixtureRequest, registry: EventRegistry) -> SyncEventStore:
    url = request.getfixturevalue("pg_url")
    return SyncPostgreSQLEventStore.from_url(url, event_registry=registry, enable_tracing=False)


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(_memory, id="memory"),
        pytest.param(_sqlite, id="sqlite", marks=pytest.mark.sqlite),
        pytest.param(_postgres, id="postgres", marks=pytest.mark.postgres),
    ],
)
def test_no_spans_when_tracing_is_disabled(
    make: Callable[[pytest.FixtureRequest, EventRegistry], SyncEventStore],
    request: pytest.FixtureRequest,
    registry: EventRegistry,
    spans: Any,
) -> None:
    aggregate_id = uuid4()
    with make(request, registry) as store:
        store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), 0)
        store.get_global_position()
        list(store.read_all())
    assert spans.get_finished_spans() == ()
