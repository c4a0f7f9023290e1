"""The raw psycopg 3 baseline: the same `events` table, no library on top.

What it does, exactly (the README repeats this):

* Connections: plain `psycopg.connect` (no pool), one per worker thread, autocommit unless
  stated. psycopg prepares a statement after 5 executions (its default); every worker
  warms up first, so all timed statements are prepared.
* Writes (W1-W3): one `INSERT INTO events (13 columns) VALUES (...)` per event, with the
  version number the baseline computes itself (it knows each stream is new: 1..n). The
  payload and metadata are dicts passed as `Jsonb` (psycopg runs `json.dumps`). W1 and W3
  commit each insert (autocommit); W2 sends each batch of 100 with `executemany` (psycopg
  pipelines it) in one transaction, then `commit()`.
* W6: the stream's highest version (`ORDER BY version DESC LIMIT 1`, as the store reads
  it), then an INSERT with that + 1, retried (re-read, re-insert) on `UniqueViolation`.
* Reads (W4, W5): one plain SELECT of the 15 columns the store reads, ordered by version
  (W4) or by `(transaction_id, id)` (W5), `fetchall()`, then each row becomes a frozen
  dataclass `RawEvent` holding a `RawItem` (psycopg has already decoded UUIDs, timestamps
  and JSONB with `json.loads`; the baseline converts the price string to a Decimal).
"""

from __future__ import annotations

import random
from typing import Any
from uuid import UUID, uuid4

import psycopg
from psycopg import errors
from psycopg.types.json import Jsonb

from .common import CLOCK, STREAM_TYPE, WARMUP_OPS, Plan, ReadFixture, Run, split, timed_threads
from .model import INSERT_COLUMNS, SELECT_COLUMNS, RawInput, make_events, raw_event, raw_input

INSERT = "INSERT INTO events ({}) VALUES ({})".format(
    ", ".join('"timestamp"' if name == "timestamp" else name for name in INSERT_COLUMNS),
    ", ".join("%s" for _ in INSERT_COLUMNS),
)
# The highest version off the index, as the store reads it: `max(version)` would be planned as
# a scan of the whole stream on the freshly truncated table, a handicap a ceiling must not have.
STREAM_VERSION = (
    "SELECT coalesce((SELECT version FROM events WHERE aggregate_id = %s AND aggregate_type = %s"
    " ORDER BY version DESC LIMIT 1), 0)"
)
READ_STREAM = (
    f"SELECT {SELECT_COLUMNS} FROM events WHERE aggregate_id = %s AND aggregate_type = %s"
    " ORDER BY version"
)
READ_LOG = f"SELECT {SELECT_COLUMNS} FROM events ORDER BY transaction_id, id"


def params(event: RawInput, version: int) -> tuple[Any, ...]:
    """The INSERT's parameters: the event's values with the version put in its place."""
    return (*event[:7], version, event[7], Jsonb(event[8]), Jsonb(event[9]), *event[10:])


def new_stream_inputs(streams: int, per_stream: int, rng: random.Random) -> list[list[RawInput]]:
    return [
        [raw_input(event) for event in make_events(uuid4(), per_stream, rng)]
        for _ in range(streams)
    ]


