"""Where the store's time goes: `python -m benchmarks.profiling [--workloads W1,W4] [--scale 0.2]`.

For each chosen workload it runs the sync and the async store (and the raw baseline, for the
server-side comparison) once, on a throwaway server with `pg_stat_statements`, and prints:

1. the client: cProfile of the measured section only (every worker thread of the sync
   store), as self time per layer (eventsource, psycopg, psycopg_pool, attrs/cattrs, json,
   asyncio, OpenTelemetry, waiting on the socket) and the top functions, in microseconds
   per event;
2. the server: `pg_stat_statements` per statement (calls per event, mean execution and
   planning time, rows);
3. with `--explain`, the plans the server used for each store statement, captured with
   `auto_explain` (ANALYZE, BUFFERS) as notices on the store's own connections;
4. with `--stages`, microbenchmarks of the per-event stages of an append and a read
   (these use eventsource's and psycopg's internals and skip themselves if those change).

cProfile slows Python code several times, so read the layer shares, not the absolute rates.
For a sampling view of the threaded workloads use py-spy, e.g.
`py-spy record -f raw -o w3.txt -- python -m benchmarks --workloads W3 --repeat 1 --no-tail`
and summarize the collapsed stacks with `python -m benchmarks.profiling --collapsed w3.txt`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import os
import pstats
import random
import re
import statistics
import sys
import time
import timeit
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import orjson
import psycopg
import psycopg_pool
from psycopg.types.json import set_json_loads

from eventsource import ReadOptions, SyncPostgreSQLEventStore

from .baseline import INSERT, READ_STREAM, RawBaseline, consume_rows, params
from .common import CLOCK, STREAM_TYPE, Contender, Plan, ReadFixture, Run
from .model import REGISTRY, make_events, raw_input
from .run import READS, WRITES, check_gapless, reset, rotations, seed_reads
from .server import throwaway_server
from .stores import AsyncStore, SyncStore, async_store, consume, consume_async, sync_store

LAYERS: tuple[tuple[str, str], ...] = (
    ("/eventsource/", "eventsource"),
    ("/psycopg_pool/", "psycopg_pool"),
    ("/psycopg/", "psycopg (Python)"),
    ("/cattrs/", "attrs/cattrs"),
    ("/attr/", "attrs/cattrs"),
    ("/attrs/", "attrs/cattrs"),
    ("<attrs generated", "attrs/cattrs"),
    ("<cattrs", "attrs/cattrs"),
    ("/json/", "json"),
    ("/asyncio/", "asyncio"),
    ("selectors.py", "asyncio"),
    ("/opentelemetry/", "opentelemetry (no-op spans)"),
    ("/contextlib.py", "contextlib"),
    ("/threading.py", "threading/queue"),
    ("/queue.py", "threading/queue"),
    ("/benchmarks/", "benchmark harness"),
    ("/uuid.py", "uuid"),
)
WAITS = ("wait_c", "'poll' of", "'select' of", "epoll", "'acquire' of", "wait_conn")


def layer(filename: str, function: str) -> str:
    if filename == "~":  # a C function: name the psycopg/socket waits, lump the rest
        if any(word in function for word in WAITS):
            return "waiting (socket/locks)"
        if "psycopg" in function or "pq" in function or "send_query" in function:
            return "psycopg (C)"
        return "other C builtins"
    for needle, name in LAYERS:
        if needle in filename:
            return name
    return "other Python"


def report_profile(stats: pstats.Stats, events: int, top: int) -> None:
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    per_layer: Counter[str] = Counter()
    total = 0.0
    for (filename, _, function), (_, _, tottime, _, _) in raw.items():
        per_layer[layer(filename, function)] += tottime
        total += tottime
    print(f"\nself time per layer ({total:.3f}s profiled, {events} events):\n")
    print("| layer | share | us/event |")
    print("|---|---:|---:|")
    for name, seconds in per_layer.most_common():
        print(f"| {name} | {seconds / total:.0%} | {seconds / events * 1e6:.1f} |")
    print(f"\ntop {top} functions by self time:\n")
    print("| function | calls/event | self us/event | cumulative us/event |")
    print("|---|---:|---:|---:|")
    rows = sorted(raw.items(), key=lambda item: item[1][2], reverse=True)[:top]
    for (filename, line, function), (_, calls, tottime, cumtime, _) in rows:
        where = "~" if filename == "~" else f"{_short(filename)}:{line}"
        print(
            f"| `{function}` {where} | {calls / events:.2f} | {tottime / events * 1e6:.1f} | "
            f"{cumtime / events * 1e6:.1f} |"
        )


def _short(filename: str) -> str:
    for root in ("/eventsource/", "/psycopg_pool/", "/psycopg/", "/benchmarks/", "/cattrs/"):
        if root in filename:
            return root.strip("/") + "/" + filename.split(root, 1)[1]
    return Path(filename).name


# -- server side ---------------------------------------------------------------------------


STATEMENTS = """
SELECT calls, plans, total_exec_time, total_plan_time, rows, shared_blks_hit + shared_blks_read,
       regexp_replace(left(query, 110), '\\s+', ' ', 'g')
