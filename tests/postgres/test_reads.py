"""Reads stream in pages: flat memory on long streams, no connection held by the caller's loop."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from uuid import uuid4

import psycopg
import pytest
from pg_events import Deposited, registry

from eventsource import ReadOptions, SyncPostgreSQLEventStore

LONG_STREAM = 100_000


def fill_stream(url: str, events: int) -> str:
    """Insert a long stream the fast way (server side); returns its aggregate id."""
    aggregate_id = str(uuid4())
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            """INSERT INTO events (event_id, event_type, aggregate_type, aggregate_id, version,
                                   "timestamp", payload)
               SELECT gen_random_uuid(), 'Deposited', 'Account', %s, n, now(),
                      jsonb_build_object('amount', n::text, 'note', repeat('x', 100))
               FROM generate_series(1, %s) AS n""",
            (aggregate_id, events),
        )
    return aggregate_id


# Runs in a fresh process: its peak RSS before and after the read is the honest measure
# (tracemalloc would slow the read several times over). The peak is VmHWM, this process's
# own high-water mark: getrusage's ru_maxrss also counts the parent's RSS at the fork, so a
# large test session would hide the growth.
READER = """
import sys
sys.path.insert(0, sys.argv[4])
from pg_events import registry
from eventsource import SyncPostgreSQLEventStore

def peak():
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024

with SyncPostgreSQLEventStore.from_url(sys.argv[1], event_registry=registry) as store:
    reader = store.read_stream(sys.argv[3]) if sys.argv[2] == "read_stream" else store.read_all()
    if sys.argv[2] == "list":  # the control: everything in memory at once (on first next())
        reader = (stored for everything in [store.read_all()] for stored in list(everything))
    store.get_global_position()  # connect before measuring
    before, count, last = peak(), 0, 0
    for stored in reader:
        assert stored.stream_position == last + 1
        last = stored.stream_position
        count += 1
    print(count, peak() - before)
"""


@pytest.mark.slow
@pytest.mark.parametrize("reader", ["read_stream", "read_all", "list"])
def test_memory_stays_flat_on_a_100000_event_stream(pg_url: str, reader: str) -> None:
    aggregate_id = fill_stream(pg_url, LONG_STREAM)
    here = str(Path(__file__).parent)
    stream_id = f"{aggregate_id}:Account"
    done = subprocess.run(
        [sys.executable, "-c", READER, pg_url, reader, stream_id, here],
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    count, growth = map(int, done.stdout.split())
    assert count == LONG_STREAM
    if reader == "list":  # the meter does see a reader that holds the whole stream
        assert growth > 25 * 2**20, f"peak RSS grew by {growth / 2**20:.1f} MiB only"
    else:  # pages of 500 events keep the growth to a few MiB
        assert growth < 20 * 2**20, f"peak RSS grew by {growth / 2**20:.1f} MiB"


def test_the_caller_loop_holds_no_connection(pg_url: str) -> None:
    aggregate_id = uuid4()
    events = [Deposited(aggregate_id=aggregate_id, amount=Decimal(i)) for i in range(1200)]
    with SyncPostgreSQLEventStore.from_url(
        pg_url, event_registry=registry, min_size=1, max_size=1, timeout=2
    ) as store:
        store.append_events(aggregate_id, "Account", events, 0)
        seen = 0
        for stored in store.read_stream(f"{aggregate_id}:Account", ReadOptions()):
            # With a pool of one, this would time out if the reader held the connection.
            assert store.get_stream_version(aggregate_id, "Account") == 1200
            seen += 1
            if seen % 400:
                continue
            for _ in store.read_all(ReadOptions(limit=1)):
                assert store.event_exists(stored.event_id)
        assert seen == 1200