class RawBaseline:
    """Plain psycopg, hand-written SQL."""

    name = "raw psycopg"

    def __init__(self, seed: int = 1) -> None:
        self._rng = random.Random(seed)

    def _connect(self, url: str, autocommit: bool = True) -> psycopg.Connection[Any]:
        return psycopg.connect(url, autocommit=autocommit)

    def w1(self, url: str, plan: Plan) -> Run:
        streams = new_stream_inputs(WARMUP_OPS + plan.w1_appends, 1, self._rng)
        with self._connect(url) as conn:
            for (event,) in streams[:WARMUP_OPS]:
                conn.execute(INSERT, params(event, 1))
            return Run(*_timed_single_inserts(conn, streams[WARMUP_OPS:]))

    def w2(self, url: str, plan: Plan) -> Run:
        batches = new_stream_inputs(1 + plan.w2_batches, plan.w2_batch_size, self._rng)
        with self._connect(url, autocommit=False) as conn:

            def append(batch: list[RawInput]) -> None:
                with conn.cursor() as cursor:
                    cursor.executemany(
                        INSERT, [params(event, n) for n, event in enumerate(batch, 1)]
                    )
                conn.commit()

            append(batches[0])
            began = CLOCK.start()
            for batch in batches[1:]:
                append(batch)
            seconds = CLOCK.stop(began)
        return Run(plan.w2_batches * plan.w2_batch_size, seconds)

    def w3(self, url: str, plan: Plan) -> Run:
        writers = plan.w3_writers
        streams = new_stream_inputs((WARMUP_OPS + plan.w3_appends) * writers, 1, self._rng)
        shares = split(streams, writers)
        conns = [self._connect(url) for _ in range(writers)]
        try:

            def warm(i: int) -> None:
                for (event,) in shares[i][:WARMUP_OPS]:
                    conns[i].execute(INSERT, params(event, 1))

            def work(i: int) -> int:
                return _timed_single_inserts(conns[i], shares[i][WARMUP_OPS:])[0]

            return Run(*timed_threads(writers, warm, work))
        finally:
            for conn in conns:
                conn.close()

    def w4(self, url: str, plan: Plan, fixture: ReadFixture) -> Run:
        with self._connect(url) as conn:
            read = (fixture.stream_aggregate_id, STREAM_TYPE)
            consume_rows(conn.execute(READ_STREAM + " LIMIT 10", read).fetchall())
            began = CLOCK.start()
            total = 0
            for _ in range(plan.w4_reads):
                total += consume_rows(conn.execute(READ_STREAM, read).fetchall())
            seconds = CLOCK.stop(began)
        _expect(total, plan.w4_reads * fixture.stream_length, "W4")
        return Run(total, seconds)

    def w5(self, url: str, plan: Plan, fixture: ReadFixture) -> Run:
        with self._connect(url) as conn:
            consume_rows(conn.execute(READ_LOG + " LIMIT 10").fetchall())
            began = CLOCK.start()
            total = consume_rows(conn.execute(READ_LOG).fetchall())
            seconds = CLOCK.stop(began)
        _expect(total, fixture.log_length, "W5")
        return Run(total, seconds)

    def w6(self, url: str, plan: Plan) -> Run:
        writers = plan.w6_writers
        aggregate_id = uuid4()
        warm_id = uuid4()
        events = [
            raw_input(e) for e in make_events(aggregate_id, writers * plan.w6_appends, self._rng)
        ]
        warm_events = [raw_input(e) for e in make_events(warm_id, writers * 2, self._rng)]
        shares, warm_shares = split(events, writers), split(warm_events, writers)
        conflicts = [0] * writers
        conns = [self._connect(url) for _ in range(writers)]
        try:

            def write(i: int, stream: UUID, share: list[RawInput]) -> int:
                conn = conns[i]
                for event in share:
                    while True:
                        row = conn.execute(STREAM_VERSION, (stream, STREAM_TYPE)).fetchone()
                        assert row is not None
                        try:
                            conn.execute(INSERT, params(event, row[0] + 1))
                            break
                        except errors.UniqueViolation:
                            conflicts[i] += 1
                return len(share)

            count, seconds = timed_threads(
                writers,
                lambda i: write(i, warm_id, warm_shares[i]),
                lambda i: write(i, aggregate_id, shares[i]),
            )
        finally:
            for conn in conns:
                conn.close()
        return Run(count, seconds, {"conflicts": sum(conflicts), "stream": str(aggregate_id)})


def _timed_single_inserts(
    conn: psycopg.Connection[Any], streams: list[list[RawInput]]
) -> tuple[int, float]:
    began = CLOCK.start()
    for (event,) in streams:
        conn.execute(INSERT, params(event, 1))
    return len(streams), CLOCK.stop(began)


def consume_rows(rows: list[tuple[Any, ...]]) -> int:
    """Build the baseline's objects and touch a payload field, as a projection would."""
    quantity = 0
    count = 0
    for row in rows:
        quantity += raw_event(row).payload.quantity
        count += 1
    return count


def _expect(actual: int, expected: int, what: str) -> None:
    if actual != expected:
        raise RuntimeError(f"{what}: read {actual} events, expected {expected}")
