"""Clear errors from the PostgreSQL stores: no psycopg error ever leaks from a public method."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from uuid import uuid4

import psycopg
import pytest
from pg_events import Deposited, registry

from eventsource import (
    PostgreSQLEventStore,
    SchemaNotInitializedError,
    SerializationError,
    StoreUnavailableError,
    SyncPostgreSQLEventStore,
)

UNREACHABLE = "postgresql://nobody@127.0.0.1:1/nothing"


def test_unreachable_server_is_store_unavailable() -> None:
    with (
        SyncPostgreSQLEventStore.from_url(UNREACHABLE, timeout=0.5) as store,
        pytest.raises(StoreUnavailableError) as caught,
    ):
        store.get_global_position()
    assert caught.value.__cause__ is not None


def test_unreachable_server_is_store_unavailable_async() -> None:
    async def main() -> None:
        store = PostgreSQLEventStore.from_url(UNREACHABLE, timeout=0.5)
        try:
            await store.get_global_position()
        finally:
            await store.close()

    with pytest.raises(StoreUnavailableError):
        asyncio.run(main())


def test_missing_tables_say_how_to_create_them(postgresql_admin_url: str) -> None:
    dbname = "eventsource_empty"
    with psycopg.connect(postgresql_admin_url, autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {dbname}")
        admin.execute(f"CREATE DATABASE {dbname}")
    url = postgresql_admin_url.rsplit("/", 1)[0] + f"/{dbname}"
    with SyncPostgreSQLEventStore.from_url(url, event_registry=registry) as store:
        with pytest.raises(SchemaNotInitializedError, match="initialize"):
            store.get_stream_version(uuid4(), "Account")
        store.initialize()
        store.initialize()  # idempotent
        assert store.get_stream_version(uuid4(), "Account") == 0


def test_a_value_postgresql_cannot_store_is_a_serialization_error(pg_url: str) -> None:
    aggregate_id = uuid4()
    event = Deposited(aggregate_id=aggregate_id, amount=Decimal(1), note="nul \x00 inside")
    with SyncPostgreSQLEventStore.from_url(pg_url, event_registry=registry) as store:
        with pytest.raises(SerializationError):
            store.append_events(aggregate_id, "Account", [event], 0)
        assert store.get_stream_version(aggregate_id, "Account") == 0


def test_a_closed_store_is_unavailable(pg_url: str) -> None:
    store = SyncPostgreSQLEventStore.from_url(pg_url, event_registry=registry)
    store.close()
    store.close()
    with pytest.raises(StoreUnavailableError):
        store.get_global_position()


def test_constructor_checks_the_pool_type(pg_url: str) -> None:
    with pytest.raises(TypeError, match="ConnectionPool"):
        SyncPostgreSQLEventStore(pg_url)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="AsyncConnectionPool"):
        PostgreSQLEventStore(pg_url)  # type: ignore[arg-type]


@pytest.mark.parametrize("store_class", [SyncPostgreSQLEventStore, PostgreSQLEventStore])
def test_a_malformed_url_is_a_value_error(store_class: type) -> None:
    with pytest.raises(ValueError, match="malformed PostgreSQL URL") as caught:
        store_class.from_url("postgresql://host:notaport/db?bogus=1")
    assert isinstance(caught.value.__cause__, psycopg.ProgrammingError)
