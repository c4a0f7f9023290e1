"""Retried appends and duplicate event ids (DESIGN sections 3 and 7)."""

from __future__ import annotations

from uuid import uuid4

import attrs
import pytest
from checks import log_of, nothing_written
from sample_events import Happened, happened

from eventsource import DuplicateEventError, ExpectedVersion, OptimisticLockError, SyncEventStore


@pytest.mark.parametrize(
    "retry_expected_version",
    [ExpectedVersion.NO_STREAM, 7, ExpectedVersion.ANY, ExpectedVersion.STREAM_EXISTS],
)
def test_retried_batch_succeeds_without_writing_or_version_check(
    store: SyncEventStore, retry_expected_version: int
) -> None:
    aggregate_id = uuid4()
    batch = happened(aggregate_id, 3)
    first = store.append_events(aggregate_id, "Order", batch, 0)
    with nothing_written(store):
        retried = store.append_events(aggregate_id, "Order", batch, retry_expected_version)
    assert retried == first


def test_retry_returns_the_last_of_its_events_not_the_stream_head(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    batch = happened(aggregate_id, 2)
    first = store.append_events(aggregate_id, "Order", batch, 0)
    store.append_events(aggregate_id, "Order", happened(aggregate_id, 3), 2)
    other = uuid4()
    store.append_events(other, "Order", happened(other, 1), 0)
    with nothing_written(store):
        retried = store.append_events(aggregate_id, "Order", batch, 0)
    assert retried.success
    assert (retried.new_version, retried.global_position) == (2, first.global_position)


def test_retry_of_part_of_a_stored_batch_returns_its_last_event(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    batch = happened(aggregate_id, 4)
    store.append_events(aggregate_id, "Order", batch, 0)
    positions = {s.event_id: s.global_position for s in store.read_all()}
    with nothing_written(store):
        retried = store.append_events(aggregate_id, "Order", batch[:2], 0)
    assert (retried.new_version, retried.global_position) == (2, positions[batch[1].event_id])


def test_retry_with_changed_content_is_still_a_retry(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    batch = happened(aggregate_id, 2)
    store.append_events(aggregate_id, "Order", batch, 0)
    changed = [attrs.evolve(event, note="changed") for event in batch]
    with nothing_written(store):
        assert store.append_events(aggregate_id, "Order", changed, 0).new_version == 2
    read = store.get_events(aggregate_id, "Order").events
    assert [e.note for e in read if isinstance(e, Happened)] == ["0", "1"]


def test_retry_is_recognized_when_events_had_an_empty_type(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    batch = [Happened(aggregate_id=aggregate_id, aggregate_type="")]
    first = store.append_events(aggregate_id, "Order", batch, 0)
    with nothing_written(store):
        assert store.append_events(aggregate_id, "Order", batch, 0) == first


def test_partial_overlap_is_duplicate_error_nothing_written(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    stored = happened(aggregate_id, 2)
    store.append_events(aggregate_id, "Order", stored, 0)
    fresh = happened(aggregate_id, 2)
    batch = [fresh[0], stored[1], fresh[1]]
    with nothing_written(store), pytest.raises(DuplicateEventError) as caught:
        store.append_events(aggregate_id, "Order", batch, ExpectedVersion.ANY)
    assert caught.value.event_ids == (stored[1].event_id,)
    assert isinstance(caught.value.event_ids, tuple)
    assert str(stored[1].event_id) in str(caught.value)
    assert not store.event_exists(fresh[0].event_id)


def test_overlap_with_another_stream_is_duplicate_error(store: SyncEventStore) -> None:
    first, second = uuid4(), uuid4()
    stored = happened(first, 1)
    store.append_events(first, "Order", stored, 0)
    # The same event id, now claimed by another aggregate's new batch.
    stolen = Happened(aggregate_id=second, event_id=stored[0].event_id)
    batch = [*happened(second, 1), stolen]
    with nothing_written(store), pytest.raises(DuplicateEventError) as caught:
        store.append_events(second, "Order", batch, 0)
    assert caught.value.event_ids == (stored[0].event_id,)


@pytest.mark.parametrize("other_type", [False, True], ids=["other-id", "same-id-other-type"])
def test_batch_all_stored_in_another_stream_is_duplicate_error(
    store: SyncEventStore, other_type: bool
) -> None:
    first = uuid4()
    stored = happened(first, 2)
    store.append_events(first, "Order", stored, 0)
    target, target_type = (first, "Invoice") if other_type else (uuid4(), "Order")
    moved = [attrs.evolve(event, aggregate_id=target) for event in stored]
    with nothing_written(store), pytest.raises(DuplicateEventError) as caught:
        store.append_events(target, target_type, moved, ExpectedVersion.ANY)
    assert caught.value.event_ids == tuple(event.event_id for event in stored)
    assert store.get_stream_version(target, target_type) == 0


@pytest.mark.parametrize("stored_before", [False, True], ids=["new", "already-stored"])
def test_same_id_twice_in_a_batch_is_duplicate_error(
    store: SyncEventStore, stored_before: bool
) -> None:
    aggregate_id = uuid4()
    event = Happened(aggregate_id=aggregate_id, note="a")
    if stored_before:
        store.append_events(aggregate_id, "Order", [event], 0)
    twin = attrs.evolve(event, note="b")
    batch = [*happened(aggregate_id, 1), event, twin]
    with nothing_written(store), pytest.raises(DuplicateEventError) as caught:
        store.append_events(aggregate_id, "Order", batch, ExpectedVersion.ANY)
    assert caught.value.event_ids == (event.event_id,)
    assert isinstance(caught.value.event_ids, tuple)


def test_duplicate_and_stale_version_together_write_nothing(store: SyncEventStore) -> None:
    # Which of the two errors is raised is not specified; that nothing is written is.
    aggregate_id = uuid4()
    stored = happened(aggregate_id, 1)
    store.append_events(aggregate_id, "Order", stored, 0)
    with nothing_written(store), pytest.raises((DuplicateEventError, OptimisticLockError)):
        store.append_events(aggregate_id, "Order", [*stored, *happened(aggregate_id, 1)], 0)


def test_event_exists(store: SyncEventStore) -> None:
    aggregate_id = uuid4()
    batch = happened(aggregate_id, 2)
    assert not store.event_exists(batch[0].event_id)
    store.append_events(aggregate_id, "Order", batch, 0)
    assert all(store.event_exists(event.event_id) for event in batch)
    assert not store.event_exists(uuid4())
    assert len(log_of(store)) == 2
