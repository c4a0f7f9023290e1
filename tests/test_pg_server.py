"""The session's throwaway PostgreSQL server (tests/conftest.py) is usable as the suite needs."""

from __future__ import annotations

import psycopg
import pytest

pytestmark = pytest.mark.postgres


def test_connects_over_loopback_tcp(postgresql_url: str) -> None:
    assert postgresql_url.startswith("postgresql://postgres@127.0.0.1:")
    with psycopg.connect(postgresql_url) as conn:
        row = conn.execute(
            "select version(), current_database(), inet_server_addr()::text, "
            "(select rolsuper from pg_roles where rolname = current_user)"
        ).fetchone()
    assert row is not None
    version, database, address, superuser = row
    assert version.startswith("PostgreSQL ")
    assert database == "eventsource_test"
    assert address.startswith("127.0.0.1")
    assert superuser is True


def test_has_transaction_ids_for_the_global_log(postgresql_url: str) -> None:
    # The store orders its global log by the writing transaction's xid8 (DESIGN.md section 4).
    with psycopg.connect(postgresql_url) as conn:
        row = conn.execute(
            "select pg_current_xact_id(), pg_snapshot_xmin(pg_current_snapshot())"
        ).fetchone()
    assert row is not None
    xid, xmin = row
    assert int(str(xid)) >= int(str(xmin)) > 0


def test_settings_suit_tests(postgresql_url: str) -> None:
    with psycopg.connect(postgresql_url) as conn:
        settings: dict[str, str] = dict(
            conn.execute(
                "select name, setting from pg_settings where name = any(%s)",
                (["fsync", "synchronous_commit", "full_page_writes", "max_connections"],),
            ).fetchall()
        )
    assert settings == {
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }


def test_admin_url_can_create_and_drop_databases(
    postgresql_admin_url: str, postgresql_url: str
) -> None:
    with psycopg.connect(postgresql_admin_url, autocommit=True) as admin:
        assert admin.execute("select current_database()").fetchone() == ("postgres",)
        admin.execute("create database scratch_for_admin_test")
        try:
            url = postgresql_url.rsplit("/", 1)[0] + "/scratch_for_admin_test"
            with psycopg.connect(url) as conn:
                assert conn.execute("select 1").fetchone() == (1,)
        finally:
            admin.execute("drop database scratch_for_admin_test with (force)")
