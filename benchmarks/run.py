"""Run the benchmarks: `python -m benchmarks` (or `python benchmarks/run.py`) from the repo root.

Starts a throwaway PostgreSQL server (or uses `--url`), creates the schema with
`store.initialize()`, and measures the raw psycopg baseline, the sync store and the async
store on W1-W6, interleaved, each run `--repeat` times (median reported); then W4's peak
memory and the never-skip tail. Prints a Markdown report; `--json PATH` writes every number.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

if __package__ in (None, ""):  # `python benchmarks/run.py`: import it as the package
    sys.path[0] = str(Path(__file__).resolve().parent.parent)
    __package__ = "benchmarks"

import psycopg
import psycopg_pool

import eventsource
from eventsource import SyncPostgreSQLEventStore

from .baseline import RawBaseline
from .common import STREAM_TYPE, Contender, Plan, ReadFixture, Run
from .memory import measure_in_subprocess
from .model import REGISTRY, make_events
from .server import throwaway_server
from .stores import AsyncStore, SyncStore, sync_store
from .tail import TailResult, tail_async, tail_sync

RAW, SYNC, ASYNC = "raw psycopg", "sync store", "async store"

WORKLOADS: dict[str, str] = {
    "W1": "5,000 single-event appends to new streams, 1 connection",
    "W2": "100 appends of 100 events (new streams), 1 connection",
    "W3": "8 writers x 500 single-event appends to new streams, 8 connections",
    "W4": "read a 10,000-event stream 20 times (read_stream)",
    "W5": "read a 50,000-event log (read_all)",
    "W6": "8 writers on one stream, exact versions, retry on conflict",
}
WRITES = ("W1", "W2", "W3", "W6")
READS = ("W4", "W5")

TARGETS: dict[str, float] = {"W1": 0.90, "W2": 1.0, "W3": 0.85, "W4": 0.75, "W5": 0.75, "W6": 0.80}
ASYNC_TARGET = 0.80
MEMORY_TARGET_MIB = 20.0
SEED_BATCH = 500


@dataclass(frozen=True)
class Cell:
    """One contender on one workload: every run and their median rate."""

    runs: list[Run]

    @property
    def rates(self) -> list[float]:
        return [run.rate for run in self.runs]

    @property
    def median(self) -> float:
        return statistics.median(self.rates)

    def as_dict(self) -> dict[str, Any]:
        return {
            "median_events_per_s": round(self.median, 1),
            "runs": [
                {
                    "events": r.events,
                    "seconds": round(r.seconds, 4),
                    "events_per_s": round(r.rate, 1),
                }
                | r.extra
                for r in self.runs
            ],
        }


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- the database between runs -------------------------------------------------------------


def reset(url: str) -> None:
    """Empty the tables and checkpoint, so every write run starts from the same state."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE events, event_outbox RESTART IDENTITY")
        # Without superuser rights (--url), runs start with whatever is in the WAL.
        with suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")


def check_gapless(url: str, stream: str, expected: int) -> None:
    """W6's stream must hold versions 1..expected, each once."""
    aggregate_id = stream
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*), count(DISTINCT version), min(version), max(version) FROM events"
            " WHERE aggregate_id = %s AND aggregate_type = %s",
            (aggregate_id, STREAM_TYPE),
        ).fetchone()
    if row != (expected, expected, 1, expected):
        raise RuntimeError(f"W6 stream {stream} is not gapless 1..{expected}: {row}")


def seed_reads(url: str, plan: Plan) -> ReadFixture:
    """One `w4_stream`-event stream, then other streams up to `w5_events` in the log."""
    reset(url)
    rng = random.Random(42)
    stream = uuid4()
    began = time.perf_counter()
    with sync_store(url, 1) as store:
        events = make_events(stream, plan.w4_stream, rng)
        for start in range(0, len(events), SEED_BATCH):
            store.append_events(stream, STREAM_TYPE, events[start : start + SEED_BATCH], start)
        remaining = plan.w5_events - plan.w4_stream
        while remaining > 0:
            other = uuid4()
            size = min(SEED_BATCH, remaining)
            store.append_events(other, STREAM_TYPE, make_events(other, size, rng), 0)
            remaining -= size
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE events")
        with suppress(psycopg.errors.InsufficientPrivilege):
            conn.execute("CHECKPOINT")
    log(f"  seeded {plan.w5_events} events in {time.perf_counter() - began:.1f}s")
    return ReadFixture(stream, plan.w4_stream, plan.w5_events)


# -- the measurements ----------------------------------------------------------------------


