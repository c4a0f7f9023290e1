"""The backends the conformance suite runs on: one table entry per store class.

An entry's `open(request, registry)` is a context manager yielding a fresh, empty store that
resolves event classes in `registry`, and closing it afterwards. Sync stores are yielded as
they are; async ones behind `AsyncStoreFacade`, so every test is written once, sync-style.
Adding a backend is one factory and one `Backend(...)` line.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import attrs
import pytest
from facade import open_async

from eventsource import (
    EventRegistry,
    EventStore,
    InMemoryEventStore,
    PostgreSQLEventStore,
    SQLiteEventStore,
    SyncEventStore,
    SyncInMemoryEventStore,
    SyncPostgreSQLEventStore,
    SyncSQLiteEventStore,
)

Opener = Callable[
    [pytest.FixtureRequest, EventRegistry], contextlib.AbstractContextManager[SyncEventStore]
]


@attrs.frozen
class Backend:
    """One store class under test."""

    id: str
    open: Opener
    is_async: bool
    in_memory: bool = False
    marks: tuple[pytest.MarkDecorator, ...] = ()

    def param(self) -> Any:
        return pytest.param(self, id=self.id, marks=self.marks)


@contextlib.contextmanager
def memory_sync(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[Any]:
    store = SyncInMemoryEventStore(event_registry=registry)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def memory_async(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[Any]:
    async def make() -> EventStore:
        return InMemoryEventStore(event_registry=registry)

    with open_async(make) as store:
        yield store


@contextlib.contextmanager
def sqlite_sync(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[Any]:
    tmp_path = request.getfixturevalue("tmp_path")
    store = SyncSQLiteEventStore(tmp_path / "events.db", event_registry=registry)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def sqlite_async(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[Any]:
    tmp_path = request.getfixturevalue("tmp_path")

    async def make() -> EventStore:
        store = SQLiteEventStore(tmp_path / "events.db", event_registry=registry)
        await store.initialize()
        return store

    with open_async(make) as store:
        yield store


# `pg_url` (tests/conftest.py) is one database for the whole session, emptied for each test
# and with the schema created; it is asked for lazily, so a run without PostgreSQL tests never
# starts the server.
@contextlib.contextmanager
def postgres_sync(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[Any]:
    url = request.getfixturevalue("pg_url")
    store = SyncPostgreSQLEventStore.from_url(url, event_registry=registry, min_size=1)
    try:
        yield store
    finally:
        store.close()


@contextlib.contextmanager
def postgres_async(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[Any]:
    url = request.getfixturevalue("pg_url")

    async def make() -> EventStore:
        return PostgreSQLEventStore.from_url(url, event_registry=registry, min_size=1)

    with open_async(make) as store:
        yield store


BACKENDS: tuple[Backend, ...] = (
    Backend("memory-sync", memory_sync, is_async=False, in_memory=True),
    Backend("memory-async", memory_async, is_async=True, in_memory=True),
    Backend("sqlite-sync", sqlite_sync, is_async=False, marks=(pytest.mark.sqlite,)),
    Backend("sqlite-async", sqlite_async, is_async=True, marks=(pytest.mark.sqlite,)),
    Backend("postgres-sync", postgres_sync, is_async=False, marks=(pytest.mark.postgres,)),
    Backend("postgres-async", postgres_async, is_async=True, marks=(pytest.mark.postgres,)),
)
