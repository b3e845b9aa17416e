"""Reading topics up to their end offsets: "nothing more came" proven by offsets, not a sleep."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient


@asynccontextmanager
async def _assigned(bootstrap: str, topics: list[str]) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer outside any group, assigned every partition of ``topics``, from their first
    records (a seek to the beginning raced with the assignment's own reset to the latest)."""
    partitions = await _partitions(bootstrap, topics)
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        consumer.assign(partitions)
        yield consumer
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    """Every partition of ``topics``, once the broker describes them all (a topic created a
    moment ago can be described without its partitions for a while)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for attempt in range(40):
            described = {d["topic"]: d["partitions"] for d in await admin.describe_topics(topics)}
            if all(described.get(topic) for topic in topics):
                return [
                    TopicPartition(topic, p["partition"])
                    for topic in topics
                    for p in sorted(described[topic], key=lambda p: int(p["partition"]))
                ]
            await asyncio.sleep(0.05 * (attempt + 1))  # the broker's metadata, not a test's wait
    finally:
        await admin.close()
    raise AssertionError(f"the broker describes no partitions of some of {topics}")


async def read_to_end(bootstrap: str, topic: str) -> list[Any]:
    """Every record of ``topic`` from its first up to the end offsets it had when called, by
    partition, each partition's in offset order."""
    async with _assigned(bootstrap, [topic]) as consumer:
        partitions = sorted(consumer.assignment())
        ends = await consumer.end_offsets(partitions)
        records: dict[TopicPartition, list[Any]] = {tp: [] for tp in partitions}
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for tp, batch in (await consumer.getmany(timeout_ms=1000)).items():
                records[tp] += [record for record in batch if record.offset < ends[tp]]
        return [record for tp in partitions for record in records[tp]]


async def end_offsets(bootstrap: str, topics: list[str]) -> dict[TopicPartition, int]:
    """The end offset of every partition of those topics."""
    async with _assigned(bootstrap, topics) as consumer:
        return dict(await consumer.end_offsets(list(consumer.assignment())))


async def all_committed(bootstrap: str, group: str, topics: list[str]) -> bool | None:
    """True once ``group`` has committed every partition of ``topics`` up to its end: every
    record in them is handled, and what handling it produced is in Kafka (a worker acknowledges
    a batch only once its outputs are delivered, and commits only what it acknowledged)."""
    ends = await end_offsets(bootstrap, topics)
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    done = all((committed[tp].offset if tp in committed else 0) >= end for tp, end in ends.items())
    return True if done else None
