"""Records to one partition as whole Kafka batches, and a table's changelog sent the same way.

faust's ``Topic.send`` costs a future and a callback per record; :class:`BatchPublisher` hands
the producer whole batches instead and returns one :class:`Delivery` per batch. An agent sends
everything a batch of its input produced, then awaits the deliveries, and only then lets faust
acknowledge the input: a crash before that reads the input again (at least once).

:class:`TableChangelog` sends the changelog records that a
:class:`~streams.kit.tablestore.TableStore` collected, and once they are delivered records the
table's persisted offsets, as faust's per-record callback would have.

Use: ``publisher = BatchPublisher.of(app)`` (the app's ``producer_max_batch_size`` bounds a
batch), ``changelog = TableChangelog(publisher, table)``; per batch of input,
``await publisher.publish(topic, partition, records)`` for each output,
``sent = await changelog.publish(store.take_changes())``, await every delivery's ``future``,
then ``changelog.mark_persisted(sent)``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from typing import Any, NamedTuple

import faust
from aiokafka import AIOKafkaProducer
from faust.types import TP

Record = tuple[bytes | None, bytes | None]  # key, value (None: a tombstone)
Headers = list[tuple[str, bytes]]


class Delivery(NamedTuple):
    """One batch sent: its delivery future (the result carries the batch's first offset) and
    its number of records."""

    future: asyncio.Future[Any]
    records: int

    def last_offset(self) -> int:
        """The offset of the batch's last record, once delivered."""
        return int(self.future.result().offset) + self.records - 1


class BatchPublisher:
    """Records to one partition as whole batches, on the producer ``producer()`` returns (it
    is asked at each publish: faust starts its producer after the app is built)."""

    def __init__(self, producer: Callable[[], AIOKafkaProducer]) -> None:
        self._producer = producer

    @classmethod
    def of(cls, app: faust.App) -> BatchPublisher:
        """A publisher on the app's own producer."""
        return cls(lambda: app.producer._ensure_producer())  # type: ignore[attr-defined]

    async def publish(
        self,
        topic: str,
        partition: int,
        records: Sequence[Record],
        headers: Sequence[Headers] = (),
    ) -> list[Delivery]:
        """Records to one partition as whole batches: faust's ``Topic.send`` costs a future and
        a callback per record. Every output goes to the partition of the events that made it:
        the topics are co-partitioned, so a case's views, alerts and dead letters all share its
        partition number, in order. Returns each batch's delivery (``headers``: one list per
        record, or none at all)."""
        if not records:
            return []
        producer = self._producer()
        sent: list[Delivery] = []
        batch, count = producer.create_batch(), 0
        for index, (key, value) in enumerate(records):
            extra = headers[index] if headers else []
            if batch.append(key=key, value=value, timestamp=None, headers=extra) is None:
                future = await producer.send_batch(batch, topic, partition=partition)
                sent.append(Delivery(future, count))
                batch, count = producer.create_batch(), 0
                batch.append(key=key, value=value, timestamp=None, headers=extra)  # a first
                # record always fits (an event at the 1 MiB limit, as a dead letter)
            count += 1
        sent.append(Delivery(await producer.send_batch(batch, topic, partition=partition), count))
        return sent


class TableChangelog:
    """A faust table's changelog records, published as whole batches, and the persisted
    offsets of its local store kept as faust keeps them."""

    def __init__(self, publisher: BatchPublisher, table: Any) -> None:
        self.publisher = publisher
        self.table = table
        self.topic: str = table.changelog_topic.get_topic_name()

    async def publish(
        self, changes: Mapping[int, Mapping[bytes, bytes | None]]
    ) -> dict[int, list[Delivery]]:
        """Each partition's changes (key -> value, None a tombstone) to its changelog
        partition; the deliveries by partition."""
        return {
            partition: await self.publisher.publish(self.topic, partition, list(records.items()))
            for partition, records in changes.items()
        }

    def mark_persisted(self, sent: Mapping[int, Sequence[Delivery]]) -> None:
        """Once ``sent`` is delivered: what faust's per-record callback does. The local store
        now holds the changelog up to these offsets, so a restart reads the changelog only from
        there."""
        data: Any = self.table.data  # the store: RocksDB or memory
        for partition, deliveries in sent.items():
            data.set_persisted_offset(TP(self.topic, partition), deliveries[-1].last_offset())
