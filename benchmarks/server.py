"""A throwaway PostgreSQL server for the benchmarks: initdb, start, stop, remove.

PostgreSQL refuses to run as root, so as root the server's tools run as an unprivileged OS
user (`postgres` by default, `$EVENTSOURCE_PG_OS_USER` to override) via `setpriv` (or
`runuser`), in a directory under /tmp that user owns. The server listens on 127.0.0.1 on a
free port with trust authentication. It is durable by default (fsync and synchronous commit
on, as in production); `fast=True` turns fsync, synchronous_commit and full_page_writes off.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import psycopg

HOST = "127.0.0.1"
DB_USER = "postgres"
DB_NAME = "eventsource_bench"
START_TIMEOUT = 60.0

# Realistic, mostly default settings; only what a benchmark must pin down is set.
SETTINGS: dict[str, str] = {
    "listen_addresses": HOST,
    "max_connections": "100",
    "shared_buffers": "128MB",
    "max_wal_size": "4GB",  # no checkpoint forced by WAL volume in the middle of a run
    "checkpoint_timeout": "1h",  # nor by time: the runner issues CHECKPOINTs between runs
    "lc_messages": "C",
    "log_min_messages": "warning",
    "jit": "off",  # PostgreSQL's default build has no JIT here anyway; keep plans comparable
}
FAST_SETTINGS: dict[str, str] = {
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


@dataclass(frozen=True)
class Server:
    """A running server: its URL and where it logs."""

    url: str
    admin_url: str
    log: Path
    version: str


def find_bindir() -> Path:
    """`$EVENTSOURCE_PG_BINDIR`, else the newest `/usr/lib/postgresql/*/bin`, else PATH."""
    configured = os.environ.get("EVENTSOURCE_PG_BINDIR")
    if configured:
        return Path(configured)
    candidates = glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")

    def major(path: str) -> int:
        name = Path(path).parent.parent.name
        return int(name) if name.isdigit() else 0

    if candidates:
        return Path(max(candidates, key=major)).parent
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).parent
    raise RuntimeError("pg_ctl not found: install PostgreSQL or set EVENTSOURCE_PG_BINDIR")


def _run_as_prefix() -> tuple[list[str], pwd.struct_passwd | None]:
    if os.geteuid() != 0:
        return [], None
    name = os.environ.get("EVENTSOURCE_PG_OS_USER", "postgres")
    user = pwd.getpwnam(name)
    if setpriv := shutil.which("setpriv"):
        prefix = [
            setpriv,
            f"--reuid={user.pw_uid}",
            f"--regid={user.pw_gid}",
            "--init-groups",
            "--",
        ]
        return prefix, user
    if runuser := shutil.which("runuser"):
        return [runuser, "-u", user.pw_name, "--"], user
    raise RuntimeError("running as root and neither setpriv nor runuser is available")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def _run(prefix: Sequence[str], argv: Sequence[str]) -> None:
    result = subprocess.run([*prefix, *argv], cwd="/", capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise RuntimeError(
            f"{' '.join(argv)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


@contextlib.contextmanager
def throwaway_server(
    *, fast: bool = False, settings: dict[str, str] | None = None
) -> Iterator[Server]:
    """Start a fresh server (initdb in a temporary directory); stop it and remove it after.

    `settings` are extra `postgres -c` settings (e.g. `shared_preload_libraries`).
    """
    bindir = find_bindir()
    prefix, user = _run_as_prefix()
    base = Path(tempfile.mkdtemp(prefix="eventsource-bench-pg-", dir="/tmp"))
    try:
        os.chmod(base, 0o711)
        run_dir = base / "run"
        run_dir.mkdir(mode=0o700)
        if user is not None:
            os.chown(run_dir, user.pw_uid, user.pw_gid)
        data = run_dir / "data"
        log = run_dir / "postgresql.log"
        _run(
            prefix,
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                DB_USER,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
        )
        port = _free_port()
        chosen = {**SETTINGS, **(FAST_SETTINGS if fast else {}), **(settings or {})}
        chosen["port"] = str(port)
        chosen["unix_socket_directories"] = str(run_dir)
        options = " ".join(f"-c {name}={value}" for name, value in chosen.items())
        _run(
            prefix,
            [
                str(bindir / "pg_ctl"),
                "start",
                "-w",
                "-t",
                str(int(START_TIMEOUT)),
                "-D",
                str(data),
                "-l",
                str(log),
                "-o",
                options,
            ],
        )
        try:
            admin_url = f"postgresql://{DB_USER}@{HOST}:{port}/postgres"
            _wait_ready(admin_url)
            with psycopg.connect(admin_url, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {DB_NAME}")
                row = conn.execute("SHOW server_version").fetchone()
            version = str(row[0]) if row else "?"
            yield Server(f"postgresql://{DB_USER}@{HOST}:{port}/{DB_NAME}", admin_url, log, version)
        finally:
            with contextlib.suppress(RuntimeError):
                _run(prefix, [str(bindir / "pg_ctl"), "stop", "-m", "fast", "-D", str(data)])
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _wait_ready(url: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            psycopg.connect(url, connect_timeout=5).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)
