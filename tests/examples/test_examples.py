"""Every program in examples/ runs here, against the test PostgreSQL server."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import uuid4

import pytest

from eventsource import PostgreSQLEventStore, SyncPostgreSQLEventStore

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
sys.path.insert(0, str(EXAMPLES))

import asyncio_app  # noqa: E402
import cron_projection  # noqa: E402
import flask_app  # noqa: E402
from bank import Deposited  # noqa: E402


def run_script(name: str, *args: str, url: str) -> str:
    env = {**os.environ, "EVENTSOURCE_URL": url}
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_flask_app(pg_url: str) -> None:
    account = uuid4()
    with SyncPostgreSQLEventStore.from_url(pg_url) as store:
        client = flask_app.create_app(store).test_client()
        assert client.post(f"/accounts/{account}", json={"owner": "ada"}).status_code == 201
        assert client.post(f"/accounts/{account}", json={"owner": "bob"}).status_code == 409
        ok = client.post(
            f"/accounts/{account}/deposits", json={"amount": "10.50", "expected_version": 1}
        )
        assert ok.status_code == 201
        assert ok.json == {"version": 2}
        stale = client.post(
            f"/accounts/{account}/deposits", json={"amount": "1.00", "expected_version": 1}
        )
        assert stale.status_code == 409
        assert stale.json == {"error": "stale version", "version": 2}
        assert client.post(f"/accounts/{account}/deposits", json={}).status_code == 400
        assert client.get(f"/accounts/{account}").json == {"balance": "10.50", "version": 2}
        assert client.get(f"/accounts/{uuid4()}").status_code == 404


def test_flask_app_without_a_url_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EVENTSOURCE_URL", raising=False)
    with pytest.raises(RuntimeError, match="set EVENTSOURCE_URL"):
        flask_app.create_app()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _http(method: str, url: str, body: dict[str, str | int] | None = None) -> tuple[int, Any]:
    """(status, JSON body) of one real HTTP request."""
    data = None if body is None else json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    call = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(call, timeout=10) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:
            return error.code, json.load(error)


@pytest.fixture
def flask_server(pg_url: str, tmp_path: Path) -> Iterator[str]:
    """The README's command, `flask --app examples/flask_app.py run`, serving; its base URL.

    Stopped with Ctrl-C (SIGINT), as a user stops it: it must exit at once and cleanly,
    its store closed by the app.
    """
    port = _free_port()
    log = tmp_path / "flask.log"
    flask = Path(sys.executable).parent / "flask"
    command = [str(flask), "--app", "examples/flask_app.py", "run", "--port", str(port)]
    with log.open("w") as output:
        server = subprocess.Popen(
            command,
            cwd=ROOT,
            env={**os.environ, "EVENTSOURCE_URL": pg_url},
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert server.poll() is None, f"flask exited:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"flask never answered:\n{log.read_text()}"
            try:
                _http("GET", f"{base}/accounts/{uuid4()}")
                break
            except OSError:  # not listening yet
                time.sleep(0.1)
        yield base
    finally:
        server.send_signal(signal.SIGINT)
        try:
            returncode = server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
            raise
    assert returncode == 0, log.read_text()


def test_flask_app_by_its_documented_command(flask_server: str) -> None:
    account = f"{flask_server}/accounts/{uuid4()}"
    assert _http("POST", account, {"owner": "ada"}) == (201, {"version": 1})
    deposit = {"amount": "10.50", "expected_version": 1}
    assert _http("POST", f"{account}/deposits", deposit) == (201, {"version": 2})
    stale = _http("POST", f"{account}/deposits", deposit)
    assert stale == (409, {"error": "stale version", "version": 2})
    assert _http("GET", account) == (200, {"balance": "10.50", "version": 2})


def test_cron_projection_resumes_from_its_checkpoint(pg_url: str, tmp_path: Path) -> None:
    state = tmp_path / "state.json"
    account = uuid4()

    def deposit(amount: str) -> None:
        event = Deposited(aggregate_id=account, amount=Decimal(amount))
        store.append_events(account, "Account", [event], -1)

    with SyncPostgreSQLEventStore.from_url(pg_url) as store:
        deposit("1.25")
        deposit("2.25")
        assert cron_projection.run_once(store, state) == 2
        assert cron_projection.run_once(store, state) == 0
        deposit("0.50")
    assert run_script("cron_projection.py", str(state), url=pg_url) == "applied 1 events\n"
    assert '"4.00"' in state.read_text()


def test_asyncio_app(pg_url: str) -> None:
    async def main() -> Decimal:
        async with PostgreSQLEventStore.from_url(pg_url) as store:
            return await asyncio_app.run(store)

    assert asyncio.run(main()) == Decimal("200.00")
    assert "balance 200.00" in run_script("asyncio_app.py", url=pg_url)


@pytest.mark.parametrize("name", ["flask_app.py", "cron_projection.py", "asyncio_app.py"])
def test_examples_have_a_usage_docstring(name: str) -> None:
    assert "EVENTSOURCE_URL=" in (EXAMPLES / name).read_text()
