"""The faust-streaming worker: thin agents around the tracker, the timers and the read model.

- ``track`` consumes ``approval-events``, ``redline-ticks`` and ``redline-commands``
  (supervisors' ack / cancel; all co-partitioned) in batches, and hands each partition's share
  to the :class:`~streams.tracker.Tracker`. The tracker keeps every case's snapshot in the
  ``state`` table, whose changelog makes the state survive a crash. The agent then sends what
  the batch produced, as whole Kafka batches on the events' partition: the table's changelog
  records, dead letters, alert changes (``redline-alerts``) and case views (``redline-cases``),
  and writes the same views and alerts, with the feed health, into the Redis read model in one
  round trip. Writes are versioned, so redelivery never double counts.
- ``fire`` runs just after each whole second. It turns due instants into ticks on the case's
  own partition, so only the agent that owns a case ever changes it.
"""

from __future__ import annotations

import asyncio
import logging
import struct
import time
import weakref
from collections.abc import Iterator, Mapping, MutableMapping, Sequence
from contextlib import contextmanager
from typing import Any

import faust
from aiokafka import TopicPartition
from faust.streams import _current_event
from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread
from faust.transport.drivers.aiokafka import Consumer as FaustConsumer
from faust.types import TP
from redis.asyncio import Redis

from monitor.engine import Engine
from monitor.process import tune_gc
from monitor.readmodel import ReadModel, queue_records
from monitor.settings import Settings
from monitor.snapshot import next_change_of
from streams.timers import Timers, until_next_tick
from streams.tracker import Inbound, Outputs, Tracker

log = logging.getLogger(__name__)
# Messages are handled in batches: each case changed in a batch is stored, published and
# projected once, and Redis gets one round trip per batch. A batch ends when it is full or
# after BATCH_WAIT_S without it filling, which bounds the latency a batch adds.
BATCH = 1_000
BATCH_WAIT_S = 0.05
PRODUCER_BATCH_BYTES = 512 * 1024  # under the broker's default message.max.bytes (1 MiB)
_PARTITION = struct.Struct(">i")  # table values: the case's partition, then its snapshot


class TableStore(MutableMapping[str, bytes]):
    """The tracker's store on a faust table. Each value records the partition the case's events
    arrive on: integrators' partitioners differ (murmur2, CRC32…), so it cannot be recomputed
    from the key, and the timers need it to re-arm after a rebalance.

    A write goes to the table's local store at once, and its changelog record waits in
    ``changes`` for the agent to send with the rest of the batch (:meth:`take_changes`).
    faust's own ``table[key] = value`` sends one record per key through its producer buffer,
    with a callback per record that writes the persisted offset to RocksDB: about a tenth of
    a busy worker's time."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.partition = 0  # set by the agent before each message
        self.changes: dict[int, dict[bytes, bytes | None]] = {}  # partition -> key -> value

    def __getitem__(self, case_id: str) -> bytes:
        value = self.table[case_id.encode()]
        if value is None:
            raise KeyError(case_id)
        return bytes(value[_PARTITION.size :])

    def __setitem__(self, case_id: str, snapshot: bytes) -> None:
        key, value = case_id.encode(), _PARTITION.pack(self.partition) + snapshot
        self.table.data[key] = value
        self.changes.setdefault(self.partition, {})[key] = value

    def __delitem__(self, case_id: str) -> None:
        key = case_id.encode()
        del self.table.data[key]
        self.changes.setdefault(self.partition, {})[key] = None  # a tombstone

    def take_changes(self) -> dict[int, dict[bytes, bytes | None]]:
        """The changelog records written since the last call, by partition."""
        changes, self.changes = self.changes, {}
        return changes

    def __iter__(self) -> Iterator[str]:
        return (key.decode() for key in self.table)

    def __len__(self) -> int:
        return len(self.table)

    def armed(self) -> Iterator[tuple[int, str, int | None]]:
        """(partition, case id, next change) of every case held, from the value prefixes."""
        for key, value in self.table.items():
            (partition,) = _PARTITION.unpack_from(value)
            yield partition, key.decode(), next_change_of(bytes(value[_PARTITION.size :]))


class _ConsumerThread(AIOKafkaConsumerThread):
    """faust's consumer thread, with one fix: after a rebalance, a stream partition that the
    group never committed is read from its beginning.

    faust seeks the stream partitions "to their committed offsets" after each rebalance, and
    aiokafka's ``seek_to_committed`` leaves a partition without a committed offset where the
    fetcher happens to be. Records fetched between the assignment and that seek are dropped
    with the flow-control queues, so on a new group (the first minutes of a deployment, when
    two workers start together and events arrive during their first rebalances) they were
    lost for good: the fetch position was already past them."""

    async def seek_to_committed(self) -> Mapping[Any, int]:
        return await self.call_thread(self._seek_to_committed_or_beginning)  # type: ignore[no-any-return]

    async def _seek_to_committed_or_beginning(self) -> Mapping[TopicPartition, int]:
        consumer = self._ensure_consumer()
        committed: Mapping[TopicPartition, int] = await consumer.seek_to_committed()
        changelogs = self.app.tables.changelog_topics  # recovery positions those itself
        fresh = [
            tp for tp, offset in committed.items() if not offset and tp.topic not in changelogs
        ]
        if fresh:
            await consumer.seek_to_beginning(*fresh)
        return committed


class _Consumer(FaustConsumer):
    def _new_consumer_thread(self) -> _ConsumerThread:
        return _ConsumerThread(self, loop=self.loop, beacon=self.beacon)


def by_partition(events: Sequence[Any]) -> dict[int, list[Any]]:
    """Events of a batch grouped by partition, each group in its original order."""
    groups: dict[int, list[Any]] = {}
    for event in events:
        groups.setdefault(event.message.partition, []).append(event)
    return groups


@contextmanager
def writing_for(event: Any) -> Iterator[None]:
    """Table writes inside go to ``event``'s partition: faust's RocksDB store picks the
    partition's database by the *current* event, which in a batch would be its last one."""
    token = _current_event.set(weakref.ref(event))
    try:
        yield
    finally:
        _current_event.reset(token)


