"""Fixtures of the reliability suite: stores over every backend, PostgreSQL fault helpers,
a second PostgreSQL server that tests may restart, and the figures report.

The backends are the conformance suite's (`tests/conformance/backends.py`, reused, not
copied): its directory is put on `sys.path` here, as pytest does when it collects it.

The restartable server is a second throwaway server, started with `tests/conftest.py`'s own
helpers (the very module pytest loaded), so restarting it never disturbs the session's main
server and the tests that use it.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import psycopg
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "conformance"))

import reliability_report
from backends import BACKENDS, Backend
from reliability_events import REGISTRY
from reliability_pg import RestartableServer

from eventsource import SyncEventStore, SyncPostgreSQLEventStore

SYNC_BACKENDS = [backend for backend in BACKENDS if not backend.is_async]


# -- stores over every backend ---------------------------------------------------------------


@pytest.fixture(params=[backend.param() for backend in BACKENDS])
def any_store(request: pytest.FixtureRequest) -> Iterator[SyncEventStore]:
    """A fresh, empty store of each backend (async ones behind the conformance facade)."""
    backend: Backend = request.param
    with backend.open(request, REGISTRY) as store:
        yield store


@pytest.fixture(params=[backend.param() for backend in SYNC_BACKENDS])
def sync_store(request: pytest.FixtureRequest) -> Iterator[SyncEventStore]:
    """A fresh, empty store of each sync backend (in-memory, SQLite, PostgreSQL)."""
    backend: Backend = request.param
    with backend.open(request, REGISTRY) as store:
        yield store


@pytest.fixture
def backend_id(request: pytest.FixtureRequest) -> str:
    """The id of the test's store backend ("memory-sync", "postgres-async", ...)."""
    params = request.node.callspec.params
    for name in ("any_store", "sync_store"):
        if name in params:
            return str(params[name].id)
    raise LookupError(f"{request.node.name} has no store backend")


@pytest.fixture
def section(request: pytest.FixtureRequest) -> str:
    """The figures section of the running test: its node name, with its parameters."""
    return str(request.node.name)


def _main_conftest(config: pytest.Config) -> ModuleType:
    """`tests/conftest.py` as pytest loaded it (its server helpers are reused)."""
    path = Path(__file__).resolve().parent.parent / "conftest.py"
    for plugin in config.pluginmanager.get_plugins():
        if isinstance(plugin, ModuleType) and Path(plugin.__file__ or "").resolve() == path:
            return plugin
    raise LookupError(f"{path} is not loaded")


@pytest.fixture(scope="session")
def restartable_server(request: pytest.FixtureRequest) -> Iterator[RestartableServer]:
    helpers = _main_conftest(request.config)
    with contextlib.ExitStack() as cleanup:
        failure: str | None = None
        try:
            os_user = helpers._server_os_user()
            base = helpers._make_base_dir(os_user)
            cleanup.callback(shutil.rmtree, base, ignore_errors=True)
            wrapper = helpers._write_pg_ctl_wrapper(base, helpers._find_pg_ctl(), os_user)
            executor, server = helpers._start(wrapper, base / "run", base / helpers.PG_CTL_STDERR)
            cleanup.callback(helpers._stop, executor)
        except Exception as exc:
            failure = f"the restartable PostgreSQL server did not start: {exc}"
        if failure is not None:
            pytest.fail(failure, pytrace=False)
        restartable = RestartableServer(helpers, executor, server)
        with psycopg.connect(restartable.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {RestartableServer.dbname}")
        with SyncPostgreSQLEventStore.from_url(restartable.url) as store:
            store.initialize()
        yield restartable


# -- the figures -------------------------------------------------------------------------------


_HERE = Path(__file__).resolve().parent


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Time spent in this folder's tests, and the strict xfails by defect (R1, R2, ...)."""
    if not Path(report.fspath).resolve().is_relative_to(_HERE):
        return
    reliability_report.add_seconds("suite", report.duration)
    if report.when == "call" and hasattr(report, "wasxfail"):
        defect = str(report.wasxfail).split(":", 1)[0]
        reliability_report.count("defects shown by strict xfails", defect)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    reliability_report.write()


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not reliability_report.FIGURES:
        return
    terminalreporter.section("reliability figures")
    terminalreporter.write_line(json.dumps(reliability_report.totals(), sort_keys=True))
    target = reliability_report.write()
    if target is not None:
        terminalreporter.write_line(f"written to {target}")
    else:
        terminalreporter.write_line(
            f"set {reliability_report.REPORT_ENV}=path.json to write every figure"
        )
