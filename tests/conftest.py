"""The throwaway PostgreSQL server for the test session.

The server is started lazily, the first time a test asks for ``postgresql_url`` (or
``postgresql_admin_url`` / ``postgresql_server``), and stopped at the end of the session, so a
run that needs no PostgreSQL never pays for it. It is pytest-postgresql's ``PostgreSQLExecutor``
(``pg_ctl`` under mirakuru), listening on 127.0.0.1 on a random free port, with trust
authentication and durability switched off (a test database needs speed, not crash safety).

PostgreSQL refuses to run as root, and CI runs as root. The executor is therefore always given
a small generated ``pg_ctl`` wrapper: as root it drops to an unprivileged OS user (``postgres``)
with ``setpriv`` (or ``runuser``) before exec'ing the real ``pg_ctl``, and the data directory,
log and socket live in a directory that user owns; as an ordinary user it simply execs
``pg_ctl``. The wrapper also keeps ``pg_ctl``'s own stderr (e.g. initdb's errors) in a file, so
a failed start can say why.

If the server cannot start, every test that asked for it fails with the reason and the tail of
the server log: a PostgreSQL test is never silently skipped.

Environment knobs (all optional):

``EVENTSOURCE_PG_CTL``
    the ``pg_ctl`` to use (default: the newest ``/usr/lib/postgresql/*/bin/pg_ctl``, then PATH).
``EVENTSOURCE_PG_OS_USER``
    the OS user that runs the server when the tests run as root (default ``postgres``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import glob
import os
import pwd
import shlex
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from mirakuru.exceptions import AlreadyRunning

try:
    from pytest_postgresql.executors import PostgreSQLExecutor
except ImportError:  # older pytest-postgresql
    from pytest_postgresql.executor import (  # type: ignore[import-not-found,no-redef,unused-ignore]
        PostgreSQLExecutor,
    )

# The fixtures that need the server: tests using any of them get the ``postgres`` marker.
PG_FIXTURES = frozenset({"postgresql_server", "postgresql_url", "postgresql_admin_url", "pg_url"})

HOST = "127.0.0.1"
# The superuser initdb creates; trust authentication, so no password.
DB_USER = "postgres"
ADMIN_DBNAME = "postgres"
TEST_DBNAME = "eventsource_test"
# A port can be taken between picking it and the server binding it: try again on a fresh one.
START_ATTEMPTS = 3
START_TIMEOUT = 90  # seconds, for initdb and for pg_ctl start/stop each
LOG_TAIL_LINES = 40

# Passed to ``postgres`` as ``-c name=value``: fast and disposable, not durable.
SERVER_SETTINGS = {
    "listen_addresses": HOST,
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
    "max_wal_size": "1GB",
    "lc_messages": "C",
    "log_min_messages": "warning",
}

PG_LIBDIR_GLOB = "/usr/lib/postgresql/*/bin/pg_ctl"
BASE_PARENT = "/tmp"  # not $TMPDIR: the server's OS user must be able to reach it
PG_CTL_STDERR = "pg_ctl.stderr"  # in the base dir: the wrapper appends pg_ctl's stderr here


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if PG_FIXTURES.intersection(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.postgres)


@dataclasses.dataclass(frozen=True)
class PostgreSQLServer:
    """The running throwaway server."""

    host: str
    port: int
    log: Path
    start_seconds: float

    def url(self, dbname: str) -> str:
        return f"postgresql://{DB_USER}@{self.host}:{self.port}/{dbname}"

    def admin_url(self) -> str:
        return self.url(ADMIN_DBNAME)


class _StartFailed(Exception):
    """The server could not be started; the message says why, with the logs' tails."""


@pytest.fixture(scope="session")
def postgresql_server() -> Iterator[PostgreSQLServer]:
    """Start the server (on first request), stop it and remove its files at session end.

    A failed start fails every test that asks for the server (pytest caches a session
    fixture's error, so the start is not retried per test); it never skips them.
    """
    with contextlib.ExitStack() as cleanup:
        failure: str | None = None
        try:
            server = _launch(cleanup)
        except Exception as exc:
            failure = f"The throwaway PostgreSQL server did not start: {exc}"
        if failure is not None:  # outside the except block: no chained traceback in the report
            pytest.fail(failure, pytrace=False)
        yield server


@pytest.fixture(scope="session")
def postgresql_admin_url(postgresql_server: PostgreSQLServer) -> str:
    """URL of the server's ``postgres`` database, as the superuser (to create databases)."""
    return postgresql_server.admin_url()


@pytest.fixture(scope="session")
def postgresql_url(postgresql_server: PostgreSQLServer, postgresql_admin_url: str) -> str:
    """URL of a freshly created, empty database ``eventsource_test``."""
    from psycopg import sql

    name = sql.Identifier(TEST_DBNAME)
    with psycopg.connect(postgresql_admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(name))
    return postgresql_server.url(TEST_DBNAME)


