"""Optimistic locking: exact versions, NO_STREAM, STREAM_EXISTS, ANY (DESIGN section 3)."""

from __future__ import annotations

import pickle
from uuid import uuid4

import pytest
from checks import nothing_written
from sample_events import happened

from eventsource import ExpectedVersion, OptimisticLockError, SyncEventStore


def test_expected_version_constants() -> None:
    assert (ExpectedVersion.ANY, ExpectedVersion.NO_STREAM, ExpectedVersion.STREAM_EXISTS) == (
        -1,
        0,
        -2,
    )


@pytest.mark.parametrize(
    ("existing", "expected_version"),
    [
        (0, ExpectedVersion.NO_STREAM),
        (0, ExpectedVersion.ANY),
        (3, 3),
        (3, ExpectedVersion.STREAM_EXISTS),
        (3, ExpectedVersion.ANY),
    ],
    ids=["no-stream", "any-new", "exact", "stream-exists", "any-existing"],
)
def test_satisfied_expectation_appends(
    store: SyncEventStore, existing: int, expected_version: int
) -> None:
    aggregate_id = uuid4()
    if existing:
        store.append_events(aggregate_id, "Order", happened(aggregate_id, existing), 0)
    result = store.append_events(aggregate_id, "Order", happened(aggregate_id, 2), expected_version)
    assert result.success
    assert result.new_version == existing + 2
    assert store.get_stream_version(aggregate_id, "Order") == existing + 2


@pytest.mark.parametrize(
    ("existing", "expected_version"),
    [
        (0, 1),
        (0, ExpectedVersion.STREAM_EXISTS),
        (3, ExpectedVersion.NO_STREAM),
        (3, 2),
        (3, 4),
    ],
    ids=[
        "exact-on-missing",
        "stream-exists-on-missing",
        "no-stream-on-existing",
        "behind",
        "ahead",
    ],
)
def test_mismatch_raises_optimistic_lock_error_nothing_written(
    store: SyncEventStore, existing: int, expected_version: int
) -> None:
    aggregate_id = uuid4()
    if existing:
        store.append_events(aggregate_id, "Order", happened(aggregate_id, existing), 0)
    batch = happened(aggregate_id, 2)
    with nothing_written(store), pytest.raises(OptimisticLockError) as caught:
        store.append_events(aggregate_id, "Order", batch, expected_version)
    error = caught.value
    assert error.aggregate_id == aggregate_id
    assert error.aggregate_type == "Order"
    assert error.expected_version == expected_version
    assert error.actual_version == existing
    assert str(aggregate_id) in str(error)
    assert not any(store.event_exists(event.event_id) for event in batch)
    assert store.get_stream_version(aggregate_id, "Order") == existing


def test_optimistic_lock_error_survives_pickling(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    with pytest.raises(OptimisticLockError) as caught:
        store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), 5)
    copy = pickle.loads(pickle.dumps(caught.value))
    assert (copy.aggregate_id, copy.aggregate_type, copy.expected_version, copy.actual_version) == (
        aggregate_id,
        "Order",
        5,
        0,
    )


def test_versions_are_per_stream(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 3), 0)
    # Another type of the same id is another stream, still missing.
    result = store.append_events(aggregate_id, "Invoice", happened(aggregate_id, 1), 0)
    assert result.new_version == 1
    with pytest.raises(OptimisticLockError):
        store.append_events(aggregate_id, "Invoice", happened(aggregate_id, 1), 3)


@pytest.mark.parametrize("expected_version", [-3, -4, -100])
def test_other_negative_expected_version_is_value_error(
    store: SyncEventStore, expected_version: int
) -> None:
    aggregate_id = uuid4()
    with nothing_written(store), pytest.raises(ValueError, match="expected_version"):
        store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), expected_version)


def test_any_appends_after_whatever_is_there(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    for expected in range(1, 5):
        result = store.append_events(
            aggregate_id, "Order", happened(aggregate_id, 1), ExpectedVersion.ANY
        )
        assert result.new_version == expected


def test_expected_version_from_a_read_is_right(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 2), 0)
    stream = store.get_events(aggregate_id, "Order", from_version=1)
    result = store.append_events(aggregate_id, "Order", happened(aggregate_id, 1), stream.version)
    assert result.new_version == 3
