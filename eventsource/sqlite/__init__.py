"""The embedded SQLite backend: its queries (`queries`), its stores (`store`), its
`schema.sql`."""

from .queries import schema_sql
from .store import SQLiteEventStore, SyncSQLiteEventStore

__all__ = ["SQLiteEventStore", "SyncSQLiteEventStore", "schema_sql"]
