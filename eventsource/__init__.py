"""eventsource: an event store for Python, sync-first with an asyncio twin.

Backends: PostgreSQL (production), SQLite (embedded default) and in-memory (tests).
"""

from __future__ import annotations

from .errors import (
    DuplicateEventError,
    DuplicateEventTypeError,
    EventSourceError,
    EventTypeNotFoundError,
    OptimisticLockError,
    SchemaNotInitializedError,
    SerializationError,
    StoreUnavailableError,
)
from .events import DomainEvent, EventRegistry, default_registry, register_event
from .interface import EventStore, SyncEventStore
from .memory import InMemoryEventStore, SyncInMemoryEventStore
from .postgres import LogHorizon, PostgreSQLEventStore, SyncPostgreSQLEventStore
from .sqlite import SQLiteEventStore, SyncSQLiteEventStore
from .types import (
    AppendResult,
    EventStream,
    ExpectedVersion,
    ReadDirection,
    ReadOptions,
    StoredEvent,
    StoreStats,
    StreamInfo,
)

__version__ = "0.1.0.dev0"

__all__ = [
    "AppendResult",
    "DomainEvent",
    "DuplicateEventError",
    "DuplicateEventTypeError",
    "EventRegistry",
    "EventSourceError",
    "EventStore",
    "EventStream",
    "EventTypeNotFoundError",
    "ExpectedVersion",
    "InMemoryEventStore",
    "LogHorizon",
    "OptimisticLockError",
    "PostgreSQLEventStore",
    "ReadDirection",
    "ReadOptions",
    "SQLiteEventStore",
    "SchemaNotInitializedError",
    "SerializationError",
    "StoreStats",
    "StoreUnavailableError",
    "StoredEvent",
    "StreamInfo",
    "SyncEventStore",
    "SyncInMemoryEventStore",
    "SyncPostgreSQLEventStore",
    "SyncSQLiteEventStore",
    "__version__",
    "default_registry",
    "register_event",
]
