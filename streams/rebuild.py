"""The Redis read model made whole from Kafka: by hand (`redline rebuild-readmodel`), and by the
workers themselves when Redis comes back without its data.

The cases, alerts and audit topics are compacted: they hold at least the latest view of every
case, the latest state of every alert and every decision applied. Reading them from the start
gives back what the workers built. Writes are versioned (audit entries are written once), so
workers projecting at the same time are harmless: the newest state wins either way, and a
rebuild on top of what the workers wrote since Redis came back needs no flush.

A loss is detected, not assumed: a rebuild leaves a marker in the read model (``built``). A
Redis that restarted empty has lost the marker with everything else; every worker's
:class:`ReadModelGuard` looks for it every few seconds, and the first to take the rebuild lock
rebuilds. Feed health (the per-source counts of events) is not on any topic: it starts again
from zero after such a loss (operator guide, "Redis lost its data").
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis
from redis.exceptions import RedisError

from monitor import configlink
from monitor.readmodel import KnownCodes, ReadModel, TopicRecord, project_records
from monitor.records import AlertRecord, AuditRecord, CaseRecord, RecordError
from monitor.settings import Settings

log = logging.getLogger(__name__)

LOCK_TTL_S = 30.0  # the rebuild lock lapses this long after its holder stopped extending it
GUARD_EVERY_S = 2.0  # how often a worker looks for the read model's marker


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What a rebuild did."""

    deleted_keys: int
    cases: int
    alerts: int
    audit: int
    seconds: float


async def rebuild_read_model(settings: Settings) -> Rebuilt:
    """Empty the read model and project the topics into it, up to their current ends (waits
    while a worker is rebuilding it)."""
    redis = Redis.from_url(settings.redis_url)
    # the codes of the running configuration, as the workers count them (the files on disk
    # only seed it)
    running = await configlink.newest(settings)
    config = running.files.load() if running else settings.config_files().load()
    known = KnownCodes.of(config)
    read_model = ReadModel(redis, settings.read_model_prefix, known=known)
    holder = _holder("rebuild-readmodel")
    try:
        while not await read_model.lock_rebuild(holder, LOCK_TTL_S):
            await asyncio.sleep(1.0)
        try:
            deleted = await read_model.flush()
            return await _project_topics(settings, read_model, holder, deleted)
        finally:
            await read_model.unlock_rebuild(holder)
    finally:
        await redis.aclose()


async def heal_read_model(settings: Settings, read_model: ReadModel) -> Rebuilt | None:
    """If the read model lacks its marker and no one else is rebuilding it, rebuild it from
    the topics without a flush; None when there was nothing to do."""
    if await read_model.is_built():
        return None
    holder = _holder("worker")
    if not await read_model.lock_rebuild(holder, LOCK_TTL_S):
        return None  # another worker (or the command) is at it
    try:
        if await read_model.is_built():  # made whole between the look and the lock
            return None
        log.warning("the read model has no marker (Redis lost its data?): rebuilding from Kafka")
        done = await _project_topics(settings, read_model, holder, deleted=0)
        log.warning(
            "read model rebuilt: %d case, %d alert and %d audit records in %.1f s",
            done.cases,
            done.alerts,
            done.audit,
            done.seconds,
        )
        return done
    finally:
        await read_model.unlock_rebuild(holder)


async def _project_topics(
    settings: Settings, read_model: ReadModel, holder: str, deleted: int
) -> Rebuilt:
    """Project the cases, alerts and audit topics from their starts to their ends as they are
    now, extending the lock as it goes; then mark the read model whole."""
    started = time.monotonic()
    decoders: dict[str, Callable[[bytes], TopicRecord]] = {
        settings.cases_topic: CaseRecord.decode,
        settings.alerts_topic: AlertRecord.decode,
        settings.audit_topic: AuditRecord.decode,
    }
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        partitions = [  # every topic has settings.partitions (ensure_topics checks it)
            TopicPartition(topic, partition)
            for topic in decoders
            for partition in range(settings.partitions)
        ]
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp, end in ends.items() if end > 0}
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        counts = dict.fromkeys(decoders, 0)
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            records: list[TopicRecord] = []
            for tp, messages in batches.items():
                decode = decoders[tp.topic]
                for message in messages:
                    try:
                        records.append(decode(message.value))
                    except RecordError as bad:  # not ours to stop on: say it and go on
                        log.error("skipped a record of %s: %s", tp, bad)
                counts[tp.topic] += len(messages)
            await project_records(read_model, records)  # one round trip per fetched batch
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
            await read_model.lock_rebuild(holder, LOCK_TTL_S)
        seconds = time.monotonic() - started
        await read_model.mark_built(
            f"rebuilt by {holder} at {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}"
        )
        return Rebuilt(
            deleted,
            counts[settings.cases_topic],
            counts[settings.alerts_topic],
            counts[settings.audit_topic],
            seconds,
        )
    finally:
        await consumer.stop()


class ReadModelGuard:
    """A worker's task: every ``every_s`` seconds, rebuild the read model if it lost its
    marker. Redis away is not its business (the batch writes wait for it): it tries again."""

    def __init__(
        self, settings: Settings, read_model: ReadModel, every_s: float = GUARD_EVERY_S
    ) -> None:
        self.settings = settings
        self.read_model = read_model
        self.every_s = every_s

    async def run(self) -> None:
        while True:
            try:
                await heal_read_model(self.settings, self.read_model)
            except (RedisError, OSError) as exc:
                log.info("read model guard: Redis not reachable (%s); looking again", exc)
            except Exception:  # a Kafka hiccup mid-rebuild: the marker is unset, so again
                log.exception("read model guard: the rebuild failed; trying again")
            await asyncio.sleep(self.every_s)


def _holder(kind: str) -> str:
    return f"{kind}@{socket.gethostname()}-{os.getpid()}"
