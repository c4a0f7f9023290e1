"""Assertions the conformance tests share: exact values, and "nothing was written"."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

import attrs

from eventsource import SyncEventStore


def log_of(store: SyncEventStore) -> list[tuple[UUID, str, int, int]]:
    """The whole log as (event_id, stream_id, stream_position, global_position)."""
    return [
        (stored.event_id, stored.stream_id, stored.stream_position, stored.global_position)
        for stored in store.read_all()
    ]


@contextlib.contextmanager
def nothing_written(store: SyncEventStore) -> Iterator[None]:
    """Assert that the block leaves the log exactly as it found it."""
    before = log_of(store)
    position = store.get_global_position()
    yield
    assert log_of(store) == before
    assert store.get_global_position() == position


def assert_exact(actual: Any, expected: Any, path: str = "value") -> None:
    """Equal, and of the same types all the way down (a Decimal keeps its exponent)."""
    assert type(actual) is type(expected), (
        f"{path}: got {type(actual).__name__} {actual!r}, expected {type(expected).__name__}"
    )
    if isinstance(expected, Decimal):
        assert str(actual) == str(expected), f"{path}: {actual!r} != {expected!r}"
    elif isinstance(expected, datetime):
        assert actual.utcoffset() is not None, f"{path}: naive {actual!r}"
        assert actual == expected, f"{path}: {actual!r} is not the instant {expected!r}"
    elif isinstance(expected, (list, tuple)):
        assert len(actual) == len(expected), f"{path}: {actual!r} != {expected!r}"
        for index, (got, want) in enumerate(zip(actual, expected, strict=True)):
            assert_exact(got, want, f"{path}[{index}]")
    elif isinstance(expected, Mapping):
        # Key order is not kept (PostgreSQL's jsonb sorts keys); keys and values are.
        assert len(actual) == len(expected), f"{path}: keys {list(actual)} != {list(expected)}"
        got_keys = {key: key for key in actual}
        for want_key, want in expected.items():
            assert want_key in got_keys, f"{path}: key {want_key!r} missing from {list(actual)}"
            got_key = got_keys[want_key]
            assert_exact(got_key, want_key, f"{path} key {want_key!r}")
            assert_exact(actual[got_key], want, f"{path}[{want_key!r}]")
    elif attrs.has(type(expected)):
        for field in attrs.fields(type(expected)):
            name = field.name
            assert_exact(getattr(actual, name), getattr(expected, name), f"{path}.{name}")
    else:
        assert actual == expected, f"{path}: {actual!r} != {expected!r}"
