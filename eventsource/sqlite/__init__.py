"""The embedded SQLite backend: its queries (`queries`), its stores (`store`), its
`schema.sql`."""

from .store import SQLiteEventStore, SyncSQLiteEventStore

__all__ = ["SQLiteEventStore", "SyncSQLiteEventStore"]
