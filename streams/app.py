"""The faust-streaming worker: thin agents around the tracker, the timers and the read model.

- ``track`` consumes ``approval-events``, ``redline-ticks`` and ``redline-commands``
  (supervisors' ack / cancel; all co-partitioned) and hands each
  message to the :class:`~streams.tracker.Tracker`. The tracker keeps every case's snapshot in
  the ``cases`` table, whose changelog makes the state survive a crash. The agent then sends
  what the tracker returns: dead letters, alert changes and case views.
- ``fire`` runs every second. It turns due instants into ticks on the case's own partition, so
  only the agent that owns a case ever changes it.
- ``project`` consumes ``redline-cases`` and ``redline-alerts`` into the Redis read model.
  Writes are versioned, so redelivery never double counts.
"""

from __future__ import annotations

import logging
import struct
import time
from collections.abc import Iterator, MutableMapping
from typing import Any

import faust
from redis.asyncio import Redis

from monitor.engine import Engine
from monitor.process import tune_gc
from monitor.settings import Settings
from monitor.snapshot import next_change_of
from streams.readmodel import ReadModel, project_record
from streams.timers import Timers
from streams.tracker import Outputs, Tracker

log = logging.getLogger(__name__)
TICK_S = 1.0
UNKNOWN_SOURCE = "(unknown)"  # feed health of refused events whose JSON names no source
_PARTITION = struct.Struct(">i")  # table values: the case's partition, then its snapshot


class TableStore(MutableMapping[str, bytes]):
    """The tracker's store on a faust table. Each value records the partition the case's events
    arrive on: integrators' partitioners differ (murmur2, CRC32…), so it cannot be recomputed
    from the key, and the timers need it to re-arm after a rebalance."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.partition = 0  # set by the agent before each message

    def __getitem__(self, case_id: str) -> bytes:
        value = self.table[case_id.encode()]
        if value is None:
            raise KeyError(case_id)
        return bytes(value[_PARTITION.size :])

    def __setitem__(self, case_id: str, snapshot: bytes) -> None:
        self.table[case_id.encode()] = _PARTITION.pack(self.partition) + snapshot

    def __delitem__(self, case_id: str) -> None:
        del self.table[case_id.encode()]

    def __iter__(self) -> Iterator[str]:
        return (key.decode() for key in self.table)

    def __len__(self) -> int:
        return len(self.table)

    def armed(self) -> Iterator[tuple[int, str, int | None]]:
        """(partition, case id, next change) of every case held, from the value prefixes."""
        for key, value in self.table.items():
            (partition,) = _PARTITION.unpack_from(value)
            yield partition, key.decode(), next_change_of(bytes(value[_PARTITION.size :]))


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
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.session_timeout_s / 4,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,  # metrics come with their own endpoint (metrics issue)
    )

    def raw_topic(*names: str) -> Any:
        return app.topic(*names, key_serializer="raw", value_serializer="raw")

    inbound = raw_topic(settings.events_topic, settings.ticks_topic, settings.commands_topic)
    ticks = raw_topic(settings.ticks_topic)
    dlq = raw_topic(settings.dlq_topic)
    alerts = raw_topic(settings.alerts_topic)
    cases = raw_topic(settings.cases_topic)
    projections = raw_topic(settings.cases_topic, settings.alerts_topic)
    # case id -> partition + snapshot; its changelog is what survives a crash
    table = app.Table("state", partitions=settings.partitions, key_type=bytes, value_type=bytes)

    store = TableStore(table)
    tracker = Tracker(Engine(settings.config_files().load()), store)
    timers = Timers()
    read_model = ReadModel(Redis.from_url(settings.redis_url), settings.read_model_prefix)

    async def send(out: Outputs, partition: int) -> None:
        for dead in out.dead:
            await dlq.send(
                key=dead.key, value=dead.value, headers=dead.headers(), partition=partition
            )
        for key, value in out.alerts:
            await alerts.send(key=key, value=value)
        for key, value in out.cases:
            await cases.send(key=key, value=value)
        for case_id, due in out.arm:
            timers.arm(partition, case_id, due)
        for record in out.feed:
            await read_model.record_event(
                record.source or UNKNOWN_SOURCE,
                record.occurred_at,
                record.arrived_at,
                record.outcome,
                record.reason,
                record.unknown_center,
            )

    @app.agent(inbound)
    async def track(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            store.partition = message.partition
            if message.topic == settings.ticks_topic:
                try:
                    case_id, due = message.key.decode(), int(message.value)
                except (AttributeError, UnicodeDecodeError, ValueError):
                    log.warning(
                        "ignored a malformed tick: key=%r value=%r", message.key, message.value
                    )
                    continue
                out = tracker.on_tick(case_id, due)
            elif message.topic == settings.commands_topic:
                out = tracker.on_command(message.key, message.value)
            else:
                out = tracker.on_event(message.key, message.value, int(time.time()))
            await send(out, message.partition)

    # Once a second. A quarter of a second cut the deadline-to-red p99 from 1.5 s to 0.45 s
    # (BENCHMARKS.md), but coincided with partitions left unconsumed after a rebalance of two
    # workers starting together; until that is understood, the interval stays at 1 s.
    @app.timer(interval=TICK_S)  # type: ignore[untyped-decorator]
    async def fire() -> None:
        for partition, case_id, due in timers.pop_due(int(time.time())):
            await ticks.send(key=case_id.encode(), value=str(due).encode(), partition=partition)

    @app.agent(projections)
    async def project(stream: Any) -> None:
        async for event in stream.events():
            message = event.message
            await project_record(read_model, message.topic == settings.cases_topic, message.value)

    @app.on_rebalance_complete.connect  # type: ignore[arg-type]  # faust types it too narrowly
    async def rearm(sender: Any, *_: Any, **__: Any) -> None:
        """Rebuild the timers of the partitions this worker now owns, from the table."""
        owned = {
            tp.partition
            for tp in app.assignor.assigned_actives()
            if tp.topic == settings.events_topic
        }
        timers.revoke(timers.owned() - owned)
        tracker.engine.forget()  # another worker may have changed them meanwhile: reload
        for partition, case_id, due in store.armed():
            if partition in owned:
                timers.arm(partition, case_id, due)

    return app
