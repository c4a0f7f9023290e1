"""The PostgreSQL backend: its queries (`queries`), its stores (`store`), its `schema.sql`."""

from .queries import schema_sql
from .store import LogHorizon, PostgreSQLEventStore, SyncPostgreSQLEventStore

__all__ = ["LogHorizon", "PostgreSQLEventStore", "SyncPostgreSQLEventStore", "schema_sql"]
