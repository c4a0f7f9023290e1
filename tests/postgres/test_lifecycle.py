"""Opening and closing the PostgreSQL stores: `open(wait=, timeout=)`, given pools, exit.

Both stores have the same life cycle methods (`pool`, `open`, `close`, context managers).
`open(wait=True)` fails at once when the server refuses a connection for good, and waits out
its timeout only while the server may yet answer. An async store left open never hangs its
process at exit.
"""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from typing import Any

import psycopg_pool
import pytest
from pg_events import registry

from eventsource import (
    EventSourceError,
    PostgreSQLEventStore,
    StoreUnavailableError,
    SyncPostgreSQLEventStore,
)

Store = SyncPostgreSQLEventStore | PostgreSQLEventStore
STORES = [SyncPostgreSQLEventStore, PostgreSQLEventStore]
PASSWORD = "s3cret-Pa55"


def on(url: str, *, user: str = "postgres", dbname: str | None = None) -> str:
    """`url` (the test server's) for another user or database, with a password."""
    server = url.split("@", 1)[1].rsplit("/", 1)[0]
    database = url.rsplit("/", 1)[1] if dbname is None else dbname
    return f"postgresql://{user}:{PASSWORD}@{server}/{database}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def with_store(store: Store, body: Callable[[Any], Any]) -> Any:
    """Run `body(store)` (awaited for the async store, in one event loop), then close it."""
    if isinstance(store, SyncPostgreSQLEventStore):
        with store:
            return body(store)

    async def main() -> Any:
        try:
            result = body(store)
            return await result if isinstance(result, Awaitable) else result
        finally:
            await store.close()

    return asyncio.run(main())


def open_and_close(store: Store, timeout: float) -> None:
    with_store(store, lambda store: store.open(wait=True, timeout=timeout))


@pytest.mark.parametrize("store_class", STORES)
@pytest.mark.parametrize(
    ("user", "dbname", "cause"),
    [
        ("postgres", "no_such_database", "the database does not exist (SQLSTATE 3D000)"),
        ("no_such_role", None, "the role does not exist (SQLSTATE 28000)"),
    ],
    ids=["missing database", "missing role"],
)
def test_a_permanent_refusal_fails_at_once(
    pg_url: str, store_class: type[Store], user: str, dbname: str | None, cause: str
) -> None:
    store = store_class.from_url(on(pg_url, user=user, dbname=dbname), event_registry=registry)
    start = time.monotonic()
    with pytest.raises(EventSourceError) as caught:
        open_and_close(store, timeout=30.0)
    assert time.monotonic() - start < 1.0
    assert not isinstance(caught.value, StoreUnavailableError)  # waiting would not help
    message = str(caught.value)
    assert message.startswith(f"PostgreSQL refused the connection: {cause}")
    assert (dbname or user) in message
    assert PASSWORD not in message
    assert PASSWORD not in str(caught.value.__cause__)


@pytest.mark.parametrize("store_class", STORES)
def test_a_server_not_listening_is_waited_for_until_the_timeout(store_class: type[Store]) -> None:
    store = store_class.from_url(f"postgresql://postgres:{PASSWORD}@127.0.0.1:{free_port()}/x")
    start = time.monotonic()
    with pytest.raises(StoreUnavailableError) as caught:
        open_and_close(store, timeout=1.0)
    assert 1.0 <= time.monotonic() - start < 5.0
    message = str(caught.value)
    assert message.startswith("PostgreSQL accepted no connection within 1 s; last error: ")
    assert "Connection refused" in message
    assert PASSWORD not in message


@pytest.mark.parametrize("store_class", STORES)
def test_open_twice_is_fine_and_the_store_works(pg_url: str, store_class: type[Store]) -> None:
    store = store_class.from_url(pg_url, event_registry=registry)

    def body(store: Any) -> Any:
        if isinstance(store, SyncPostgreSQLEventStore):
            store.open()
            store.open(wait=True, timeout=5.0)
            return store.get_global_position()

        async def twice() -> int:
            await store.open()
            await store.open(wait=True, timeout=5.0)
            return int(await store.get_global_position())

        return twice()

    assert with_store(store, body) >= 0
    assert store.pool.closed  # an owned pool closes with the store


@pytest.mark.parametrize("store_class", STORES)
def test_a_closed_store_does_not_open_again(pg_url: str, store_class: type[Store]) -> None:
    store = store_class.from_url(pg_url, event_registry=registry)
    with_store(store, lambda store: store.get_global_position())
    with pytest.raises(StoreUnavailableError, match="is closed"):
        with_store(store, lambda store: store.open())


def test_a_given_pool_is_its_owners_to_open(pg_url: str) -> None:
    pool = psycopg_pool.ConnectionPool(pg_url, open=False, kwargs={"autocommit": True})
    store = SyncPostgreSQLEventStore(pool, event_registry=registry)
    with pytest.raises(StoreUnavailableError, match="is not open: open it first"):
        store.open()
    with pytest.raises(StoreUnavailableError, match="not open"):
        store.get_global_position()
    with pool:
        with store:
            store.open(wait=True, timeout=5.0)
            assert store.get_global_position() >= 0
        assert not pool.closed  # a store never closes a pool it was given
    assert store.pool is pool


def test_a_given_async_pool_is_its_owners_to_open(pg_url: str) -> None:
    async def main() -> None:
        pool = psycopg_pool.AsyncConnectionPool(pg_url, open=False, kwargs={"autocommit": True})
        store = PostgreSQLEventStore(pool, event_registry=registry)
        with pytest.raises(StoreUnavailableError, match="is not open: open it first"):
            await store.open()
        with pytest.raises(StoreUnavailableError, match="not open"):
            await store.get_global_position()
        async with pool:
            async with store:
                await store.open(wait=True, timeout=5.0)
                assert await store.get_global_position() >= 0
            assert not pool.closed
        assert store.pool is pool

    asyncio.run(main())


# -- a store left open at exit -----------------------------------------------------------------

UNCLOSED = """
import asyncio, sys
from eventsource import PostgreSQLEventStore, SyncPostgreSQLEventStore

async def main():
    store = PostgreSQLEventStore.from_url(sys.argv[1])
    print("position", await store.get_global_position(), flush=True)
    return store

store = asyncio.run(main())
print("after asyncio.run", flush=True)
try:
    asyncio.run(store.get_global_position())
except Exception as exc:
    print(type(exc).__name__, exc, flush=True)
sync_store = SyncPostgreSQLEventStore.from_url(sys.argv[1])
print("sync position", sync_store.get_global_position(), flush=True)
"""


def test_stores_left_open_are_closed_at_exit_and_say_so(pg_url: str) -> None:
    start = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-W", "always::ResourceWarning", "-c", UNCLOSED, pg_url],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert time.monotonic() - start < 10
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("position ")
    assert lines[1] == "after asyncio.run"
    assert lines[2] == (
        "StoreUnavailableError this PostgreSQLEventStore is closed; a closed store is not "
        "reopened: make a new one"
    )
    assert lines[3].startswith("sync position ")
    assert "ResourceWarning: PostgreSQLEventStore on pool 'pool-1' was not closed" in done.stderr
    assert "use `async with store:` or `await store.close()`" in done.stderr
    # The sync store left open too: its pool is closed at exit by the store's finalizer,
    # before psycopg_pool's own finalizer would wait (seconds) for the pool's threads.
    assert "ResourceWarning: SyncPostgreSQLEventStore on pool 'pool-2' was not closed" in (
        done.stderr
    )
    assert "couldn't stop thread" not in done.stderr
