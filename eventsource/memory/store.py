"""In-memory stores for tests and prototypes: `SyncInMemoryEventStore` and `InMemoryEventStore`.

The third dialect under the shared operations: the same `Operations` as the SQL stores, with
`MemoryQueries` (Python functions over rows) run by `_Memory` (the rows and a lock). Events
are kept in their storage form and decoded on read, so the round trip, the rules and the
errors are exactly those of the database backends. The async store runs the same executor
directly on the loop: a query only holds the lock for in-memory work and never waits on I/O.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from .._core.operations import Operations, Query
from .._core.records import Row, decode_event
from .._core.stores import AsyncStoreBase, SyncStoreBase, closed_error
from .._core.tracing import Tracer
from ..events import DomainEvent, EventRegistry, default_registry
from .queries import MemoryQueries, Tables

__all__ = ["InMemoryEventStore", "SyncInMemoryEventStore"]


class _Memory:
    """The in-memory executor: the tables, and the lock each query runs under (atomic)."""

    def __init__(self) -> None:
        self.tables = Tables()
        self._lock = threading.Lock()

    def execute(self, query: Query) -> list[Row]:
        statement: Callable[..., list[Row]] = query.sql
        with self._lock:
            return statement(self.tables, *(query.params or ()))


class _InMemoryStore:
    """What both in-memory stores share: the constructor and the test helpers.

    `outbox_enabled` is accepted like on the other stores, but the in-memory stores keep no
    outbox rows. The helpers are plain calls on both stores (not awaited).
    """

    _closed: bool

    def __init__(
        self,
        *,
        event_registry: EventRegistry | None = None,
        outbox_enabled: bool = False,
        enable_tracing: bool = True,
    ) -> None:
        registry = default_registry if event_registry is None else event_registry
        self._queries = MemoryQueries()
        self._memory = _Memory()
        self._ops = Operations(self._queries, registry)
        self._tracer = Tracer(enabled=enable_tracing, db_system="memory")

    def clear(self) -> None:
        """Forget every event."""
        self._helper(self._queries.clear())

    def get_all_events(self) -> list[DomainEvent]:
        """Every stored event, in global log order."""
        rows = self._helper(self._queries.all_rows())
        return [decode_event(row, self._ops.registry) for row in rows]

    def get_event_count(self) -> int:
        """The number of stored events."""
        ((count,),) = self._helper(self._queries.event_count())
        return int(count)

    def _helper(self, query: Query) -> list[Row]:
        if self._closed:
            raise closed_error(self)
        return self._memory.execute(query)

    def _forget(self) -> None:
        """Drop the rows of a closed store."""
        self._memory.tables = Tables()


class SyncInMemoryEventStore(_InMemoryStore, SyncStoreBase):
    """A thread-safe event store held in this process's memory.

    Takes the other stores' keywords: `event_registry`, `enable_tracing` (spans with
    `db.system.name=memory`) and `outbox_enabled` (accepted; no outbox rows are kept).
    """

    def _execute(self, query: Query) -> list[Row]:
        return self._memory.execute(query)

    def _release(self) -> None:
        self._forget()


class InMemoryEventStore(_InMemoryStore, AsyncStoreBase):
    """The asyncio in-memory store: the same executor, run directly on the loop."""

    async def _execute(self, query: Query) -> list[Row]:
        return self._memory.execute(query)

    async def _release(self) -> None:
        self._forget()
