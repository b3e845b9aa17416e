"""Rebuild the Redis read model from Kafka (`redline rebuild-readmodel`).

The cases and alerts topics are compacted: they hold at least the latest view of every case
and the latest state of every alert. Reading them from the start into an empty read model
gives back what the workers built. Writes are versioned, so a worker projecting at the same
time is harmless: the newest state wins either way.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition
from redis.asyncio import Redis

from monitor.readmodel import KnownCodes, ReadModel, TopicRecord, project_records
from monitor.records import AlertRecord, CaseRecord
from monitor.settings import Settings


@dataclass(frozen=True, slots=True)
class Rebuilt:
    """What a rebuild did."""

    deleted_keys: int
    cases: int
    alerts: int


async def rebuild_read_model(settings: Settings) -> Rebuilt:
    """Empty the read model and project both topics into it, up to their current ends."""
    redis = Redis.from_url(settings.redis_url)
    known = KnownCodes.of(settings.config_files().load())  # as the workers count codes
    read_model = ReadModel(redis, settings.read_model_prefix, known=known)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap, enable_auto_commit=False, group_id=None
    )
    await consumer.start()
    try:
        deleted = await read_model.flush()
        partitions = [  # every topic has settings.partitions (ensure_topics checks it)
            TopicPartition(topic, partition)
            for topic in (settings.cases_topic, settings.alerts_topic)
            for partition in range(settings.partitions)
        ]
        ends = await consumer.end_offsets(partitions)
        pending = {tp for tp, end in ends.items() if end > 0}
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        counts = {settings.cases_topic: 0, settings.alerts_topic: 0}
        while pending:
            batches = await consumer.getmany(*pending, timeout_ms=1000)
            records: list[TopicRecord] = []
            for tp, messages in batches.items():
                if tp.topic == settings.cases_topic:
                    records += [CaseRecord.decode(message.value) for message in messages]
                else:
                    records += [AlertRecord.decode(message.value) for message in messages]
                counts[tp.topic] += len(messages)
            await project_records(read_model, records)  # one round trip per fetched batch
            pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
        return Rebuilt(deleted, counts[settings.cases_topic], counts[settings.alerts_topic])
    finally:
        await consumer.stop()
        await redis.aclose()
