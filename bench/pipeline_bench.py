"""Pipeline benchmark: events/s through a real `redline worker`, against a raw consume.

One run: the same feed (bench.workload, realistic case lives) is produced to a fresh topic;
a plain aiokafka consumer reads it all (the baseline), then a worker processes it, timed
from its start to the moment its consumer group has committed every offset.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from bench.engine_bench import Figure
from bench.workload import feed_bytes
from monitor.settings import Settings
from streams.topics import ensure_topics
from tests.stack import WorkerProcess, from_the_start, isolated_settings


async def _produce(settings: Settings, lines: list[bytes]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap, acks="all", linger_ms=20, max_batch_size=262_144
    )
    await producer.start()
    try:
        batch = []
        for line in lines:
            key = line.split(b'"case_id": "', 1)[1].split(b'"', 1)[0]
            batch.append(await producer.send(settings.events_topic, key=key, value=line))
        await asyncio.gather(*batch)
    finally:
        await producer.stop()


async def _raw_consume(settings: Settings, count: int) -> float:
    async with from_the_start(settings, settings.events_topic) as consumer:
        started, seen = time.perf_counter(), 0
        while seen < count:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            seen += sum(len(messages) for messages in batches.values())
        return count / (time.perf_counter() - started)


async def _committed(settings: Settings) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(settings.app_id)
        return sum(
            meta.offset
            for tp, meta in offsets.items()
            if tp.topic == settings.events_topic and meta.offset > 0
        )
    finally:
        await admin.close()


async def _pipeline(settings: Settings, count: int, data: Path) -> float:
    worker = WorkerProcess(settings, data)
    try:
        started = time.perf_counter()
        while await _committed(settings) < count:
            await asyncio.sleep(0.5)
            if worker.process.poll() is not None:
                raise RuntimeError(f"the worker died: see {worker.log_path}")
        return count / (time.perf_counter() - started)
    finally:
        worker.stop()


def run(
    cases: int = 20_000,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
) -> list[Figure]:
    """Throughput of the pipeline and of a raw consume of the same topic, same run."""
    lines = feed_bytes(cases)
    with tempfile.TemporaryDirectory() as tmp:
        settings = isolated_settings(bootstrap, redis_url, Path(tmp))
        asyncio.run(ensure_topics(settings))
        asyncio.run(_produce(settings, lines))
        raw = asyncio.run(_raw_consume(settings, len(lines)))
        pipeline = asyncio.run(_pipeline(settings, len(lines), Path(tmp) / "worker"))
    note = f"{len(lines):,} events of {cases:,} cases, 4 partitions, one worker"
    return [
        Figure(
            "pipeline events/s (Kafka → worker → Kafka + Redis)",
            pipeline,
            "events/s",
            "≥ 20 000",
            note,
        ),
        Figure("raw aiokafka consume of the same topic", raw, "events/s", "—", note),
        Figure("pipeline / raw consume", 100 * pipeline / raw, "%", "—", "same run"),
    ]


if __name__ == "__main__":
    for figure in run(2_000):
        print(f"{figure.name}: {figure.value:,.0f} {figure.unit}")
    _ = TopicPartition