def rotations(contenders: list[Contender], repeat: int) -> Iterator[tuple[int, Contender]]:
    """Each round runs every contender once, starting with a different one each round."""
    for round_ in range(repeat):
        shift = round_ % len(contenders)
        for contender in contenders[shift:] + contenders[:shift]:
            yield round_, contender


def measure_workload(
    workload: str,
    contenders: list[Contender],
    repeat: int,
    run_one: Callable[[Contender], Run],
) -> dict[str, Cell]:
    runs: dict[str, list[Run]] = {c.name: [] for c in contenders}
    for round_, contender in rotations(contenders, repeat):
        run = run_one(contender)
        runs[contender.name].append(run)
        extra = f" conflicts={run.extra['conflicts']}" if "conflicts" in run.extra else ""
        log(
            f"  {workload} round {round_ + 1} {contender.name:<12} {run.events:>7} events"
            f" in {run.seconds:7.3f}s = {run.rate:>9.0f}/s{extra}"
        )
    return {name: Cell(r) for name, r in runs.items()}


def run_writes(
    url: str, plan: Plan, contenders: list[Contender], repeat: int, only: set[str]
) -> dict[str, dict[str, Cell]]:
    results: dict[str, dict[str, Cell]] = {}
    for workload in WRITES:
        if workload not in only:
            continue
        log(f"{workload}: {WORKLOADS[workload]}")

        def run_one(contender: Contender, workload: str = workload) -> Run:
            reset(url)
            run: Run = getattr(contender, workload.lower())(url, plan)
            if workload == "W6":
                check_gapless(url, run.extra["stream"], plan.w6_writers * plan.w6_appends)
                run.extra.pop("stream")
                run.extra["gapless"] = True
            return run

        results[workload] = measure_workload(workload, contenders, repeat, run_one)
    return results


def run_reads(
    url: str,
    plan: Plan,
    contenders: list[Contender],
    repeat: int,
    only: set[str],
    fixture: ReadFixture,
) -> dict[str, dict[str, Cell]]:
    results: dict[str, dict[str, Cell]] = {}
    for workload in READS:
        if workload not in only:
            continue
        log(f"{workload}: {WORKLOADS[workload]}")

        def run_one(contender: Contender, workload: str = workload) -> Run:
            run: Run = getattr(contender, workload.lower())(url, plan, fixture)
            return run

        results[workload] = measure_workload(workload, contenders, repeat, run_one)
    return results


# -- the report ----------------------------------------------------------------------------


def summarize(results: dict[str, dict[str, Cell]]) -> dict[str, dict[str, Any]]:
    """Per workload: medians, ratios to the baseline, async/sync, and the targets."""
    summary: dict[str, dict[str, Any]] = {}
    for workload, cells in results.items():
        row: dict[str, Any] = {name: round(cell.median, 1) for name, cell in cells.items()}
        raw = cells.get(RAW)
        target = TARGETS[workload]
        for name in (SYNC, ASYNC):
            if name in cells and raw is not None and raw.median > 0:
                ratio = cells[name].median / raw.median
                row[f"{name} / raw"] = round(ratio, 3)
                row[f"{name} meets {target}"] = ratio >= target
        if SYNC in cells and ASYNC in cells and cells[SYNC].median > 0:
            ratio = cells[ASYNC].median / cells[SYNC].median
            row["async / sync"] = round(ratio, 3)
            row[f"async meets {ASYNC_TARGET}"] = ratio >= ASYNC_TARGET
        summary[workload] = row
    return summary


def _mark(ok: bool | None) -> str:
    return "" if ok is None else ("yes" if ok else "**NO**")


