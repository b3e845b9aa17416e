"""Which events a worker has already answered for: their feed health counted and their dead
letters sent.

A worker reads events again after a rebalance: from the committed offset, which lags what it
handled, and the worker taking a partition over from one that died reads again what that one
handled after its last commit. The engine applies such an event as a duplicate, rightly, but
its feed-health count and its dead letter are already out: made a second time they would show a
window system resending what it never resent ("phantom duplicates"). :class:`HandledEvents`
keeps, per events partition, the highest offset whose outputs are out; the worker stores it in
the read model after each batch's deliveries are confirmed, and a worker that takes a partition
starts from the stored value. An event at or below it is handled as
:data:`~streams.tracker.Inbound.EVENT_AGAIN`.

At least once still, but only in a narrow window: a worker that dies after a batch's outputs are
out and before its offsets reach Redis has them counted again. Never at most once: the offsets
are stored after the dead letters are confirmed, so a refused event is never skipped.
"""

from __future__ import annotations

from collections.abc import Mapping


class HandledEvents:
    """Per events partition, the highest offset whose per-record outputs are out."""

    def __init__(self) -> None:
        self.upto: dict[int, int] = {}
        self._batch: dict[int, int] = {}  # the offsets of the batch being handled

    def seen(self, partition: int, offset: int) -> bool:
        """Whether this event was handled before (here, or by the worker that had its
        partition); records it as handled by the current batch otherwise."""
        if offset <= self.upto.get(partition, -1):
            return True
        self.upto[partition] = self._batch[partition] = offset
        return False

    def take_batch(self) -> dict[int, int]:
        """The highest offset per partition of the batch just handled, to store (and forget)."""
        batch, self._batch = self._batch, {}
        return batch

    def adopt(self, stored: Mapping[int, int]) -> None:
        """Offsets stored by whichever worker had these partitions: the higher one wins."""
        for partition, offset in stored.items():
            if offset > self.upto.get(partition, -1):
                self.upto[partition] = offset
