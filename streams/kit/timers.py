"""Deadline timers at scale: the next change instant of every case a worker owns.

No periodic scan over cases. Each owned partition keeps its cases' next change instants in
buckets of one second, with a heap of the bucket instants; a tick pops the buckets that are due.
An idle tick costs one heap peek per owned partition, however many cases are open. A case
re-armed with a new instant simply moves: stale bucket entries are skipped when popped.

The timers hold no clock: :class:`~streams.kit.ticker.Ticker` pops them just after each whole
second, and :func:`~streams.kit.rebalance.rearm_after_rebalance` rebuilds them from the store
after each rebalance. A key is any string the app arms (the worker's are case ids).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable


class PartitionTimers:
    """The armed cases of one partition."""

    __slots__ = ("_buckets", "_due", "_heap")

    def __init__(self) -> None:
        self._due: dict[str, int] = {}  # case id -> its armed instant
        self._buckets: dict[int, list[str]] = {}  # instant -> cases armed for it (maybe stale)
        self._heap: list[int] = []  # bucket instants

    def arm(self, case_id: str, due: int | None) -> None:
        """Arm (or re-arm, or with None disarm) the case for an instant."""
        if due is None:
            self._due.pop(case_id, None)
            return
        if self._due.get(case_id) == due:
            return
        self._due[case_id] = due
        bucket = self._buckets.get(due)
        if bucket is None:
            self._buckets[due] = bucket = []
            heapq.heappush(self._heap, due)
        bucket.append(case_id)

    def pop_due(self, now: int) -> list[tuple[str, int]]:
        """(case id, armed instant) of the cases due at or before ``now``; they are disarmed."""
        due: list[tuple[str, int]] = []
        heap, buckets, armed = self._heap, self._buckets, self._due
        while heap and heap[0] <= now:
            instant = heapq.heappop(heap)
            for case_id in buckets.pop(instant, ()):
                if armed.get(case_id) == instant:
                    del armed[case_id]
                    due.append((case_id, instant))
        return due

    def __len__(self) -> int:
        return len(self._due)


class Timers:
    """The armed cases of every partition a worker owns."""

    def __init__(self) -> None:
        self._partitions: dict[int, PartitionTimers] = {}

    def arm(self, partition: int, case_id: str, due: int | None) -> None:
        """Arm a case of an owned partition."""
        timers = self._partitions.get(partition)
        if timers is None:
            timers = self._partitions[partition] = PartitionTimers()
        timers.arm(case_id, due)

    def pop_due(self, now: int) -> list[tuple[int, str, int]]:
        """(partition, case id, armed instant) of every case due at or before ``now``."""
        return [
            (partition, case_id, instant)
            for partition, timers in self._partitions.items()
            for case_id, instant in timers.pop_due(now)
        ]

    def revoke(self, partitions: Iterable[int]) -> None:
        """Forget partitions this worker no longer owns."""
        for partition in partitions:
            self._partitions.pop(partition, None)

    def owned(self) -> set[int]:
        """Partitions with armed cases."""
        return set(self._partitions)

    def __len__(self) -> int:
        return sum(len(timers) for timers in self._partitions.values())