def markdown(
    summary: dict[str, dict[str, Any]],
    results: dict[str, dict[str, Cell]],
    memory: list[dict[str, Any]],
    tails: list[TailResult],
    context: dict[str, Any],
) -> str:
    load = context["machine"]
    label = f"{context['label']}, " if context.get("label") else ""
    lines = [
        f"### Results ({label}{context['server']}, repeat {context['repeat']}, scale "
        f"{context['scale']})",
        "",
        f"Load average at start {load['loadavg_start'][0]:.2f}, at end {load['loadavg_end'][0]:.2f}"
        f" ({load['cpus']} CPUs); eventsource from {load['eventsource_path']}.",
        "",
        "Median events/s of the runs; ratios are to the raw psycopg baseline of the same run.",
        "",
        "| workload | raw psycopg | sync store | sync/raw | target | met | async store | "
        "async/raw | met | async/sync | met (>= 0.8) |",
        "|---|---:|---:|---:|---:|:-:|---:|---:|:-:|---:|:-:|",
    ]
    for workload, row in summary.items():
        target = TARGETS[workload]

        def num(key: str, row: dict[str, Any] = row) -> str:
            value = row.get(key)
            return "" if value is None else f"{value:,.0f}"

        def ratio(key: str, row: dict[str, Any] = row) -> str:
            value = row.get(key)
            return "" if value is None else f"{value:.2f}"

        lines.append(
            f"| {workload} | {num(RAW)} | {num(SYNC)} | {ratio(f'{SYNC} / raw')} | {target:.2f} | "
            f"{_mark(row.get(f'{SYNC} meets {target}'))} | {num(ASYNC)} | "
            f"{ratio(f'{ASYNC} / raw')} | {_mark(row.get(f'{ASYNC} meets {target}'))} | "
            f"{ratio('async / sync')} | {_mark(row.get(f'async meets {ASYNC_TARGET}'))} |"
        )
    lines += ["", "Every run (events/s, rounds 1 / 2 / 3 ...):", ""]
    for workload, cells in results.items():
        runs = "; ".join(
            f"{name} " + " / ".join(f"{rate:,.0f}" for rate in cell.rates)
            for name, cell in cells.items()
        )
        lines.append(f"- {workload}: {runs}")
    if "W6" in results:
        conflicts = {
            name: statistics.median(r.extra.get("conflicts", 0) for r in cell.runs)
            for name, cell in results["W6"].items()
        }
        lines += [
            "",
            "W6 conflicts (median per run, each followed by a re-read and a retry): "
            + ", ".join(f"{name} {value:g}" for name, value in conflicts.items())
            + "; every run's stream was checked gapless.",
        ]
    if memory:
        lines += [
            "",
            f"W4 peak memory (RSS high-water mark over idle, fresh process; target <= "
            f"{MEMORY_TARGET_MIB:g} MiB for the stores):",
            "",
            "| contender | idle RSS MiB | peak RSS MiB | growth MiB | met |",
            "|---|---:|---:|---:|:-:|",
        ]
        for m in memory:
            ok = None if m["contender"] == RAW else m["growth_mib"] <= MEMORY_TARGET_MIB
            lines.append(
                f"| {m['contender']} | {m['idle_rss_mib']:.1f} | {m['peak_rss_mib']:.1f} | "
                f"{m['growth_mib']:.1f} | {_mark(ok)} |"
            )
    if tails:
        lines += [
            "",
            "Never-skip tail (8 writers + 1 tailer looping `read_all(from_position=last)`):",
            "",
            "| contender | seconds | written | seen | missed | repeated | unexpected | "
            "out of order | polls | met |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|:-:|",
        ]
        for t in tails:
            lines.append(
                f"| {t.contender} | {t.seconds:.1f} | {t.written} | {t.seen} | {t.missed} | "
                f"{t.repeated} | {t.unexpected} | {t.out_of_order} | {t.polls} | {_mark(t.ok)} |"
            )
    return "\n".join(lines)


def machine() -> dict[str, Any]:
    cpuinfo = Path("/proc/cpuinfo").read_text() if Path("/proc/cpuinfo").exists() else ""
    models = [
        line.split(":", 1)[1].strip()
        for line in cpuinfo.splitlines()
        if line.startswith("model name")
    ]
    meminfo = Path("/proc/meminfo").read_text() if Path("/proc/meminfo").exists() else ""
    total = next(
        (line.split()[1] for line in meminfo.splitlines() if line.startswith("MemTotal")), "0"
    )
    root = Path(__file__).resolve().parent.parent

    def git(*args: str) -> str:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, check=False
            )
        except OSError:
            return "?"
        return done.stdout.strip()

    commit = git("rev-parse", "--short", "HEAD")
    return {
        "cpu": models[0] if models else platform.processor(),
        "cpus": os.cpu_count(),
        "memory_gib": round(int(total) / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "psycopg": f"{psycopg.__version__} ({psycopg.pq.__impl__})",
        "psycopg_pool": psycopg_pool.__version__,
        "eventsource": eventsource.__version__,
        "eventsource_path": str(Path(eventsource.__file__).resolve().parent),
        "commit": commit or None,  # None: not run from a git checkout
        "dirty": bool(git("status", "--porcelain", "--", "eventsource")) if commit else None,
        "loadavg_start": os.getloadavg(),
    }


def server_info(url: str) -> dict[str, str]:
    with psycopg.connect(url, autocommit=True) as conn:
        names = (
            "server_version",
            "fsync",
            "synchronous_commit",
            "full_page_writes",
            "shared_buffers",
        )
        return {name: str(conn.execute(f"SHOW {name}").fetchone()[0]) for name in names}  # type: ignore[index]


# -- the command ---------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--url", help="use this PostgreSQL database (its events tables are TRUNCATED)"
    )
    parser.add_argument(
        "--fast-server",
        action="store_true",
        help="throwaway server with fsync, synchronous_commit and full_page_writes off",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=5,
        help="runs per contender and workload (median reported; default 5)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="shrink (or grow) every workload, e.g. 0.1 for a quick check",
    )
    parser.add_argument(
        "--workloads", default="W1,W2,W3,W4,W5,W6", help="comma-separated subset, e.g. W1,W4"
    )
    parser.add_argument("--no-memory", action="store_true", help="skip W4's peak memory probe")
    parser.add_argument("--no-tail", action="store_true", help="skip the never-skip tail check")
    parser.add_argument(
        "--tail-seconds",
        type=float,
        default=None,
        help="how long the tail's writers race (default 3, scaled)",
    )
    parser.add_argument("--json", type=Path, help="write every number to this JSON file")
    parser.add_argument("--label", default="", help="a note for the report, e.g. the commit")
    return parser.parse_args(argv)