FROM pg_stat_statements
WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND query NOT ILIKE '%%pg_stat_statements%%' AND calls > 0
ORDER BY total_exec_time DESC LIMIT 6
"""


def statements_reset(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def report_statements(url: str, events: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        rows = conn.execute(STATEMENTS).fetchall()
    print("\nserver (pg_stat_statements):\n")
    print(
        "| calls/event | mean exec ms | mean plan ms (plans) | rows/call | buffers/call | query |"
    )
    print("|---:|---:|---:|---:|---:|---|")
    for calls, plans, exec_ms, plan_ms, rows_, buffers, query in rows:
        plan = f"{plan_ms / plans:.3f} ({plans})" if plans else "- (0: generic plan)"
        print(
            f"| {calls / events:.2f} | {exec_ms / calls:.3f} | {plan} | {rows_ / calls:.1f} | "
            f"{buffers / calls:.1f} | `{query}` |"
        )


# -- plans ---------------------------------------------------------------------------------


def explain(url: str, fixture: ReadFixture) -> None:
    """Run each kind of store statement once with auto_explain sending its plan as a notice."""
    settings = {
        "session_preload_libraries": "auto_explain",
        "auto_explain.log_min_duration": "0",
        "auto_explain.log_analyze": "on",
        "auto_explain.log_buffers": "on",
        "auto_explain.log_timing": "on",
        "auto_explain.log_level": "notice",
        "client_min_messages": "notice",
    }
    notices: list[str] = []
    with psycopg.connect(url, autocommit=True) as conn:
        database = conn.info.dbname
        for name, value in settings.items():
            conn.execute(f"ALTER DATABASE \"{database}\" SET {name} = '{value}'")
    try:

        def configure(conn: psycopg.Connection[Any]) -> None:
            conn.add_notice_handler(lambda diag: notices.append(diag.message_primary or ""))

        rng = random.Random(9)
        with psycopg_pool.ConnectionPool(
            url, min_size=1, max_size=1, kwargs={"autocommit": True}, configure=configure
        ) as pool:
            store = SyncPostgreSQLEventStore(pool, event_registry=REGISTRY)
            stream = uuid4()
            _append_new(store, 1, rng, stream)
            steps: list[tuple[str, Callable[[], object]]] = [
                (
                    "append 1 event to a new stream (NO_STREAM)",
                    lambda: _append_new(store, 1, rng),
                ),
                (
                    "append 1 event at the stream's exact version",
                    lambda: _append_at_version(store, stream, rng),
                ),
                (
                    "append 100 events to a new stream",
                    lambda: _append_new(store, 100, rng),
                ),
                (
                    "get_stream_version",
                    lambda: store.get_stream_version(fixture.stream_aggregate_id, STREAM_TYPE),
                ),
                (
                    "read_stream, a later page",
                    lambda: consume(
                        store.read_stream(
                            fixture.stream_id,
                            ReadOptions(from_position=fixture.stream_length // 2, limit=500),
                        )
                    ),
                ),
                (
                    "read_all, first page",
                    lambda: consume(store.read_all(ReadOptions(limit=500))),
                ),
                (
                    "read_all, a later page",
                    lambda: consume(
                        store.read_all(
                            ReadOptions(from_position=fixture.log_length // 2, limit=500)
                        )
                    ),
                ),
            ]
            for title, step in steps:
                for _ in range(6):  # past psycopg's and the server's custom-plan warm-up
                    notices.clear()
                    step()
                print(f"\n#### {title}\n\n```")
                for notice in notices:
                    print(notice.strip())
                print("```")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            for name in settings:
                conn.execute(f'ALTER DATABASE "{database}" RESET {name}')


def _append_new(
    store: SyncPostgreSQLEventStore, count: int, rng: random.Random, stream: UUID | None = None
) -> None:
    stream = stream or uuid4()
    store.append_events(stream, STREAM_TYPE, make_events(stream, count, rng), 0)


def _append_at_version(store: SyncPostgreSQLEventStore, stream: UUID, rng: random.Random) -> None:
    version = store.get_stream_version(stream, STREAM_TYPE)
    store.append_events(stream, STREAM_TYPE, make_events(stream, 1, rng), version)


# -- per-event stages ----------------------------------------------------------------------


def stages(url: str, fixture: ReadFixture) -> None:
    """Microbenchmarks of what one append and one read row cost, stage by stage."""
    print("\n### Per-event stages (microbenchmarks, us)\n")
    print("| stage | store | raw baseline |")
    print("|---|---:|---:|")
    rng = random.Random(11)

    def us(fn: Callable[[], object], number: int = 2000, per: int = 1) -> float:
        fn()
        return min(timeit.repeat(fn, number=number, repeat=7)) / number / per * 1e6

    one = make_events(uuid4(), 1, rng)
    hundred = make_events(uuid4(), 100, rng)
    raw_one = raw_input(one[0])
    try:
        from psycopg._queries import PostgresQuery
        from psycopg.adapt import Transformer

        from eventsource._core.rules import prepare_append
        from eventsource.postgres.queries import PostgresQueries

        queries = PostgresQueries()
        agg1, agg100 = one[0].aggregate_id, hundred[0].aggregate_id
        q1 = queries.append(prepare_append(agg1, STREAM_TYPE, one, 0, REGISTRY))
        q100 = queries.append(prepare_append(agg100, STREAM_TYPE, hundred, 0, REGISTRY))
        with psycopg.connect(url, autocommit=True) as conn:

            def convert(statement: Any, values: Any) -> None:
                PostgresQuery(Transformer(conn)).convert(statement, values)

            raw_params = params(raw_one, 1)
            print(
                f"| validate + encode (prepare_append), 1-event batch | "
                f"{us(lambda: prepare_append(agg1, STREAM_TYPE, one, 0, REGISTRY)):.1f} | - |"
            )
            per100 = us(lambda: prepare_append(agg100, STREAM_TYPE, hundred, 0, REGISTRY), 100, 100)
            print(f"| validate + encode, per event of a 100-event batch | {per100:.1f} | - |")
            r1 = prepare_append(agg1, STREAM_TYPE, one, 0, REGISTRY)
            r100 = prepare_append(agg100, STREAM_TYPE, hundred, 0, REGISTRY)
            print(
                f"| build the append's parameters (PostgresQueries.append), 1 event | "
                f"{us(lambda: queries.append(r1)):.1f} | - |"
            )
            print(
                f"| build the append's parameters, per event of 100 | "
                f"{us(lambda: queries.append(r100), 200, 100):.1f} | - |"
            )
            print(
                f"| psycopg: adapt the parameters, 1-event append | "
                f"{us(lambda: convert(q1.sql, q1.params)):.1f} | "
                f"{us(lambda: convert(INSERT, params(raw_one, 1))):.1f} |"
            )
            print(
                f"| psycopg: adapt the parameters, per event of 100 | "
                f"{us(lambda: convert(q100.sql, q100.params), 50, 100):.1f} | "
                f"{us(lambda: convert(INSERT, raw_params), 2000):.1f} |"
            )
            conn.execute(q1.sql, q1.params, prepare=True)
            print(
                f"| one round trip: prepared SELECT 1 | "
                f"{us(lambda: conn.execute('SELECT 1', prepare=True).fetchall(), 500):.1f} | |"
            )
            print(
                f"| the same round trip on psycopg's AsyncConnection (asyncio's share) | | "
                f"{asyncio.run(_async_round_trip(url)):.1f} |"
            )
    except Exception as exc:  # internals moved: the rest still runs
        print(f"| append stages skipped: {type(exc).__name__}: {exc} | | |")
    read = (fixture.stream_aggregate_id, STREAM_TYPE)
    page = READ_STREAM + " LIMIT 500"
    options = ReadOptions(limit=500)
    with (
        sync_store(url, 1) as store,
        psycopg.connect(url, autocommit=True) as conn,
        psycopg.connect(url, autocommit=True) as fast,
    ):
        set_json_loads(orjson.loads, fast)
        stored = us(lambda: consume(store.read_stream(fixture.stream_id, options)), 20, 500)
        raw = us(lambda: consume_rows(conn.execute(page, read, prepare=True).fetchall()), 20, 500)
        raw_orjson = us(
            lambda: consume_rows(fast.execute(page, read, prepare=True).fetchall()), 20, 500
        )
        fetch = us(lambda: conn.execute(page, read, prepare=True).fetchall(), 20, 500)
    print(
        f"| read a 500-event page into event objects, per event | {stored:.1f} | {raw:.1f} "
        f"(json.loads); {raw_orjson:.1f} (orjson as psycopg's JSON loader) |"
    )
    print(
        "| of which the raw fetch (server, wire, psycopg row loading with json.loads) | | "
        f"{fetch:.1f} |"
    )

    async def async_pages() -> float:
        async with async_store(url, 1) as astore:
            await consume_async(astore.read_stream(fixture.stream_id, options))
            best = float("inf")
            for _ in range(7):  # the best of 7, like `us`
                began = time.perf_counter()
                for _ in range(20):
                    await consume_async(astore.read_stream(fixture.stream_id, options))
                best = min(best, time.perf_counter() - began)
            return best / 20 / 500 * 1e6

    print(
        f"| the same page through the async store, per event | {asyncio.run(async_pages()):.1f} | |"
    )
    with contextlib.suppress(Exception):
        from eventsource._core.tracing import Tracer

        tracer = Tracer(enabled=True, db_system="postgresql")
        aggregate = uuid4()

        def span() -> None:
            with tracer.span("append_events", aggregate, STREAM_TYPE, 1):
                pass

        print(f"| one no-op OpenTelemetry span (per call, per read page) | {us(span):.1f} | - |")
    with psycopg_pool.ConnectionPool(
        url, min_size=1, max_size=1, kwargs={"autocommit": True}
    ) as pool:

        def checkout() -> None:
            pool.putconn(pool.getconn())

        print(f"| pool checkout + return (per call, per read page) | {us(checkout):.1f} | - |")


async def _async_round_trip(url: str) -> float:
    """The best of 7 (like `us`) of 500 prepared `SELECT 1`, in microseconds each."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        times = []
        for _ in range(8):
            began = time.perf_counter()
            for _ in range(500):
                await (await conn.execute("SELECT 1", prepare=True)).fetchall()
            times.append(time.perf_counter() - began)
        return min(times[1:]) / 500 * 1e6  # the first warmed up


