"""Smoke tests of the local services themselves: each answers the way Redline will use it."""

from __future__ import annotations

import asyncio
import json
import subprocess
import urllib.request
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from redis.asyncio import Redis

pytestmark = pytest.mark.integration

PROMETHEUS_CONFIG = Path(__file__).resolve().parents[2] / "dashboards/prometheus/prometheus.yml"


async def test_kafka_record_round_trip_through_a_consumer_group(kafka_bootstrap: str) -> None:
    topic = f"smoke-{uuid.uuid4().hex}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(topic, "办件 accepted".encode(), key=b"case-1")
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"smoke-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        record = await asyncio.wait_for(consumer.getone(), timeout=60)
    finally:
        await consumer.stop()
    assert (record.key, record.value) == (b"case-1", "办件 accepted".encode())


async def test_redis_set_get_round_trip(redis_url: str) -> None:
    client = Redis.from_url(redis_url)
    key = f"smoke:{uuid.uuid4().hex}"
    try:
        await client.set(key, "红灯", ex=60)
        assert await client.get(key) == "红灯".encode()
    finally:
        await client.delete(key)
        await client.aclose()


def test_prometheus_is_ready_and_answers_queries(prometheus_url: str) -> None:
    with urllib.request.urlopen(f"{prometheus_url}/-/ready", timeout=10) as response:
        assert response.status == 200
    with urllib.request.urlopen(f"{prometheus_url}/api/v1/query?query=up", timeout=10) as response:
        answer = json.load(response)
    assert answer["status"] == "success"
    assert answer["data"]["resultType"] == "vector"


def test_prometheus_config_passes_promtool() -> None:
    result = subprocess.run(
        ["promtool", "check", "config", str(PROMETHEUS_CONFIG)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
