"""PostgreSQL fault injection helpers: stores with their own pools, killing their server
connections, watching them wait, and a second server that may be restarted."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from types import ModuleType
from typing import Any

import psycopg
import pytest
from facade import AsyncStoreFacade, open_async
from reliability_events import REGISTRY

from eventsource import EventStore, PostgreSQLEventStore, SyncEventStore, SyncPostgreSQLEventStore

PG_MODES = [pytest.param(False, id="pg-sync"), pytest.param(True, id="pg-async")]
"""`is_async` parameters: each PostgreSQL fault test runs on both stores."""


@contextlib.contextmanager
def open_pg(url: str, is_async: bool, **pool_kwargs: Any) -> Iterator[SyncEventStore]:
    """A PostgreSQL store (sync, or async behind the facade) with its own pool, filled.

    `pool_kwargs` go to `from_url`; connection options to `kwargs={...}`.
    """
    if not is_async:
        with SyncPostgreSQLEventStore.from_url(url, event_registry=REGISTRY, **pool_kwargs) as s:
            s.pool.wait(timeout=30)
            yield s
        return

    async def make() -> EventStore:
        store = PostgreSQLEventStore.from_url(url, event_registry=REGISTRY, **pool_kwargs)
        await store.open()
        await store.pool.wait(timeout=30)
        return store

    with open_async(make) as facade:
        yield facade


def pool_of(store: SyncEventStore) -> Any:
    """The psycopg pool of a PostgreSQL store (through the facade for async ones)."""
    inner: Any = store.store if isinstance(store, AsyncStoreFacade) else store
    return inner.pool


def application_name(prefix: str = "victim") -> str:
    """A name no other connection has: `pg_terminate_backend` aims at it."""
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def terminate(admin_url: str, application: str) -> int:
    """Terminate every server connection of `application`; how many there were."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = %s AND pid <> pg_backend_pid()",
            (application,),
        ).fetchone()
    return int(row[0]) if row else 0


def wait_until(
    condition: Callable[[], bool], timeout: float = 10.0, message: str = "condition"
) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(0.01)


def backends_waiting_on_a_lock(admin_url: str, application: str) -> int:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity"
            " WHERE application_name = %s AND wait_event_type = 'Lock'",
            (application,),
        ).fetchone()
    return int(row[0]) if row else 0


# -- a second server, free to restart ---------------------------------------------------------


class RestartableServer:
    """A throwaway PostgreSQL server of this suite's own, with the schema in `dbname`."""

    dbname = "eventsource_restart"

    def __init__(self, helpers: ModuleType, executor: Any, server: Any) -> None:
        self._helpers = helpers
        self._executor = executor
        self.server = server
        self.restarts = 0

    @property
    def url(self) -> str:
        return str(self.server.url(self.dbname))

    @property
    def admin_url(self) -> str:
        return str(self.server.admin_url())

    def restart(self, down_seconds: float = 0.0) -> float:
        """`pg_ctl stop -m fast`, wait, start again on the same port; the seconds it was down."""
        began = time.monotonic()
        self._executor.stop()
        time.sleep(down_seconds)
        self._executor.start()
        self._helpers._wait_until_ready(self.server)
        self.restarts += 1
        return time.monotonic() - began