# -- CPU per event ---------------------------------------------------------------------------


def _stat(pid: int) -> list[str]:
    """The fields of /proc/<pid>/stat after the command name (state, ppid, ...)."""
    with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as stat:
        return stat.read().rpartition(")")[2].split()


def _children(postmaster: int) -> dict[int, list[str]]:
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            with contextlib.suppress(OSError, IndexError, ValueError):
                child = _stat(int(name))
                if int(child[1]) == postmaster:
                    children[int(name)] = child
    return children


_CLIENT_BACKEND = re.compile(rb"\(\d+\)|\[local\]")  # "postgres: user db 127.0.0.1(5432) idle"


def _client_backends(postmaster: int) -> int:
    count = 0
    for pid in _children(postmaster):
        with contextlib.suppress(OSError), open(f"/proc/{pid}/cmdline", "rb") as cmdline:
            count += bool(_CLIENT_BACKEND.search(cmdline.read()))
    return count


def server_cpu_seconds(postmaster: int, clients: int = 0) -> float:
    """CPU seconds used so far by a local PostgreSQL server: the postmaster, its children
    and the children it has reaped. It first waits (up to 5 s) until at most `clients`
    client backends are left, as an ended backend's time reaches its parent's only once
    the backend is reaped."""
    deadline = time.monotonic() + 5
    while _client_backends(postmaster) > clients and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.05)  # the last one's exit, then its reaping
    ticks = sum(int(value) for value in _stat(postmaster)[11:15])  # utime, stime, cutime, cstime
    ticks += sum(int(child[11]) + int(child[12]) for child in _children(postmaster).values())
    return ticks / os.sysconf("SC_CLK_TCK")


