"""The figures the reliability suite measures, for docs/reliability.md.

Tests add to `FIGURES` (`count`, `record`); at the end of the session `conftest.py` writes them
as JSON to the file named by `$EVENTSOURCE_RELIABILITY_REPORT` (if set) and prints a summary.
Keys are `"<test>[<backend>]"` sections of named figures, so a figure always says where it
comes from.
"""

from __future__ import annotations

import json
import os
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any

REPORT_ENV = "EVENTSOURCE_RELIABILITY_REPORT"

FIGURES: defaultdict[str, dict[str, Any]] = defaultdict(dict)
_lock = threading.Lock()


def count(section: str, figure: str, n: int = 1) -> None:
    """Add `n` to a counter (thread-safe)."""
    with _lock:
        FIGURES[section][figure] = FIGURES[section].get(figure, 0) + n


def add_seconds(section: str, seconds: float) -> None:
    """Add to a section's `seconds` (rounded when written)."""
    with _lock:
        FIGURES[section]["seconds"] = round(FIGURES[section].get("seconds", 0.0) + seconds, 3)


def record(section: str, **figures: Any) -> None:
    """Set figures (replacing earlier values)."""
    with _lock:
        FIGURES[section].update(figures)


def totals() -> dict[str, int]:
    """Sums over every section of the figures that the doc's summary table shows."""
    keys = (
        "faults_injected",
        "calls_failed_unavailable",
        "unknown_outcomes_retried",
        "examples",
        "events_written",
        "events_lost",
        "events_duplicated",
        "foreign_events_returned",
    )
    with _lock:
        return {
            key: sum(section.get(key, 0) for section in FIGURES.values())
            for key in keys
            if any(key in section for section in FIGURES.values())
        }


def write(path: str | None = None) -> Path | None:
    """Write the figures as JSON to `path` (default: `$EVENTSOURCE_RELIABILITY_REPORT`)."""
    target = path or os.environ.get(REPORT_ENV)
    if not target or not FIGURES:
        return None
    with _lock:
        sections = {key: dict(FIGURES[key]) for key in sorted(FIGURES)}
    data = {"totals": totals(), "sections": sections}
    out = Path(target)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    return out
