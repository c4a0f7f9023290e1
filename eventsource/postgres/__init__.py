"""The PostgreSQL backend: its queries (`queries`), its stores (`store`), its `schema.sql`."""

from .store import LogHorizon, PostgreSQLEventStore, SyncPostgreSQLEventStore

__all__ = ["LogHorizon", "PostgreSQLEventStore", "SyncPostgreSQLEventStore"]