@contextmanager
def database(args: argparse.Namespace) -> Iterator[tuple[str, str]]:
    if args.url:
        yield args.url, "given server"
        return
    durability = "fsync off" if args.fast_server else "fsync on"
    log(f"starting a throwaway PostgreSQL server ({durability})")
    with throwaway_server(fast=args.fast_server) as server:
        yield server.url, f"throwaway server, {durability}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.repeat < 1:
        raise SystemExit("--repeat must be >= 1")
    plan = Plan().scaled(args.scale)
    if args.tail_seconds is not None:
        plan = Plan(**{**asdict(plan), "tail_seconds": args.tail_seconds})
    only = {w.strip().upper() for w in args.workloads.split(",") if w.strip()}
    contenders: list[Contender] = [RawBaseline(), SyncStore(), AsyncStore()]
    began = time.perf_counter()
    context: dict[str, Any] = {
        "machine": machine(),
        "repeat": args.repeat,
        "scale": args.scale,
        "label": args.label,
        "plan": asdict(plan),
    }
    with database(args) as (url, kind):
        with SyncPostgreSQLEventStore.from_url(url, event_registry=REGISTRY) as store:
            store.initialize()
        context["server"] = kind
        context["postgresql"] = server_info(url)
        results = run_writes(url, plan, contenders, args.repeat, only)
        memory: list[dict[str, Any]] = []
        if only & set(READS) or (not args.no_memory and "W4" in only):
            fixture = seed_reads(url, plan)
            results |= run_reads(url, plan, contenders, args.repeat, only, fixture)
            if not args.no_memory and "W4" in only:
                log("W4 peak memory (fresh subprocess per contender)")
                for name in ("sync", "async", "raw"):
                    m = measure_in_subprocess(url, fixture.stream_id, plan.w4_reads, name)
                    log(
                        f"  {m['contender']:<12} idle {m['idle_rss_mib']:.1f} MiB,"
                        f" growth {m['growth_mib']:.1f} MiB"
                    )
                    memory.append(m)
        tails: list[TailResult] = []
        if not args.no_tail:
            for name, tail in (("sync", tail_sync), ("async", tail_async)):
                log(
                    f"never-skip tail ({name}): {plan.tail_writers} writers"
                    f" for {plan.tail_seconds:g}s + 1 tailer"
                )
                reset(url)
                result = tail(url, plan.tail_writers, plan.tail_seconds)
                log(
                    f"  written {result.written}, seen {result.seen},"
                    f" missed {result.missed}, repeated {result.repeated}"
                )
                tails.append(result)
    context["seconds"] = round(time.perf_counter() - began, 1)
    context["machine"]["loadavg_end"] = os.getloadavg()
    # Order the table W1..W6 whatever order the workloads ran in.
    results = {w: results[w] for w in WORKLOADS if w in results}
    summary = summarize(results)
    print(markdown(summary, results, memory, tails, context))
    print(f"\n(total {context['seconds']}s)")
    if args.json:
        document = {
            "context": context,
            "workloads": WORKLOADS,
            "targets": {
                "ratio_to_raw": TARGETS,
                "async_to_sync": ASYNC_TARGET,
                "w4_memory_mib": MEMORY_TARGET_MIB,
                "missed_events": 0,
            },
            "summary": summary,
            "results": {
                w: {name: cell.as_dict() for name, cell in cells.items()}
                for w, cells in results.items()
            },
            "memory": memory,
            "tail": [t.as_dict() for t in tails],
        }
        args.json.write_text(json.dumps(document, indent=2, default=str) + "\n")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
