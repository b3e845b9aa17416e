"""Records through a run's topics, for a benchmark or a test: one event as Kafka's key and
value, sent to the events topic, and a topic read from its first record."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from monitor.settings import Settings
from monitor.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
OPENING = {"center": "GZ-TIANHE", "item_code": "FOOD-LICENSE"}


def event(case_id: str, n: int, kind: str, at: int, **fields: Any) -> tuple[bytes, bytes]:
    """(key, value) of one event of a case, dated ``at`` (epoch seconds)."""
    body = {
        "event_id": f"{case_id}-{n}",
        "type": f"case.{kind}",
        "case_id": case_id,
        "occurred_at": SHANGHAI.format(at),
        "source": "win-e2e",
        **fields,
    }
    return case_id.encode(), json.dumps(body, ensure_ascii=False).encode()


async def produce(settings: Settings, *records: tuple[bytes, bytes]) -> None:
    """Send events to the events topic, acknowledged by the broker."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(settings.events_topic, key=key, value=value)
    finally:
        await producer.stop()


@asynccontextmanager
async def from_the_start(settings: Settings, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer of every partition of ``topic`` from its first record, outside any group."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()