def cpu_per_event(
    url: str, plan: Plan, contenders: list[Contender], workloads: list[str], rounds: int
) -> None:
    """Interleaved runs without a profiler: events/s, and the client's (this process) and
    the server's CPU per event, medians; for a server on this machine."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT pg_backend_pid()").fetchone()
    assert row is not None
    try:
        postmaster = int(_stat(int(row[0]))[1])
    except OSError:
        message = "--cpu reads the server's processes: it needs the server on this machine"
        raise SystemExit(message) from None
    for workload in [w for w in workloads if w in WRITES]:
        seen: dict[str, list[tuple[float, float, float, int]]] = {}
        for _, contender in rotations(contenders, rounds):
            reset(url)
            server = server_cpu_seconds(postmaster)
            client = time.process_time()
            run = getattr(contender, workload.lower())(url, plan)
            client = (time.process_time() - client) / run.events * 1e6
            server = (server_cpu_seconds(postmaster) - server) / run.events * 1e6
            conflicts = int(run.extra.get("conflicts", 0))
            seen.setdefault(contender.name, []).append((run.rate, client, server, conflicts))
        print(f"\n### {workload}: CPU per event, medians of {rounds} interleaved runs\n")
        print("| contender | events/s | client CPU us/event | server CPU us/event | conflicts |")
        print("|---|---:|---:|---:|---:|")
        for name, runs in seen.items():
            rate, client, server, conflicts = (
                statistics.median(column) for column in zip(*runs, strict=True)
            )
            print(f"| {name} | {rate:,.0f} | {client:,.0f} | {server:,.0f} | {conflicts:,.0f} |")
        sys.stdout.flush()


# -- py-spy ----------------------------------------------------------------------------------


def collapsed(path: Path, top: int) -> None:
    """Summarize py-spy's raw (collapsed) output: self and inclusive samples per function."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = stack.split(";")
        total += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    print(f"{total} samples\n\n| function | self | inclusive |\n|---|---:|---:|")
    for frame, count in own.most_common(top):
        print(f"| `{frame}` | {count / total:.1%} | {inclusive[frame] / total:.1%} |")


