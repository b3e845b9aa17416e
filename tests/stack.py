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
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from monitor.settings import Settings
from monitor.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
REDLINE = str(Path(sys.executable).parent / "redline")
T = TypeVar("T")
# the app ids isolated_settings handed out in this process: their topics are deleted at the end
# of a test session (tests/conftest.py), so a developer's broker does not pile up partitions
RUNS: set[str] = set()


def isolated_settings(
    kafka_bootstrap: str, redis_url: str, data_dir: Path = Path(".run/worker")
) -> Settings:
    """Every topic, the consumer group and the read-model prefix of their own, 4 partitions.
    Topic names come from every ``*_topic`` setting, so a topic added later is isolated too."""
    run = uuid.uuid4().hex[:8]
    RUNS.add(f"w{run}")
    topics = {
        name: f"w{run}-{name.removesuffix('_topic')}"
        for name in Settings.model_fields
        if name.endswith("_topic")
    }
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        partitions=4,
        app_id=f"w{run}",
        read_model_prefix=f"test:{run}:",
        data_dir=data_dir,
        **topics,
    )


async def delete_topics(kafka_bootstrap: str, app_ids: Iterable[str]) -> int:
    """Delete every topic of these runs (named after their app ids, faust's own too); the
    number deleted."""
    prefixes = tuple(app_ids)
    if not prefixes:
        return 0
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(prefixes)]
        if names:
            await admin.delete_topics(names)
        return len(names)
    finally:
        await admin.close()


class RedlineProcess:
    """One `redline` subprocess whose settings are ``REDLINE_*`` variables, its output in a log
    file; stopped with SIGTERM (or killed with SIGKILL) and waited for."""

    def __init__(
        self,
        args: list[str],
        settings: Settings,
        log_path: Path,
        env: dict[str, str | None] | None = None,
    ) -> None:
        values = settings.model_dump(exclude={"calendars", "centres", "policy", "catalog"})
        variables = {**os.environ, **{f"REDLINE_{k.upper()}": str(v) for k, v in values.items()}}
        for name, value in (env or {}).items():
            if value is None:
                variables.pop(name, None)
            else:
                variables[name] = value
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [REDLINE, *args], env=variables, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace")

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


class WorkerProcess(RedlineProcess):
    """One `redline worker` with its own data directory (its local state store)."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        loglevel = os.environ.get("REDLINE_TEST_LOGLEVEL", "warn")
        super().__init__(
            ["worker", "--loglevel", loglevel],
            settings.model_copy(update={"data_dir": data_dir}),
            data_dir / "worker.log",
        )


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
