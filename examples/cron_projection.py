"""A cron-style projection: each run reads the global log from its checkpoint and stops.

    EVENTSOURCE_URL=postgresql://localhost/bank python examples/cron_projection.py state.json

The checkpoint is the global position of the last event applied; `read_all` resumes after it
and never skips or repeats an event, even while writers are busy.
"""

from __future__ import annotations

import json
import os
import sys
from decimal import Decimal
from pathlib import Path

from bank import Deposited, Withdrawn

from eventsource import ReadOptions, SyncEventStore, SyncPostgreSQLEventStore


def run_once(store: SyncEventStore, state_file: Path) -> int:
    """Apply every new event to the totals in `state_file`; returns how many were applied."""
    state = json.loads(state_file.read_text()) if state_file.exists() else {}
    position = state.get("position", 0)
    totals = {k: Decimal(v) for k, v in state.get("totals", {}).items()}
    applied = 0
    for stored in store.read_all(ReadOptions(from_position=position)):
        account = str(stored.aggregate_id)
        if isinstance(stored.event, Deposited):
            totals[account] = totals.get(account, Decimal(0)) + stored.event.amount
        elif isinstance(stored.event, Withdrawn):
            totals[account] = totals.get(account, Decimal(0)) - stored.event.amount
        position = stored.global_position
        applied += 1
    state = {"position": position, "totals": {k: str(v) for k, v in totals.items()}}
    state_file.write_text(json.dumps(state, indent=2))
    return applied


if __name__ == "__main__":
    with SyncPostgreSQLEventStore.from_url(os.environ["EVENTSOURCE_URL"]) as store:
        print(f"applied {run_once(store, Path(sys.argv[1]))} events")
