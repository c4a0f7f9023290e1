"""The transactional outbox of the PostgreSQL stores."""

from __future__ import annotations

from decimal import Decimal
from uuid import uuid4

import psycopg
import pytest
from pg_events import Deposited, registry

from eventsource import (
    OptimisticLockError,
    SyncPostgreSQLEventStore,
)


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
