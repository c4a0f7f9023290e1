"""Tenancy: a read filtered by tenant never returns another tenant's event (DESIGN 5, 7).

A Hypothesis property over random data on every backend: each example appends events of
random tenants (some without one) to random streams of two aggregate types, on top of every
earlier example's events, then asks every tenant-filtered reader for each tenant of the
example, a look-alike tenant (one bit away) and a stranger, with random directions and
limits. Each answer must be exactly the expected events of that tenant, in order.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from uuid import UUID, uuid4

import pytest
import reliability_report
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from reliability_events import Note

from eventsource import DomainEvent, ReadDirection, ReadOptions, StoredEvent, SyncEventStore

EXAMPLES = int(os.environ.get("EVENTSOURCE_RELIABILITY_TENANCY_EXAMPLES", "100"))
TYPES = ("Account", "Order")


@dataclass
class Written:
    """Every event the test appended, in log order, with its stream."""

    events: list[tuple[DomainEvent, str]] = field(default_factory=list)

    def of(self, tenant: UUID, stream: str | None = None, type_: str | None = None) -> list[UUID]:
        return [
            event.event_id
            for event, stream_id in self.events
            if event.tenant_id == tenant
            and (stream is None or stream_id == stream or stream_id.startswith(stream + ":"))
            and (type_ is None or stream_id.endswith(":" + type_))
        ]


@st.composite
def batches(draw: st.DrawFn) -> list[tuple[int, int, list[int | None]]]:
    """Appends as (stream index, type index, tenant index per event); None: no tenant."""
    return draw(
        st.lists(
            st.tuples(
                st.integers(0, 3),
                st.integers(0, 1),
                st.lists(st.none() | st.integers(0, 2), min_size=1, max_size=4),
            ),
            min_size=1,
            max_size=5,
        )
    )


def _apply(
    options: tuple[ReadDirection, int | None], expected: list[UUID]
) -> tuple[ReadOptions, list[UUID]]:
    direction, limit = options
    ordered = expected if direction is ReadDirection.FORWARD else expected[::-1]
    return ReadOptions(direction=direction, limit=limit), ordered[:limit]


@pytest.mark.slow
def test_tenant_filters_never_leak(any_store: SyncEventStore, section: str) -> None:
    written = Written()
    figures = {"examples": 0, "events_written": 0, "reads": 0, "events_returned": 0}
    foreign: list[str] = []

    def returned(tenant: UUID, events: list[DomainEvent], what: str) -> list[UUID]:
        figures["reads"] += 1
        figures["events_returned"] += len(events)
        foreign.extend(f"{what}: {e.event_id}" for e in events if e.tenant_id != tenant)
        return [e.event_id for e in events]

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow],
    )
    @given(
        appends=batches(),
        reads=st.lists(
            st.tuples(st.sampled_from(ReadDirection), st.none() | st.integers(0, 6)),
            min_size=3,
            max_size=3,
        ),
    )
    def check(
        appends: list[tuple[int, int, list[int | None]]],
        reads: list[tuple[ReadDirection, int | None]],
    ) -> None:
        figures["examples"] += 1
        tenants = [uuid4() for _ in range(3)]
        streams = [uuid4() for _ in range(4)]
        for stream_index, type_index, tenant_indexes in appends:
            aggregate_id, aggregate_type = streams[stream_index], TYPES[type_index]
            events = [
                Note(
                    aggregate_id=aggregate_id,
                    tenant_id=None if t is None else tenants[t],
                    text=f"{t}",
                )
                for t in tenant_indexes
            ]
            any_store.append_events(aggregate_id, aggregate_type, events, -1)
            stream_id = f"{aggregate_id}:{aggregate_type}"
            written.events.extend((event, stream_id) for event in events)
            figures["events_written"] += len(events)
        look_alike = UUID(int=tenants[0].int ^ 1)
        for tenant in [*tenants, look_alike, uuid4()]:
            for type_ in TYPES:
                got = returned(tenant, any_store.get_events_by_type(type_, tenant_id=tenant), "by")
                assert got == written.of(tenant, type_=type_)
            options, want = _apply(reads[0], written.of(tenant))
            stored = list(any_store.read_all(_tenant(options, tenant)))
            assert returned(tenant, _events(stored), "read_all") == want
            stream = str(streams[appends[0][0]])
            for where, read_options in ((stream, reads[1]), (f"{stream}:Account", reads[2])):
                options, want = _apply(read_options, written.of(tenant, stream=where))
                stored = list(any_store.read_stream(where, _tenant(options, tenant)))
                assert returned(tenant, _events(stored), "read_stream") == want

    any_store.get_global_position()  # connected before Hypothesis draws (see payload tests)
    check()
    figures["foreign_events_returned"] = len(foreign)
    reliability_report.record(section, **figures)
    assert foreign == []


def _tenant(options: ReadOptions, tenant: UUID) -> ReadOptions:
    return ReadOptions(direction=options.direction, limit=options.limit, tenant_id=tenant)


def _events(stored: list[StoredEvent]) -> list[DomainEvent]:
    return [s.event for s in stored]
