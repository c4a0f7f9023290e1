"""Peak memory of W4 (read a long stream repeatedly), measured in a fresh subprocess.

`python -m benchmarks.memory --url URL --stream ID --reads N --contender sync|async|raw`
prints one JSON object. The child imports everything, opens its connection, reads ten
events (so lazily created caches and prepared statements exist), collects garbage and takes
its idle RSS. It then resets the kernel's RSS high-water mark (`/proc/self/clear_refs`),
runs the reads keeping no event, and reports `VmHWM - idle`: the most the process grew.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any
from uuid import UUID

import psycopg

from eventsource import ReadOptions

from .baseline import READ_STREAM, consume_rows
from .common import STREAM_TYPE
from .stores import async_store, consume, consume_async, sync_store

MIB = 1024 * 1024


def _status(field: str) -> int:
    """A `/proc/self/status` size in bytes (VmRSS, VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> bool:
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


class _Probe:
    def __init__(self) -> None:
        self.idle = 0
        self.reset = False

    def start(self) -> None:
        gc.collect()
        self.idle = _status("VmRSS")
        self.reset = _reset_peak()

    def report(self, contender: str, events: int) -> dict[str, Any]:
        peak = _status("VmHWM")
        return {
            "contender": contender,
            "events": events,
            "idle_rss_mib": round(self.idle / MIB, 2),
            "peak_rss_mib": round(peak / MIB, 2),
            "growth_mib": round((peak - self.idle) / MIB, 2),
            "peak_reset": self.reset,
        }


def measure(url: str, stream_id: str, reads: int, contender: str) -> dict[str, Any]:
    probe = _Probe()
    if contender == "sync":
        with sync_store(url, 1) as store:
            consume(store.read_stream(stream_id, ReadOptions(limit=10)))
            probe.start()
            total = sum(consume(store.read_stream(stream_id)) for _ in range(reads))
            return probe.report("sync store", total)
    if contender == "async":

        async def main() -> dict[str, Any]:
            async with async_store(url, 1) as store:
                await consume_async(store.read_stream(stream_id, ReadOptions(limit=10)))
                probe.start()
                total = 0
                for _ in range(reads):
                    total += await consume_async(store.read_stream(stream_id))
                return probe.report("async store", total)

        return asyncio.run(main())
    if contender == "raw":
        read = (UUID(stream_id.partition(":")[0]), STREAM_TYPE)
        with psycopg.connect(url, autocommit=True) as conn:
            consume_rows(conn.execute(READ_STREAM + " LIMIT 10", read).fetchall())
            probe.start()
            total = sum(
                consume_rows(conn.execute(READ_STREAM, read).fetchall()) for _ in range(reads)
            )
            return probe.report("raw psycopg", total)
    raise ValueError(f"unknown contender {contender!r}")


def measure_in_subprocess(url: str, stream_id: str, reads: int, contender: str) -> dict[str, Any]:
    """Run `measure` in a fresh interpreter (this process's heap would blur the numbers)."""
    argv = [sys.executable, "-m", "benchmarks.memory", "--url", url, "--stream", stream_id]
    argv += ["--reads", str(reads), "--contender", contender]
    root = Path(__file__).resolve().parent.parent
    done = subprocess.run(argv, cwd=root, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe ({contender}) failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--stream", required=True, help="'<uuid>:<type>' of the stream")
    parser.add_argument("--reads", type=int, default=20)
    parser.add_argument("--contender", choices=("sync", "async", "raw"), default="sync")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.url, args.stream, args.reads, args.contender)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