def _launch(cleanup: contextlib.ExitStack) -> PostgreSQLServer:
    """Prepare the files and start the server; ``cleanup`` stops it and removes them."""
    pg_ctl = _find_pg_ctl()
    os_user = _server_os_user()
    base = _make_base_dir(os_user)
    cleanup.callback(shutil.rmtree, base, ignore_errors=True)
    wrapper = _write_pg_ctl_wrapper(base, pg_ctl, os_user)
    executor, server = _start(wrapper, base / "run", base / PG_CTL_STDERR)
    cleanup.callback(_stop, executor)  # runs before the rmtree (last in, first out)
    return server


def _start(
    wrapper: Path, run_dir: Path, stderr_log: Path
) -> tuple[PostgreSQLExecutor, PostgreSQLServer]:
    """Start the server on a free port, trying fresh ports if the chosen one gets taken."""
    postgres_options = " ".join(f"-c {name}={value}" for name, value in SERVER_SETTINGS.items())
    problems: list[str] = []
    for attempt in range(1, START_ATTEMPTS + 1):
        port = _free_port()
        logfile = run_dir / f"postgresql-{port}.log"
        executor = PostgreSQLExecutor(
            executable=str(wrapper),
            host=HOST,
            port=port,
            datadir=str(run_dir / f"data-{port}"),
            unixsocketdir=str(run_dir),
            logfile=str(logfile),
            startparams=f"-w -t {START_TIMEOUT}",
            dbname=TEST_DBNAME,
            timeout=START_TIMEOUT,
            user=DB_USER,
            password=None,
            options="",
            postgres_options=postgres_options,
        )
        began = time.monotonic()
        try:
            executor.start()
        except AlreadyRunning:
            _stop(executor)
            problems.append(f"attempt {attempt}: port {port} was taken by another process")
            continue
        except Exception as exc:
            _stop(executor)
            problems.append(f"attempt {attempt} (port {port}): {type(exc).__name__}: {exc}")
            if attempt < START_ATTEMPTS and _port_was_taken(_read_text(logfile), port):
                continue
            raise _StartFailed(_failure_report(problems, stderr_log, logfile)) from exc
        server = PostgreSQLServer(HOST, port, logfile, time.monotonic() - began)
        try:
            _wait_until_ready(server)
        except Exception as exc:
            _stop(executor)
            problems.append(f"attempt {attempt} (port {port}): never ready: {exc}")
            raise _StartFailed(_failure_report(problems, stderr_log, logfile)) from exc
        return executor, server
    problems.append(f"gave up after {START_ATTEMPTS} attempts")
    raise _StartFailed(_failure_report(problems, stderr_log, logfile))


