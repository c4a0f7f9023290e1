"""The in-memory backend, for tests and prototypes."""

from .store import InMemoryEventStore, SyncInMemoryEventStore

__all__ = ["InMemoryEventStore", "SyncInMemoryEventStore"]
