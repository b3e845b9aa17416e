"""Running the pipeline for tests: settings of its own, worker processes, waiting on Redis."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from monitor.settings import Settings
from monitor.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
REDLINE = str(Path(sys.executable).parent / "redline")
T = TypeVar("T")


def isolated_settings(kafka_bootstrap: str, redis_url: str, data_dir: Path) -> Settings:
    """Topics, consumer group and read-model prefix of their own, 4 partitions."""
    run = uuid.uuid4().hex[:8]
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        partitions=4,
        app_id=f"w{run}",
        events_topic=f"w{run}-events",
        dlq_topic=f"w{run}-dlq",
        ticks_topic=f"w{run}-ticks",
        alerts_topic=f"w{run}-alerts",
        cases_topic=f"w{run}-cases",
        commands_topic=f"w{run}-commands",
        read_model_prefix=f"test:{run}:",
        data_dir=data_dir,
    )


class WorkerProcess:
    """One `redline worker` with its own data directory (its local state store)."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        values = settings.model_dump(exclude={"calendars", "centres", "policy", "catalog"})
        values["data_dir"] = data_dir
        env = {**os.environ, **{f"REDLINE_{k.upper()}": str(v) for k, v in values.items()}}
        self.log_path = data_dir / "worker.log"
        self._log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [REDLINE, "worker", "--loglevel", os.environ.get("REDLINE_TEST_LOGLEVEL", "warn")],
            env=env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    def stop(self) -> None:
        """A clean stop (SIGTERM), waited for."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """A crash: SIGKILL, no goodbye to the group, nothing flushed."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 60) -> T:
    """Await a condition on the real stack (polled: Redis has no change feed for a key)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value is not None:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("the condition did not hold in time")


async def produce(settings: Settings, *records: tuple[bytes, bytes]) -> None:
    """Send events to the events topic, acknowledged by the broker."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send_and_wait(settings.events_topic, key=key, value=value)
    finally:
        await producer.stop()


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


OPENING = {"center": "GZ-TIANHE", "item_code": "FOOD-LICENSE"}


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
