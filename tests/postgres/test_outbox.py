"""The transactional outbox and the OpenTelemetry spans of the PostgreSQL stores."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from uuid import uuid4

import psycopg
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from pg_events import Deposited, registry

from eventsource import (
    OptimisticLockError,
    PostgreSQLEventStore,
    ReadOptions,
    SyncPostgreSQLEventStore,
)

_EXPORTER = InMemorySpanExporter()


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    if not isinstance(trace.get_tracer_provider(), TracerProvider):
        provider = TracerProvider()
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        trace.set_tracer_provider(provider)
    _EXPORTER.clear()
    yield _EXPORTER
    _EXPORTER.clear()


def outbox_rows(url: str) -> list[tuple[object, ...]]:
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT event_id, event_type, aggregate_id, aggregate_type, status,"
            " event_data->'payload'->>'amount', (event_data->>'aggregate_version')::int"
            " FROM event_outbox ORDER BY event_data->>'aggregate_version'"
        ).fetchall()


def test_outbox_row_per_event_in_the_same_transaction(pg_url: str) -> None:
    aggregate_id = uuid4()
    events = [Deposited(aggregate_id=aggregate_id, amount=Decimal(f"{i}.50")) for i in (1, 2)]
    with SyncPostgreSQLEventStore.from_url(
        pg_url, event_registry=registry, outbox_enabled=True
    ) as store:
        store.append_events(aggregate_id, "Account", events, 0)
        with pytest.raises(OptimisticLockError):
            store.append_events(
                aggregate_id,
                "Account",
                [Deposited(aggregate_id=aggregate_id, amount=Decimal(3))],
                0,
            )
    assert outbox_rows(pg_url) == [
        (events[0].event_id, "Deposited", aggregate_id, "Account", "pending", "1.50", 1),
        (events[1].event_id, "Deposited", aggregate_id, "Account", "pending", "2.50", 2),
    ]


def test_no_outbox_rows_unless_enabled(pg_url: str) -> None:
    aggregate_id = uuid4()
    with SyncPostgreSQLEventStore.from_url(pg_url, event_registry=registry) as store:
        store.append_events(
            aggregate_id, "Account", [Deposited(aggregate_id=aggregate_id, amount=Decimal(1))], 0
        )
    assert outbox_rows(pg_url) == []


def test_a_span_per_public_call(pg_url: str, spans: InMemorySpanExporter) -> None:
    aggregate_id = uuid4()
    batch = [Deposited(aggregate_id=aggregate_id, amount=Decimal(i)) for i in range(3)]
    with SyncPostgreSQLEventStore.from_url(pg_url, event_registry=registry) as store:
        store.append_events(aggregate_id, "Account", batch, 0)
        store.get_events(aggregate_id, "Account")
        list(store.read_all(ReadOptions(limit=2)))
    finished = {span.name: span for span in spans.get_finished_spans()}
    assert set(finished) >= {
        "eventsource.append_events",
        "eventsource.get_events",
        "eventsource.read_all",
    }
    append = finished["eventsource.append_events"]
    assert append.kind is trace.SpanKind.CLIENT
    assert dict(append.attributes or {}) == {
        "db.system.name": "postgresql",
        "db.operation.name": "append_events",
        "db.collection.name": "events",
        "eventsource.aggregate_id": str(aggregate_id),
        "eventsource.aggregate_type": "Account",
        "eventsource.stream_id": f"{aggregate_id}:Account",
        "eventsource.event_count": 3,
    }


def test_async_store_spans_too(pg_url: str, spans: InMemorySpanExporter) -> None:
    aggregate_id = uuid4()

    async def main() -> None:
        async with PostgreSQLEventStore.from_url(pg_url, event_registry=registry) as store:
            event = Deposited(aggregate_id=aggregate_id, amount=Decimal(1))
            await store.append_events(aggregate_id, "Account", [event], 0)

    asyncio.run(main())
    names = [span.name for span in spans.get_finished_spans()]
    assert names == ["eventsource.append_events"]


def test_no_spans_when_tracing_is_disabled(pg_url: str, spans: InMemorySpanExporter) -> None:
    aggregate_id = uuid4()
    with SyncPostgreSQLEventStore.from_url(
        pg_url, event_registry=registry, enable_tracing=False
    ) as store:
        store.append_events(
            aggregate_id, "Account", [Deposited(aggregate_id=aggregate_id, amount=Decimal(1))], 0
        )
        store.get_global_position()
    assert spans.get_finished_spans() == ()
