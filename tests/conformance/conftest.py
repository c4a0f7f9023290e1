"""Fixtures of the conformance suite: the test registry and a fresh store per backend.

`store` runs a test on every backend of `backends.BACKENDS` (async ones through
`AsyncStoreFacade`); `sync_store` on the sync ones only (threads); `memory_store` on the
in-memory ones only (their test helpers).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from backends import BACKENDS
from sample_events import REGISTRY

from eventsource import EventRegistry, SyncEventStore


@pytest.fixture
def registry() -> EventRegistry:
    """The registry every conformance store resolves its event classes in."""
    return REGISTRY


def _open(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[SyncEventStore]:
    with request.param.open(request, registry) as store:
        yield store


@pytest.fixture(params=[backend.param() for backend in BACKENDS])
def store(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[SyncEventStore]:
    """A fresh, empty store of each backend."""
    yield from _open(request, registry)


@pytest.fixture(params=[backend.param() for backend in BACKENDS if not backend.is_async])
def sync_store(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[SyncEventStore]:
    """A fresh, empty store of each sync backend (for tests with threads)."""
    yield from _open(request, registry)


@pytest.fixture(params=[backend.param() for backend in BACKENDS if backend.in_memory])
def memory_store(request: pytest.FixtureRequest, registry: EventRegistry) -> Iterator[Any]:
    """A fresh, empty in-memory store, sync and async (for their test helpers).

    Typed `Any`: a `SyncInMemoryEventStore`, or the facade passing the helpers through.
    """
    yield from _open(request, registry)