def create_app(settings: Settings) -> faust.App:
    """The worker app for these settings (topics must exist: ``streams.topics.ensure_topics``)."""
    tune_gc()
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        producer_acks=-1,
        # the outputs of a batch go out as whole Kafka batches (see publish below)
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.session_timeout_s / 4,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,  # metrics come with their own endpoint (metrics issue)
    )

    rebalance_ended = app.on_rebalance_end

    def on_rebalance_end() -> None:
        """faust's recovery seeks the stream partitions, then resumes their flow, which clears
        its stream queues: a record fetched between the seek and the clear was dropped while
        the fetch position was already past it (a canary produced as a worker started was
        lost in 4 of 6 starts). So once the rebalance has ended, seek again: the records since
        the committed offsets are read once more (at least once; the engine drops repeats)."""
        rebalance_ended()
        seek = asyncio.ensure_future(seek_again())
        pending.add(seek)
        seek.add_done_callback(pending.discard)

    async def seek_again() -> None:
        try:
            await app.consumer.perform_seek()
        except Exception as exc:  # a new rebalance took the partitions: it seeks itself
            log.info("no seek after the rebalance: %r", exc)

    pending: set[asyncio.Future[None]] = set()
    app.on_rebalance_end = on_rebalance_end  # type: ignore[method-assign]
    # before the consumer exists (it is created lazily); faust types Consumer as a ClassVar
    app.transport.Consumer = _Consumer  # type: ignore[misc]

    def raw_topic(*names: str) -> Any:
        return app.topic(*names, key_serializer="raw", value_serializer="raw")

    inbound = raw_topic(settings.events_topic, settings.ticks_topic, settings.commands_topic)
    ticks = raw_topic(settings.ticks_topic)
    # case id -> partition + snapshot; its changelog is what survives a crash
    table = app.Table("state", partitions=settings.partitions, key_type=bytes, value_type=bytes)

    store = TableStore(table)
    tracker = Tracker(Engine(settings.config_files().load()), store, settings.cached_cases)
    timers = Timers()
    read_model = ReadModel(Redis.from_url(settings.redis_url), settings.read_model_prefix)

    changelog = table.changelog_topic.get_topic_name()

    async def send(outputs: Sequence[tuple[int, Outputs]]) -> None:
        """Publish a batch's outputs (each partition's share to its partition) and its table
        changes, and write the read model in one Redis round trip; return once Kafka has them
        all and Redis is written: the batch's events are acknowledged only after that."""
        delivered: list[tuple[asyncio.Future[Any], int]] = []
        for partition, out in outputs:
            dead = [(letter.key, letter.value) for letter in out.dead]
            headers = [letter.headers() for letter in out.dead]
            delivered += await publish(settings.dlq_topic, partition, dead, headers)
            delivered += await publish(settings.alerts_topic, partition, out.alerts)
            delivered += await publish(settings.cases_topic, partition, out.cases)
            for case_id, due in out.arm:
                timers.arm(partition, case_id, due)
        persisted = [
            (partition, await publish(changelog, partition, list(changes.items())))
            for partition, changes in store.take_changes().items()
        ]
        # the read model is written here rather than by consuming redline-cases and
        # redline-alerts back: that cost a second pass through faust for every change (those
        # topics stay, for rebuilds and consumers)
        async with read_model.batch() as batched:
            for _, out in outputs:
                await queue_records(batched, out.records)
            await batched.record_events(record for _, out in outputs for record in out.feed)
        await asyncio.gather(*(future for future, _ in delivered))
        data: Any = table.data  # the store: RocksDB or memory
        for partition, batches in persisted:
            # what faust's per-record callback does: the local store now holds the changelog
            # up to this offset, so a restart reads the changelog only from there
            future, count = batches[-1]
            last = future.result().offset + count - 1
            data.set_persisted_offset(TP(changelog, partition), last)

    async def publish(
        topic: str,
        partition: int,
        records: Sequence[tuple[bytes | None, bytes | None]],
        headers: Sequence[list[tuple[str, bytes]]] = (),
    ) -> list[tuple[asyncio.Future[Any], int]]:
        """Records to one partition as whole batches: faust's ``Topic.send`` costs a future and
        a callback per record. Every output goes to the partition of the events that made it:
        the topics are co-partitioned, so a case's views, alerts and dead letters all share its
        partition number, in order. Returns each batch's delivery future (its result carries
        the batch's first offset) and its number of records."""
        if not records:
            return []
        producer = app.producer._ensure_producer()  # type: ignore[attr-defined]
        sent: list[tuple[asyncio.Future[Any], int]] = []
        batch, count = producer.create_batch(), 0
        for index, (key, value) in enumerate(records):
            extra = headers[index] if headers else []
            if batch.append(key=key, value=value, timestamp=None, headers=extra) is None:
                sent.append((await producer.send_batch(batch, topic, partition=partition), count))
                batch, count = producer.create_batch(), 0
                batch.append(key=key, value=value, timestamp=None, headers=extra)  # a first
                # record always fits (an event at the 1 MiB limit, as a dead letter)
            count += 1
        sent.append((await producer.send_batch(batch, topic, partition=partition), count))
        return sent

    topics = {
        settings.events_topic: Inbound.EVENT,
        settings.ticks_topic: Inbound.TICK,
        settings.commands_topic: Inbound.COMMAND,
    }

    handled_upto: dict[int, int] = {}  # events partition -> the highest offset handled here

    def inbound_of(message: Any) -> Inbound:
        kind = topics[message.topic]
        if kind is Inbound.EVENT:
            if message.offset <= handled_upto.get(message.partition, -1):
                return Inbound.EVENT_AGAIN
            handled_upto[message.partition] = message.offset
        return kind

    @app.agent(inbound)
    async def track(stream: Any) -> None:
        async for events in stream.take_events(BATCH, within=BATCH_WAIT_S):
            arrived_at = int(time.time())
            outputs = []
            for partition, group in by_partition(events).items():
                store.partition = partition
                messages = [(inbound_of(e.message), e.message.key, e.message.value) for e in group]
                with writing_for(group[-1]):
                    outputs.append((partition, tracker.on_batch(messages, arrived_at)))
            await send(outputs)

    @app.task  # type: ignore[untyped-decorator]
    async def fire() -> None:
        """Once a second, just after the second turns: the cases due are sent a tick each."""
        while True:
            await asyncio.sleep(until_next_tick(time.time()))
            for partition, case_id, due in timers.pop_due(int(time.time())):
                await ticks.send(key=case_id.encode(), value=str(due).encode(), partition=partition)

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # faust types it too narrowly
    async def rearm(sender: Any, *_: Any, **__: Any) -> None:
        """Rebuild the timers of the partitions this worker now owns, from the table."""
        owned = {
            tp.partition
            for tp in app.assignor.assigned_actives()
            if tp.topic == settings.events_topic
        }
        timers.revoke(timers.owned() - owned)
        tracker.forget_all()  # another worker may have changed them meanwhile: reload
        for partition, case_id, due in store.armed():
            if partition in owned:
                timers.arm(partition, case_id, due)

    return app
