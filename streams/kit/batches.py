"""A batch of faust events, taken apart by partition.

An agent that takes its stream in batches (``stream.take_events``) hands each partition's share
to its logic on its own: the outputs go back to that partition, and a table write must land in
that partition's store (:func:`writing_for`).
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from faust.streams import _current_event


def by_partition(events: Sequence[Any]) -> dict[int, list[Any]]:
    """Events of a batch grouped by partition, each group in its original order."""
    groups: dict[int, list[Any]] = {}
    for event in events:
        groups.setdefault(event.message.partition, []).append(event)
    return groups


class _PartitionOnly:
    """What faust's store reads of the current event: its message's partition."""

    def __init__(self, partition: int) -> None:
        self.message = self
        self.partition = partition


@contextmanager
def writing_to(partition: int) -> Iterator[None]:
    """Table writes inside go to ``partition``'s store, for work that no event brought (a
    recompute of the cases of a partition)."""
    holder = _PartitionOnly(partition)
    with writing_for(holder):
        yield


@contextmanager
def writing_for(event: Any) -> Iterator[None]:
    """Table writes inside go to ``event``'s partition: faust's RocksDB store picks the
    partition's database by the *current* event, which in a batch would be its last one."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)