# -- the command ---------------------------------------------------------------------------


def profiled(run: Callable[[], Run]) -> tuple[Run, pstats.Stats | None]:
    CLOCK.profiling, CLOCK.profiles = True, []
    try:
        result = run()
    finally:
        CLOCK.profiling = False
    profiles, CLOCK.profiles = CLOCK.profiles, []
    if not profiles:
        return result, None
    stats = pstats.Stats(profiles[0])
    for extra in profiles[1:]:
        stats.add(extra)
    return result, stats


@contextlib.contextmanager
def server(args: argparse.Namespace) -> Iterator[str]:
    if args.url:
        yield args.url
        return
    settings = {
        "shared_preload_libraries": "pg_stat_statements",
        "pg_stat_statements.track_planning": "on",
    }
    with throwaway_server(fast=args.fast_server, settings=settings) as started:
        yield started.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.profiling", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--url", help="a database with pg_stat_statements loaded (tables TRUNCATED)"
    )
    parser.add_argument("--fast-server", action="store_true")
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5,W6")
    parser.add_argument("--contenders", default="sync,async", help="any of raw,sync,async")
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--explain", action="store_true", help="print the plans of the store's statements"
    )
    parser.add_argument("--stages", action="store_true", help="microbenchmark the per-event stages")
    parser.add_argument(
        "--cpu",
        type=int,
        metavar="ROUNDS",
        help="instead of profiling: client and server CPU per event, over ROUNDS interleaved "
        "runs of the write workloads (a server on this machine)",
    )
    parser.add_argument("--collapsed", type=Path, help="only summarize this py-spy raw output")
    args = parser.parse_args(argv)
    if args.collapsed:
        collapsed(args.collapsed, args.top)
        return 0
    plan = Plan().scaled(args.scale)
    only = [w.strip().upper() for w in args.workloads.split(",") if w.strip()]
    every: dict[str, Contender] = {"raw": RawBaseline(), "sync": SyncStore(), "async": AsyncStore()}
    chosen = [every[name.strip()] for name in args.contenders.split(",") if name.strip()]
    with server(args) as url:
        with SyncPostgreSQLEventStore.from_url(url, event_registry=REGISTRY) as store:
            store.initialize()
        if args.cpu:
            cpu_per_event(url, plan, chosen, only, args.cpu)
            return 0
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        fixture: ReadFixture | None = None
        for workload in [w for w in WRITES if w in only] + [w for w in READS if w in only]:
            if workload in READS and fixture is None:
                fixture = seed_reads(url, plan)
            for contender in chosen:
                if workload in WRITES:
                    reset(url)
                statements_reset(url)
                method = getattr(contender, workload.lower())
                inputs = (url, plan) if workload in WRITES else (url, plan, fixture)
                run, stats = profiled(functools.partial(method, *inputs))
                if workload == "W6":
                    check_gapless(url, run.extra["stream"], plan.w6_writers * plan.w6_appends)
                print(
                    f"\n### {workload}, {contender.name}: {run.events} events in"
                    f" {run.seconds:.3f}s under cProfile ({run.rate:,.0f}/s){_extra(run)}"
                )
                if stats is not None:
                    report_profile(stats, run.events, args.top)
                report_statements(url, run.events)
                sys.stdout.flush()
        if args.explain or args.stages:
            if fixture is None:
                fixture = seed_reads(url, plan)
            if args.stages:
                stages(url, fixture)
            if args.explain:
                print("\n### Plans of the store's statements (auto_explain, ANALYZE)")
                explain(url, fixture)
    return 0


def _extra(run: Run) -> str:
    conflicts = run.extra.get("conflicts")
    return "" if conflicts is None else f", {conflicts} conflicts"


if __name__ == "__main__":
    raise SystemExit(main())
