"""Benchmarks of the PostgreSQL stores against a raw psycopg baseline (see README.md)."""
