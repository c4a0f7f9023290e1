"""Every program in examples/ runs here, against the test PostgreSQL server."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import pytest

from eventsource import PostgreSQLEventStore, SyncPostgreSQLEventStore

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
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
