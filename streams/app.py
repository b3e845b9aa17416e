"""The faust-streaming worker: thin agents around the tracker, the timers and the read model.

``create_app`` assembles the worker from the kit (``streams/kit/``) and its own agent:

- ``track`` consumes ``approval-events``, ``redline-ticks`` and ``redline-commands``
  (supervisors' ack / cancel; all co-partitioned) in batches, and hands each partition's share
  to the :class:`~streams.tracker.Tracker`. The tracker keeps every case's snapshot in the
  ``state`` table (a :class:`~streams.kit.tablestore.TableStore`), whose changelog makes the
  state survive a crash. The agent then sends what the batch produced, as whole Kafka batches
  on the events' partition (:class:`~streams.kit.publisher.BatchPublisher`): the table's
  changelog records, dead letters, alert changes (``redline-alerts``) and case views
  (``redline-cases``), and writes the same views and alerts, with the feed health, into the
  Redis read model in one round trip. Writes are versioned, so redelivery never double counts.
  A Redis that is away holds the batch (retried with backoff, never acknowledged unwritten);
  one that came back without its data is rebuilt from Kafka by the
  :class:`~streams.rebuild.ReadModelGuard` task, with no operator.
- a :class:`~streams.kit.ticker.Ticker` runs just after each whole second. It turns due
  instants into ticks on the case's own partition, so only the agent that owns a case ever
  changes it. After each rebalance the timers are re-armed from the table
  (:mod:`streams.kit.rebalance`, which also holds the seek fixes the worker installs).
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Sequence
from typing import Any

import faust
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

from monitor.configlink import ConfigFollower
from monitor.configrecord import ConfigRecord, ConfigSet
from monitor.engine import Engine
from monitor.gctuning import tune_gc
from monitor.readmodel import KnownCodes, ReadModel, queue_records
from monitor.redisclient import connect
from monitor.retry import Backoff, attempts
from monitor.settings import Settings
from monitor.snapshot import next_change_of
from streams.kit.batches import by_partition, writing_for
from streams.kit.handled import HandledEvents
from streams.kit.publisher import BatchPublisher, Delivery, TableChangelog
from streams.kit.rebalance import install_seek_fixes, owned_partitions, rearm_after_rebalance
from streams.kit.tablestore import TableStore
from streams.kit.ticker import Ticker
from streams.kit.timers import Timers
from streams.liveconfig import LiveConfig
from streams.rebuild import ReadModelGuard
from streams.tracker import Inbound, Outputs, Tracker

log = logging.getLogger(__name__)

# Messages are handled in batches: each case changed in a batch is stored, published and
# projected once, and Redis gets one round trip per batch. A batch ends when it is full or
# after BATCH_WAIT_S without it filling, which bounds the latency a batch adds.
BATCH = 1_000
BATCH_WAIT_S = 0.05
PRODUCER_BATCH_BYTES = 512 * 1024  # under the broker's default message.max.bytes (1 MiB)
# A Redis that hangs (frozen, a network cut) fails a write after this long rather than never,
# and the write is tried again after a wait of up to REDIS_BACKOFF's cap.
REDIS_TIMEOUT_S = 10.0
REDIS_BACKOFF = Backoff(base=0.2, cap=5.0)
# worth waiting for; NoScriptError: Redis restarted empty between a pipeline's script check
# and its commands (the next attempt loads the scripts again)
REDIS_AWAY = (RedisConnectionError, RedisTimeoutError, NoScriptError, OSError)
HANDLED_WAIT_S = 2.0  # a rebalance waits this long at most for the handled offsets
AGENT_FAILED = 70  # the worker's exit status when its agent failed (EX_SOFTWARE)


def create_app(settings: Settings, running: ConfigRecord | None = None) -> faust.App:
    """The worker app for these settings (topics must exist: ``streams.topics.ensure_topics``),
    running the configuration ``running`` (``monitor.configlink.running``: the newest on the
    topic) and following the topic from there; without one, the files the settings point at,
    as version 0 (tests, benchmarks), switched to the topic's newest once it is read."""
    tune_gc()
    app = faust.App(
        settings.app_id,
        broker=f"kafka://{settings.kafka_bootstrap}",
        store="rocksdb://" if settings.store == "rocksdb" else "memory://",
        datadir=str(settings.data_dir),
        topic_partitions=settings.partitions,
        topic_replication_factor=settings.replication,
        producer_acks=-1,
        # the outputs of a batch go out as whole Kafka batches (streams.kit.publisher)
        producer_max_batch_size=PRODUCER_BATCH_BYTES,
        broker_session_timeout=settings.session_timeout_s,
        broker_heartbeat_interval=settings.session_timeout_s / 4,
        consumer_auto_offset_reset="earliest",
        web_enabled=False,  # metrics come with their own endpoint (metrics issue)
    )
    install_seek_fixes(app)

    def raw_topic(*names: str) -> Any:
        return app.topic(*names, key_serializer="raw", value_serializer="raw")

    inbound = raw_topic(settings.events_topic, settings.ticks_topic, settings.commands_topic)
    ticks = raw_topic(settings.ticks_topic)
    # case id -> partition + snapshot; its changelog is what survives a crash
    table = app.Table("state", partitions=settings.partitions, key_type=bytes, value_type=bytes)

    store = TableStore(table, next_change_of)
    if running is None:
        running = ConfigRecord(ConfigSet.read(settings.config_files()), "(files)", 0, "files")
    config = running.files.load()
    tracker = Tracker(Engine(config), store, settings.cached_cases)
    timers = Timers()
    redis = connect(settings.redis_url, REDIS_TIMEOUT_S)
    read_model = ReadModel(redis, settings.read_model_prefix, known=KnownCodes.of(config))
    publisher = BatchPublisher.of(app)
    changelog = TableChangelog(publisher, table)
    publish = publisher.publish

    async def send(outputs: Sequence[tuple[int, Outputs]]) -> None:
        """Publish a batch's outputs (each partition's share to its partition) and its table
        changes, and write the read model in one Redis round trip; return once Kafka has them
        all and Redis is written: the batch's events are acknowledged only after that."""
        delivered: list[Delivery] = []
        for partition, out in outputs:
            dead = [(letter.key, letter.value) for letter in out.dead]
            headers = [letter.headers() for letter in out.dead]
            delivered += await publish(settings.dlq_topic, partition, dead, headers)
            delivered += await publish(settings.alerts_topic, partition, out.alerts)
            delivered += await publish(settings.cases_topic, partition, out.cases)
            delivered += await publish(settings.audit_topic, partition, out.audit)
            for case_id, due in out.arm:
                timers.arm(partition, case_id, due)
        persisted = await changelog.publish(store.take_changes())
        # the read model is written here rather than by consuming redline-cases and
        # redline-alerts back: that cost a second pass through faust for every change (those
        # topics stay, for rebuilds and consumers)
        await write_read_model(outputs)
        for deliveries in persisted.values():
            delivered += deliveries
        await asyncio.gather(*(delivery.future for delivery in delivered))
        changelog.mark_persisted(persisted)
        await mark_handled(handled.take_batch())  # after the dead letters are confirmed

    async def mark_handled(offsets: dict[int, int]) -> None:
        """Best effort: a worker that cannot store them only risks counting those events
        again, should another take their partitions before the next batch stores more."""
        try:
            await read_model.mark_handled(offsets)
        except REDIS_AWAY as exc:
            log.info("handled offsets not stored (%s); the next batch stores them", exc)

    async def write_read_model(outputs: Sequence[tuple[int, Outputs]]) -> None:
        """The batch's records and feed health into Redis, however long Redis is away: the
        batch is acknowledged only after this (every write is versioned or counted once per
        batch, so writing the whole batch again is safe)."""
        async for attempt in attempts(REDIS_BACKOFF):
            try:
                async with read_model.batch() as batched:
                    for _, out in outputs:
                        await queue_records(batched, out.records)
                    await batched.record_events(record for _, out in outputs for record in out.feed)
            except REDIS_AWAY as exc:
                if attempt.number == 0:
                    log.warning("Redis is away (%s): holding the batch until it is back", exc)
                continue
            if attempt.number > 0:
                log.warning("Redis is back: the batch held %d attempts is written", attempt.number)
            return

    topics = {
        settings.events_topic: Inbound.EVENT,
        settings.ticks_topic: Inbound.TICK,
        settings.commands_topic: Inbound.COMMAND,
    }

    handled = HandledEvents()  # events already answered for, here or by a worker before

    def inbound_of(message: Any) -> Inbound:
        kind = topics[message.topic]
        if kind is Inbound.EVENT and handled.seen(message.partition, message.offset):
            return Inbound.EVENT_AGAIN
        return kind

    live = LiveConfig(
        running,
        tracker,
        store,
        read_model,
        send,
        lambda: owned_partitions(app, settings.events_topic),
        settings.recompute_share,
    )

    @app.agent(inbound)
    async def track(stream: Any) -> None:
        try:
            async for events in stream.take_events(BATCH, within=BATCH_WAIT_S):
                async with live.lock:  # a configuration switch or a recompute turn waits
                    arrived_at = int(time.time())
                    outputs = []
                    for partition, group in by_partition(events).items():
                        store.partition = partition
                        messages = [
                            (inbound_of(e.message), e.message.key, e.message.value) for e in group
                        ]
                        with writing_for(group[-1]):
                            outputs.append((partition, tracker.on_batch(messages, arrived_at)))
                    await send(outputs)
        except Exception:
            # Nothing here expects it (Redis and Kafka being away are waited for): faust would
            # start the agent again past the batch it held, which then waits, unapplied, for the
            # next restart, while the worker looks alive. Crash instead, as a kill -9 would: the
            # batch was never committed, so whoever takes the partitions reads it again.
            log.critical("the worker's agent failed; the worker exits", exc_info=True)
            logging.shutdown()
            os._exit(AGENT_FAILED)

    async def send_tick(partition: int, case_id: str, due: int) -> None:
        """A case due: a tick on its own partition, so only the agent that owns it changes it."""
        await ticks.send(key=case_id.encode(), value=str(due).encode(), partition=partition)

    app.task(Ticker(timers, send_tick).run)
    app.task(ReadModelGuard(settings, read_model).run)
    app.task(ConfigFollower(settings, running, live.switch).run)
    app.task(live.keep_reporting)
    # after each rebalance: the timers of the partitions now owned, from the table; the
    # tracker's cached cases are reloaded (another worker may have changed them meanwhile)
    rearm_after_rebalance(app, settings.events_topic, timers, store, forget=tracker.forget_all)

    async def adopt_handled(sender: Any, *_: Any, **__: Any) -> None:
        """Before the streams resume: what the partitions' earlier owners answered for."""
        owned = owned_partitions(app, settings.events_topic)
        try:
            async with asyncio.timeout(HANDLED_WAIT_S):
                handled.adopt(await read_model.handled_upto(owned))
        except (*REDIS_AWAY, TimeoutError) as exc:
            log.warning("handled offsets not read (%s): some events may count twice", exc)

    app.on_rebalance_complete.connect(adopt_handled)  # type: ignore[arg-type]

    async def recompute_owned(sender: Any, *_: Any, **__: Any) -> None:
        """The partitions now owned whose cases were counted under an older configuration."""
        live.start()

    app.on_rebalance_complete.connect(recompute_owned)  # type: ignore[arg-type]
    return app
