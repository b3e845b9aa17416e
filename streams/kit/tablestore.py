"""A faust table as a store of bytes by key, that remembers each key's partition.

:class:`TableStore` is the ``MutableMapping[str, bytes]`` the worker's tracker keeps its case
snapshots in; a second stateful app keeps its own values the same way. Writes go to the table's
local store at once; their changelog records wait for the agent, which sends them with the rest
of its batch (:class:`~streams.kit.publisher.TableChangelog`). :meth:`TableStore.armed` tells the
timers what to re-arm after a rebalance (:func:`~streams.kit.rebalance.rearm_after_rebalance`).

Use: one ``TableStore(app.Table(..., key_type=bytes, value_type=bytes), due_of)`` per table;
before handling a partition's share of a batch, set ``store.partition`` and enter
:func:`~streams.kit.batches.writing_for` its last event.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Iterator, MutableMapping
from typing import Any, NamedTuple

_PARTITION = struct.Struct(">i")  # table values: the key's partition, then the stored bytes


class Armed(NamedTuple):
    """A key held in a store, with its partition and the instant it is next due (or None)."""

    partition: int
    key: str
    due: int | None


class TableStore(MutableMapping[str, bytes]):
    """A store on a faust table. Each value records the partition the case's events
    arrive on: integrators' partitioners differ (murmur2, CRC32…), so it cannot be recomputed
    from the key, and the timers need it to re-arm after a rebalance.

    A write goes to the table's local store at once, and its changelog record waits in
    ``changes`` for the agent to send with the rest of the batch (:meth:`take_changes`).
    faust's own ``table[key] = value`` sends one record per key through its producer buffer,
    with a callback per record that writes the persisted offset to RocksDB: about a tenth of
    a busy worker's time.

    ``due_of`` reads the instant a stored value is next due (for case snapshots,
    :func:`monitor.snapshot.next_change_of`)."""

    def __init__(self, table: Any, due_of: Callable[[bytes], int | None]) -> None:
        self.table = table
        self.due_of = due_of
        self.partition = 0  # set by the agent before each partition's share of a batch
        self.changes: dict[int, dict[bytes, bytes | None]] = {}  # partition -> key -> value

    def __getitem__(self, key: str) -> bytes:
        value = self.table[key.encode()]
        if value is None:
            raise KeyError(key)
        return bytes(value[_PARTITION.size :])

    def __setitem__(self, key: str, stored: bytes) -> None:
        raw, value = key.encode(), _PARTITION.pack(self.partition) + stored
        self.table.data[raw] = value
        self.changes.setdefault(self.partition, {})[raw] = value

    def __delitem__(self, key: str) -> None:
        raw = key.encode()
        del self.table.data[raw]
        self.changes.setdefault(self.partition, {})[raw] = None  # a tombstone

    def take_changes(self) -> dict[int, dict[bytes, bytes | None]]:
        """The changelog records written since the last call, by partition."""
        changes, self.changes = self.changes, {}
        return changes

    def __iter__(self) -> Iterator[str]:
        return (key.decode() for key in self.table)

    def __len__(self) -> int:
        return len(self.table)

    def keys_where(
        self, partitions: set[int], keep: Callable[[memoryview], bool]
    ) -> Iterator[Armed]:
        """The keys of ``partitions`` whose stored bytes ``keep`` accepts (a view of them, not a
        copy: it reads a prefix), each with its partition and next due instant, as the store's
        iteration finds them. A RocksDB store's iteration reads a snapshot, so writes may come
        between two keys; a memory store's raises RuntimeError if a key is added or removed
        meanwhile."""
        for key, value in self.table.items():
            (partition,) = _PARTITION.unpack_from(value)
            if partition in partitions:
                stored = memoryview(value)[_PARTITION.size :]
                if keep(stored):
                    yield Armed(partition, key.decode(), self.due_of(bytes(stored)))

    def armed(self) -> Iterator[Armed]:
        """Every key held, with its partition and next due instant, from the value prefixes."""
        for key, value in self.table.items():
            (partition,) = _PARTITION.unpack_from(value)
            yield Armed(partition, key.decode(), self.due_of(bytes(value[_PARTITION.size :])))