def _wait_until_ready(server: PostgreSQLServer) -> None:
    """The port opens before the server takes logins ("the database system is starting up")."""
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            psycopg.connect(server.admin_url(), connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


def _port_was_taken(server_log: str, port: int) -> bool:
    return "already in use" in server_log or f"port {port}" in server_log


def _failure_report(problems: list[str], stderr_log: Path, server_log: Path) -> str:
    return "\n".join(
        [
            *problems,
            _log_tail("pg_ctl/initdb stderr", stderr_log),
            _log_tail("server log", server_log),
        ]
    )


def _stop(executor: PostgreSQLExecutor) -> None:
    """Stop the server if it runs (``pg_ctl stop -m fast``); never raises."""
    with contextlib.suppress(Exception):
        if executor.running():
            executor.stop()


def _find_pg_ctl() -> str:
    """``$EVENTSOURCE_PG_CTL``, else the newest ``/usr/lib/postgresql/*/bin/pg_ctl``, else PATH."""
    configured = os.environ.get("EVENTSOURCE_PG_CTL")
    if configured:
        if not os.access(configured, os.X_OK):
            raise RuntimeError(f"EVENTSOURCE_PG_CTL={configured} is not an executable file")
        return configured

    def major(path: str) -> tuple[int, ...]:
        version = Path(path).parent.parent.name
        return tuple(int(part) for part in version.split(".") if part.isdigit())

    installed = [path for path in glob.glob(PG_LIBDIR_GLOB) if os.access(path, os.X_OK)]
    if installed:
        return max(installed, key=major)
    on_path = shutil.which("pg_ctl")
    if on_path:
        return on_path
    raise RuntimeError(
        f"pg_ctl not found (looked at $EVENTSOURCE_PG_CTL, {PG_LIBDIR_GLOB} and PATH): install "
        "the PostgreSQL server binaries (Debian: apt-get install postgresql) or set "
        "EVENTSOURCE_PG_CTL"
    )


def _server_os_user() -> pwd.struct_passwd | None:
    """The OS user to run the server as: None (ourselves) unless we are root."""
    if os.geteuid() != 0:
        return None
    name = os.environ.get("EVENTSOURCE_PG_OS_USER") or "postgres"
    try:
        user = pwd.getpwnam(name)
    except KeyError:
        raise RuntimeError(
            f"running as root, which PostgreSQL refuses, and there is no OS user {name!r} to "
            "run the server as: create it (e.g. useradd --system postgres) or set "
            "EVENTSOURCE_PG_OS_USER"
        ) from None
    if user.pw_uid == 0:
        raise RuntimeError(f"EVENTSOURCE_PG_OS_USER={name} is root, which PostgreSQL refuses")
    return user


def _make_base_dir(os_user: pwd.struct_passwd | None) -> Path:
    """A fresh directory under /tmp with ``run/`` (data dir, log, socket) owned by ``os_user``.

    The base directory itself stays ours (mode 0711: others may only pass through it).
    """
    base = Path(tempfile.mkdtemp(prefix="eventsource-pg-", dir=BASE_PARENT))
    os.chmod(base, 0o711)
    run_dir = base / "run"
    run_dir.mkdir()
    os.chmod(run_dir, 0o700)
    if os_user is not None:
        os.chown(run_dir, os_user.pw_uid, os_user.pw_gid)
    return base


def _write_pg_ctl_wrapper(base: Path, pg_ctl: str, os_user: pwd.struct_passwd | None) -> Path:
    """Write the ``pg_ctl`` the executor runs: as ``os_user`` if given, stderr kept in a file."""
    if os_user is None:
        run_as = ""
    elif setpriv := shutil.which("setpriv"):
        run_as = (
            f"{shlex.quote(setpriv)} --reuid={os_user.pw_uid} --regid={os_user.pw_gid} "
            "--init-groups -- "
        )
    elif runuser := shutil.which("runuser"):
        run_as = f"{shlex.quote(runuser)} -u {shlex.quote(os_user.pw_name)} -- "
    else:
        raise RuntimeError(
            f"running as root, but neither setpriv nor runuser is available to run the server "
            f"as {os_user.pw_name} (Debian: apt-get install util-linux)"
        )
    wrapper = base / "pg_ctl"
    wrapper.write_text(
        "#!/bin/sh\n"
        "# Generated by tests/conftest.py for the test session's throwaway PostgreSQL server.\n"
        "# PostgreSQL's tools fail if they cannot read the working directory.\n"
        "cd / || exit 1\n"
        f"exec 2>>{shlex.quote(str(base / PG_CTL_STDERR))}\n"
        f'exec {run_as}{shlex.quote(pg_ctl)} "$@"\n'
    )
    os.chmod(wrapper, stat.S_IRWXU | stat.S_IRGRP | stat.S_IXGRP | stat.S_IROTH | stat.S_IXOTH)
    return wrapper


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
    return port


def _read_text(path: Path) -> str:
    try:
        return path.read_text(errors="replace")
    except OSError:
        return ""


def _log_tail(title: str, path: Path, lines: int = LOG_TAIL_LINES) -> str:
    tail = _read_text(path).splitlines()[-lines:]
    if not tail:
        return f"--- {title} ({path}): empty or missing ---"
    return f"--- {title} ({path}), last {len(tail)} lines ---\n" + "\n".join(tail)


@pytest.fixture(scope="session")
def _pg_schema(postgresql_url: str) -> str:
    from eventsource import SyncPostgreSQLEventStore

    with SyncPostgreSQLEventStore.from_url(postgresql_url) as store:
        store.initialize()
    return postgresql_url


@pytest.fixture
def pg_url(_pg_schema: str) -> str:
    """The test database's URL, with the schema created and both tables empty."""
    with psycopg.connect(_pg_schema, autocommit=True) as conn:
        conn.execute("TRUNCATE events, event_outbox RESTART IDENTITY")
    return _pg_schema


_SPANS: list[Any] = []  # the one exporter of the session, once made


@pytest.fixture
def spans() -> Iterator[Any]:
    """The spans finished during this test (an `InMemorySpanExporter`).

    OpenTelemetry's tracer provider is global and can be set once per process, so the
    exporter is added to the SDK provider once, whichever test asks first.
    """
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    if not _SPANS:
        provider = trace.get_tracer_provider()
        if not isinstance(provider, TracerProvider):
            provider = TracerProvider()
            trace.set_tracer_provider(provider)
        exporter = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        _SPANS.append(exporter)
    exporter = _SPANS[0]
    exporter.clear()
    yield exporter
    exporter.clear()
