"""The `eventsource` command, run as a user runs it: a subprocess in a folder of its own."""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit, urlunsplit
from uuid import uuid4

import attrs
import pytest

import eventsource
from eventsource import (
    DomainEvent,
    EventRegistry,
    SyncPostgreSQLEventStore,
    SyncSQLiteEventStore,
    register_event,
)

pytestmark = pytest.mark.slow  # every test starts the command, a Python process, a few times

# The subprocess imports the same eventsource as this test process (installed or not).
PACKAGE_ROOT = str(Path(eventsource.__file__).resolve().parent.parent)
STREAM_ID_LENGTH = 36 + len(":Order")
UUID_PATTERN = "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

OTHER = EventRegistry()


@register_event(registry=OTHER)
@attrs.frozen(kw_only=True)
class InvoiceSent(DomainEvent):
    """An event class the command line has never heard of."""

    amount: Decimal


def environment(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "EVENTSOURCE_URL"}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [PACKAGE_ROOT, env.get("PYTHONPATH")]))
    env.update(extra or {})
    return env


def run(
    cwd: Path, *args: str, timeout: float = 60, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "eventsource", *args],
        cwd=cwd,
        env=environment(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def ok(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = run(cwd, *args, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    return result.stdout


def fails(cwd: Path, *args: str, status: int = 1, timeout: float = 60) -> str:
    """The command fails with `status` and says why in one line, no traceback."""
    result = run(cwd, *args, timeout=timeout)
    assert result.returncode == status, (result.stdout, result.stderr)
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert "error" in lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """An empty current folder for the command."""
    path = tmp_path / "work"
    path.mkdir()
    return path


@pytest.fixture
def demo_folder(folder: Path) -> Path:
    """A folder whose eventsource.db holds one demo run."""
    ok(folder, "demo")
    return folder


def stream_ids(folder: Path) -> list[str]:
    return [info["stream_id"] for info in json.loads(ok(folder, "streams", "--json"))]


# -- demo ------------------------------------------------------------------------------------


# How pip's console script starts the command (the `eventsource` a venv's bin folder holds).
CONSOLE_SCRIPT = """#!{python}
import sys
from eventsource.cli import main
if __name__ == "__main__":
    sys.exit(main())
"""


def _executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    path.chmod(0o755)
    return path


@pytest.mark.parametrize(
    ("how", "path_has", "shown"),
    [
        pytest.param("script", "nothing", "script", id="script-not-on-PATH"),
        pytest.param("script", "script", "eventsource", id="script-on-PATH"),
        pytest.param("script", "another-then-script", "script", id="another-eventsource-first"),
        pytest.param("module", "nothing", "python-path", id="module"),
        pytest.param("module", "python", "python-name", id="module-python-on-PATH"),
    ],
)
def test_demo_suggests_commands_spelled_as_the_user_ran_it(
    folder: Path, tmp_path: Path, how: str, path_has: str, shown: str
) -> None:
    """After `.venv/bin/eventsource demo`, the suggested commands must run as printed."""
    script = _executable(
        tmp_path / "venv" / "bin" / "eventsource", CONSOLE_SCRIPT.format(python=sys.executable)
    )
    another = _executable(tmp_path / "other" / "eventsource", "#!/bin/sh\nexit 3\n")
    empty = tmp_path / "empty"
    empty.mkdir()
    search_path = {
        "nothing": [empty],
        "script": [script.parent],
        "another-then-script": [another.parent, script.parent],
        "python": [Path(sys.executable).parent],
    }[path_has]
    env = environment({"PATH": os.pathsep.join(map(str, search_path))})
    command = [str(script)] if how == "script" else [sys.executable, "-m", "eventsource"]
    demo = subprocess.run(
        [*command, "demo"], cwd=folder, env=env, capture_output=True, text=True, check=True
    )
    expected = {
        "script": shlex.quote(str(script)),
        "eventsource": "eventsource",
        "python-path": f"{shlex.quote(sys.executable)} -m eventsource",
        "python-name": f"{Path(sys.executable).name} -m eventsource",
    }[shown]
    streams, read, stats, tail = demo.stdout.split("Next, try:\n", 1)[1].splitlines()[:4]
    assert streams == f"  {expected} streams"
    assert re.fullmatch(rf"  {re.escape(expected)} read {UUID_PATTERN}:Order", read), read
    assert stats == f"  {expected} stats"
    assert tail.startswith(f"  {expected} tail --follow ")
    for line in (streams, read, stats):  # each one pasted into a shell
        pasted = subprocess.run(
            line, shell=True, cwd=folder, env=env, capture_output=True, text=True, check=False
        )
        assert pasted.returncode == 0, (line, pasted.stderr)
        assert pasted.stdout


def test_demo_suggestions_name_the_store_given_with_url(folder: Path) -> None:
    output = ok(folder, "demo", "--url", "sqlite:///elsewhere.db")
    streams = next(line for line in output.splitlines() if line.endswith(" streams"))
    assert "--url sqlite:///elsewhere.db streams" in streams


def test_demo_runs_twice_in_the_same_folder(folder: Path) -> None:
    first = ok(folder, "demo")
    assert (folder / "eventsource.db").exists()
    for text in ("OrderPlaced", "PaymentReceived", "OrderShipped", "OptimisticLockError"):
        assert text in first
    assert "Decimal('42.50')" in first
    assert "Bob ships it again (expected_version=2)  -> version 3" in first
    second = ok(folder, "demo")
    assert "The store holds 8 events in 4 streams." in second
    stats = json.loads(ok(folder, "stats", "--json"))
    assert stats["event_count"] == 8
    assert stats["stream_count"] == 4


# -- init --------------------------------------------------------------------------------------


def test_init_creates_the_sqlite_schema_idempotently(folder: Path) -> None:
    assert "Schema ready in sqlite:///store.db" in ok(folder, "init", "--url", "sqlite:///store.db")
    ok(folder, "init", "--url", "sqlite:///store.db")
    assert json.loads(ok(folder, "stats", "--json", "--url", "sqlite:///store.db")) == {
        "event_count": 0,
        "stream_count": 0,
        "head_position": 0,
        "events_by_type": [],
        "events_by_tenant": [],
    }


def test_init_accepts_an_absolute_sqlite_url_and_the_environment(
    folder: Path, tmp_path: Path
) -> None:
    target = tmp_path / "elsewhere.db"
    ok(folder, "init", "--url", f"sqlite:///{target}")  # sqlite:////abs/path
    assert target.exists()
    env_target = tmp_path / "from_env.db"
    ok(folder, "init", env={"EVENTSOURCE_URL": f"sqlite:///{env_target}"})
    assert env_target.exists()
    assert not (folder / "eventsource.db").exists()


def test_init_print_shows_the_sql_without_connecting(folder: Path) -> None:
    sqlite_sql = ok(folder, "init", "--print")
    assert "CREATE TABLE IF NOT EXISTS events" in sqlite_sql
    assert "AUTOINCREMENT" in sqlite_sql
    assert not (folder / "eventsource.db").exists()
    postgres_sql = ok(folder, "init", "--print", "--url", "postgresql://nobody@127.0.0.1:1/x")
    packaged = (Path(eventsource.__file__).parent / "postgres" / "schema.sql").read_text(
        encoding="utf-8"
    )
    assert postgres_sql == packaged


# -- reading -----------------------------------------------------------------------------------


def test_streams_as_table_and_json(demo_folder: Path) -> None:
    table = ok(demo_folder, "streams").splitlines()
    assert table[0].split() == ["STREAM", "VERSION", "LAST", "POSITION"]
    assert len(table) == 3
    streams = json.loads(ok(demo_folder, "streams", "--json"))
    assert [(s["version"], s["last_position"]) for s in streams] == [(3, 4), (1, 2)]
    assert [s["stream_id"] for s in streams] == [line.split()[0] for line in table[1:]]
    assert len(json.loads(ok(demo_folder, "streams", "--json", "--limit", "1"))) == 1


def test_read_a_stream_as_table_and_json_lines(demo_folder: Path) -> None:
    stream_id = stream_ids(demo_folder)[0]
    table = ok(demo_folder, "read", stream_id).splitlines()
    assert table[0].split()[:2] == ["POSITION", "VERSION"]
    assert [line.split()[4] for line in table[1:]] == [
        "OrderPlaced",
        "PaymentReceived",
        "OrderShipped",
    ]
    assert '"total": "42.50"' in table[1]
    lines = ok(demo_folder, "read", stream_id, "--json").splitlines()
    events = [json.loads(line) for line in lines]
    assert [e["stream_position"] for e in events] == [1, 2, 3]
    assert {e["stream_id"] for e in events} == {stream_id}
    assert events[0]["payload"]["total"] == "42.50"
    assert events[0]["payload"]["lines"][0] == {
        "sku": "BOOK-42",
        "quantity": 2,
        "unit_price": "12.50",
    }
    assert set(events[0]) >= {"event_id", "event_type", "occurred_at", "stored_at", "metadata"}
    backward = ok(demo_folder, "read", stream_id, "--json", "--backward", "--limit", "2")
    assert [json.loads(line)["stream_position"] for line in backward.splitlines()] == [3, 2]
    after = ok(demo_folder, "read", stream_id.split(":")[0], "--json", "--from", "2")
    assert [json.loads(line)["stream_position"] for line in after.splitlines()] == [3]


def test_read_shows_events_of_classes_it_does_not_know(folder: Path) -> None:
    aggregate_id = uuid4()
    with SyncSQLiteEventStore(folder / "eventsource.db", event_registry=OTHER) as store:
        event = InvoiceSent(aggregate_id=aggregate_id, amount=Decimal("1.10"))
        store.append_events(aggregate_id, "Invoice", [event], 0)
    (line,) = ok(folder, "read", f"{aggregate_id}:Invoice", "--json").splitlines()
    read = json.loads(line)
    assert (read["event_type"], read["payload"]) == ("InvoiceSent", {"amount": "1.10"})
    assert "(no events in" in ok(folder, "read", f"{uuid4()}:Invoice")
    assert ok(folder, "read", f"{uuid4()}:Invoice", "--json") == ""


def test_tail_shows_the_end_of_the_log(demo_folder: Path) -> None:
    ok(demo_folder, "demo")
    table = ok(demo_folder, "tail", "-n", "3").splitlines()
    assert table[0].split()[:3] == ["POSITION", "STREAM", "VERSION"]
    assert [int(line.split()[0]) for line in table[1:]] == [6, 7, 8]
    assert all(len(line.split()[1]) == STREAM_ID_LENGTH for line in table[1:])
    everything = ok(demo_folder, "tail", "--json", "--from", "0").splitlines()
    assert [json.loads(line)["global_position"] for line in everything] == list(range(1, 9))
    after = ok(demo_folder, "tail", "--json", "--from", "6")
    assert [json.loads(line)["global_position"] for line in after.splitlines()] == [7, 8]
    assert len(ok(demo_folder, "tail").splitlines()) == 9  # header + the last 10 (of 8)


def test_stats_as_table_and_json(demo_folder: Path) -> None:
    table = ok(demo_folder, "stats")
    assert "Events         4" in table
    assert "Streams        2" in table
    assert "Head position  4" in table
    assert "OrderPlaced" in table
    assert "(no tenant)" in table
    stats = json.loads(ok(demo_folder, "stats", "--json"))
    assert stats == {
        "event_count": 4,
        "stream_count": 2,
        "head_position": 4,
        "events_by_type": [
            {"event_type": "OrderPlaced", "count": 2},
            {"event_type": "OrderShipped", "count": 1},
            {"event_type": "PaymentReceived", "count": 1},
        ],
        "events_by_tenant": [{"tenant_id": None, "count": 4}],
    }


# -- tail --follow -----------------------------------------------------------------------------


def _lines_of(stream: IO[str]) -> queue.Queue[str]:
    """A queue fed with the stream's lines by a thread, so reads can time out."""
    lines: queue.Queue[str] = queue.Queue()

    def pump() -> None:
        for line in stream:
            lines.put(line)

    threading.Thread(target=pump, daemon=True).start()
    return lines


@pytest.fixture
def follower(folder: Path) -> Iterator[subprocess.Popen[str]]:
    ok(folder, "init")
    process = subprocess.Popen(
        [sys.executable, "-m", "eventsource", "tail", "--follow", "--json", "--interval", "0.1"],
        cwd=folder,
        env=environment(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=10)
        for pipe in (process.stdout, process.stderr):
            if pipe is not None:
                pipe.close()


def test_tail_follow_prints_events_appended_by_another_process(
    folder: Path, follower: subprocess.Popen[str]
) -> None:
    assert follower.stdout is not None
    assert follower.stderr is not None
    lines = _lines_of(follower.stdout)
    time.sleep(0.5)  # let it start and reach the end of the (empty) log
    aggregate_id = uuid4()
    with SyncSQLiteEventStore(folder / "eventsource.db", event_registry=OTHER) as store:
        for n in range(3):
            event = InvoiceSent(aggregate_id=aggregate_id, amount=Decimal(n))
            store.append_events(aggregate_id, "Invoice", [event], n)
            time.sleep(0.2)
    seen = [json.loads(lines.get(timeout=15)) for _ in range(3)]
    assert [e["stream_position"] for e in seen] == [1, 2, 3]
    assert [e["payload"]["amount"] for e in seen] == ["0", "1", "2"]
    assert follower.poll() is None  # still following


@pytest.mark.parametrize(
    ("signum", "status"),
    [
        pytest.param(signal.SIGINT, 130, id="ctrl-c"),
        pytest.param(signal.SIGTERM, 143, id="sigterm"),
    ],
)
def test_a_signal_ends_tail_follow_quietly_with_128_plus_its_number(
    folder: Path, follower: subprocess.Popen[str], signum: int, status: int
) -> None:
    assert follower.stdout is not None
    assert follower.stderr is not None
    lines = _lines_of(follower.stdout)
    aggregate_id = uuid4()
    with SyncSQLiteEventStore(folder / "eventsource.db", event_registry=OTHER) as store:
        event = InvoiceSent(aggregate_id=aggregate_id, amount=Decimal(1))
        store.append_events(aggregate_id, "Invoice", [event], 0)
    json.loads(lines.get(timeout=15))  # following: the signal lands in the polling loop
    follower.send_signal(signum)
    assert follower.wait(timeout=10) == status
    assert follower.stderr.read() == ""


# -- bad input ---------------------------------------------------------------------------------


def test_unknown_url_scheme(folder: Path) -> None:
    assert "unsupported URL scheme 'mysql'" in fails(folder, "stats", "--url", "mysql://h/db")


def test_malformed_sqlite_url(folder: Path) -> None:
    assert "malformed SQLite URL" in fails(folder, "stats", "--url", "sqlite://host/x.db")
    assert "malformed store URL" in fails(folder, "stats", "--url", "eventsource.db")


def test_missing_sqlite_file_is_reported_not_created(folder: Path) -> None:
    for command in (["stats"], ["streams"], ["read", f"{uuid4()}"], ["tail"]):
        assert "no event store at eventsource.db" in fails(folder, *command)
    assert not (folder / "eventsource.db").exists()


def test_malformed_stream_id(demo_folder: Path) -> None:
    assert "malformed stream id 'order-42'" in fails(demo_folder, "read", "order-42")


def test_malformed_postgresql_url_hides_the_password(folder: Path) -> None:
    line = fails(folder, "stats", "--url", "postgresql://me:s3cret@[::1/db")
    assert "malformed PostgreSQL URL" in line
    assert "s3cret" not in line


def test_unreachable_postgresql_fails_fast(folder: Path) -> None:
    started = time.monotonic()
    url = "postgresql://me:s3cret@127.0.0.1:1/db"
    line = fails(folder, "stats", "--url", url, "--timeout", "1", timeout=30)
    assert "PostgreSQL" in line
    assert line.count("Connection refused") == 1  # the cause, once
    assert "s3cret" not in line
    assert time.monotonic() - started < 15


def test_bad_arguments_are_one_line_with_status_2(folder: Path) -> None:
    assert "invalid" in fails(folder, "tail", "--from", "abc", status=2)
    assert "required" in fails(folder, status=2)
    assert "invalid choice" in fails(folder, "frobnicate", status=2)


@pytest.mark.parametrize("option", ["--timeout", "--interval"])
@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_durations_must_be_positive_seconds(folder: Path, option: str, value: str) -> None:
    line = fails(folder, "tail", option, value, status=2)
    assert f"argument {option}: expected a positive number of seconds, got '{value}'" in line


def test_version(folder: Path) -> None:
    assert ok(folder, "--version") == f"eventsource {eventsource.__version__}\n"


@pytest.mark.parametrize(
    ("command", "option", "says"),
    [
        pytest.param(
            "read",
            "--from VERSION",
            "exclusive: the events after this stream version; with --backward, the events "
            "before it",
            id="read-from",
        ),
        pytest.param(
            "tail",
            "--from POSITION",
            "exclusive: every event after this global position",
            id="tail-from",
        ),
        pytest.param(
            "tail", "--interval INTERVAL", "with --follow: seconds between polls", id="interval"
        ),
        pytest.param(
            "stats",
            "--timeout TIMEOUT",
            "seconds to wait for PostgreSQL to accept a connection (default: 5); a missing "
            "database or role, or a wrong password, fails at once",
            id="timeout",
        ),
    ],
)
def test_help_says_what_an_option_means(folder: Path, command: str, option: str, says: str) -> None:
    text = " ".join(ok(folder, command, "--help").split())
    assert f"{option} {says}" in text


def test_init_into_a_missing_folder_names_it(folder: Path) -> None:
    for command in ("init", "demo"):
        line = fails(folder, "--url", "sqlite:///no/such/dir/x.db", command)
        assert "no/such/dir" in line
    assert list(folder.iterdir()) == []


# -- PostgreSQL ----------------------------------------------------------------------------------


def test_init_and_stats_on_postgresql(folder: Path, postgresql_url: str) -> None:
    assert "Schema ready in postgresql://" in ok(folder, "init", "--url", postgresql_url)
    ok(folder, "init", "--url", postgresql_url)  # idempotent
    stats = json.loads(ok(folder, "stats", "--json", "--url", postgresql_url))
    assert set(stats) == {
        "event_count",
        "stream_count",
        "head_position",
        "events_by_type",
        "events_by_tenant",
    }
    assert "Head position" in ok(folder, "stats", "--url", postgresql_url)
    assert not (folder / "eventsource.db").exists()


@pytest.mark.parametrize(
    ("user", "database", "cause"),
    [
        pytest.param(None, "no_such_database", 'database "no_such_database" does not exist'),
        pytest.param("no_such_role", None, 'role "no_such_role" does not exist'),
    ],
)
def test_a_permanent_postgresql_refusal_fails_at_once_naming_it(
    folder: Path, postgresql_url: str, user: str | None, database: str | None, cause: str
) -> None:
    """The server refuses for good: no waiting out --timeout. (A wrong password cannot be
    tried here: the test server trusts every local connection.)"""
    parts = urlsplit(postgresql_url)
    netloc = parts.netloc if user is None else f"{user}@{parts.hostname}:{parts.port}"
    path = parts.path if database is None else f"/{database}"
    url = urlunsplit(parts._replace(netloc=netloc, path=path))
    started = time.monotonic()
    line = fails(folder, "stats", "--url", url, "--timeout", "30", timeout=60)
    assert cause in line
    assert time.monotonic() - started < 20  # a Python start and one refused connection


def test_read_and_tail_on_postgresql(folder: Path, postgresql_url: str) -> None:
    ok(folder, "init", "--url", postgresql_url)
    aggregate_id = uuid4()
    with SyncPostgreSQLEventStore.from_url(postgresql_url, event_registry=OTHER) as store:
        event = InvoiceSent(aggregate_id=aggregate_id, amount=Decimal("1.10"))
        position = store.append_events(aggregate_id, "Invoice", [event], 0).global_position
    (line,) = ok(folder, "read", str(aggregate_id), "--json", "--url", postgresql_url).splitlines()
    read = json.loads(line)
    assert (read["stream_id"], read["payload"]) == (f"{aggregate_id}:Invoice", {"amount": "1.10"})
    tail = ok(folder, "tail", "--from", str(position - 1), "--url", postgresql_url).splitlines()
    fields = tail[1].split()
    assert fields[:3] == [str(position), f"{aggregate_id}:Invoice", "1"]
    assert fields[5] == "InvoiceSent"
