"""The batch publisher on the real Kafka: one partition, whole batches, offsets in the futures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from faust.types import TP

from bench.runs import isolated_settings
from monitor.settings import Settings
from streams.kit.publisher import BatchPublisher, Delivery, TableChangelog
from streams.topics import ensure_topics
from tests.streams.topicends import read_to_end

pytestmark = pytest.mark.integration
BATCH_BYTES = 16 * 1024


@pytest.fixture
async def settings(kafka_bootstrap: str, redis_url: str, tmp_path: Path) -> Settings:
    settings = isolated_settings(kafka_bootstrap, redis_url, tmp_path)
    await ensure_topics(settings)
    return settings


@pytest.fixture
async def producer(kafka_bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(
        bootstrap_servers=kafka_bootstrap, acks="all", max_batch_size=BATCH_BYTES
    )
    await producer.start()
    yield producer
    await producer.stop()


async def delivered(deliveries: list[Delivery]) -> list[Any]:
    return list(await asyncio.gather(*(delivery.future for delivery in deliveries)))


async def test_records_land_on_the_partition_given_in_order_with_their_headers(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    publisher = BatchPublisher(lambda: producer)
    records = [(f"K{n}".encode(), f"value {n}".encode()) for n in range(5)]
    headers = [[("n", str(n).encode())] for n in range(5)]
    deliveries = await publisher.publish(settings.cases_topic, 2, records, headers)
    assert [d.records for d in deliveries] == [5]  # one batch
    await delivered(deliveries)
    found = await read_to_end(settings.kafka_bootstrap, settings.cases_topic)
    assert {m.partition for m in found} == {2}
    assert [(m.key, m.value) for m in found] == records
    assert [list(m.headers) for m in found] == headers
    assert await publisher.publish(settings.cases_topic, 2, []) == []  # nothing, no batch


async def test_batches_split_at_the_byte_limit_and_carry_their_offsets(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    publisher = BatchPublisher(lambda: producer)
    records = [(f"K{n:02d}".encode(), bytes([n]) * 1_000) for n in range(40)]  # ~40 kB
    deliveries = await publisher.publish(settings.alerts_topic, 1, records)
    assert len(deliveries) >= 3 and sum(d.records for d in deliveries) == 40
    await delivered(deliveries)
    first = 0
    for delivery in deliveries:  # the topic was empty: batch after batch, offset after offset
        assert delivery.future.result().offset == first
        assert delivery.last_offset() == first + delivery.records - 1
        first += delivery.records
    found = await read_to_end(settings.kafka_bootstrap, settings.alerts_topic)
    assert [(m.partition, m.offset, m.key) for m in found] == [
        (1, n, key) for n, (key, _) in enumerate(records)
    ]


async def test_a_record_over_the_limit_still_goes_in_a_batch_of_its_own(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    publisher = BatchPublisher(lambda: producer)
    big = b"x" * (BATCH_BYTES + 1_000)
    records = [(b"small", b"1"), (b"big", big), (b"after", b"2")]
    deliveries = await publisher.publish(settings.dlq_topic, 0, records)
    assert [d.records for d in deliveries] == [1, 1, 1]
    await delivered(deliveries)
    found = await read_to_end(settings.kafka_bootstrap, settings.dlq_topic)
    assert [m.value for m in found] == [b"1", big, b"2"]


class FakeTable:
    """A faust table as far as the changelog reads it: its topic's name, its store."""

    def __init__(self, topic: str) -> None:
        self.changelog_topic = self
        self.topic = topic
        self.data = self
        self.persisted: dict[TP, int] = {}

    def get_topic_name(self) -> str:
        return self.topic

    def set_persisted_offset(self, tp: TP, offset: int) -> None:
        self.persisted[tp] = offset


async def test_changelog_records_go_to_their_partitions_and_the_persisted_offsets_follow(
    settings: Settings, producer: AIOKafkaProducer
) -> None:
    topic = f"{settings.app_id}-state-changelog"
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=4, replication_factor=1)])
    finally:
        await admin.close()
    table = FakeTable(topic)
    changelog = TableChangelog(BatchPublisher(lambda: producer), table)
    first = {0: {b"A": b"a1"}, 3: {b"B": b"b1", b"C": None}}
    sent = await changelog.publish(first)
    await delivered([delivery for deliveries in sent.values() for delivery in deliveries])
    changelog.mark_persisted(sent)
    assert table.persisted == {TP(topic, 0): 0, TP(topic, 3): 1}
    sent = await changelog.publish({3: {b"B": b"b2"}})
    await delivered(sent[3])
    changelog.mark_persisted(sent)
    assert table.persisted[TP(topic, 3)] == 2  # the last record's offset, not the next one's
    found = await read_to_end(settings.kafka_bootstrap, topic)
    assert [(m.partition, m.key, m.value) for m in found] == [
        (0, b"A", b"a1"),
        (3, b"B", b"b1"),
        (3, b"C", None),
        (3, b"B", b"b2"),
    ]
