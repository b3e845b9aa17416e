"""Pipeline benchmark: sustained events/s through real `redline worker`s, against baselines.

One run per feed (bench.workload: a *live* feed, events occurring as they arrive, and a
*catch-up* feed, a backlog whose deadlines have passed): the feed is produced to a fresh topic,
then read by, in turn,

- a plain aiokafka consumer (what Kafka and the Python client allow on this machine);
- a faust worker whose agent takes the same batches and does nothing (what faust allows);
- one `redline worker`, then two (each with a consumer group, tables, outputs of its own).

Progress is read from Redis, where each process counts the events of a batch in the batch's
round trip (the workers' feed health; the no-op worker's own counter). A rate is *sustained*:
over the second half of the feed, once the group has settled (a second worker joining moves
every partition once); the rate from the processes' start is given beside it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from bench.engine_bench import Figure
from bench.feeds import from_the_start
from bench.processes import WorkerProcess
from bench.runs import RUNS, delete_topics, isolated_settings
from bench.workload import feed_bytes
from monitor.readmodel import ReadModel
from monitor.settings import Settings
from streams.topics import ensure_topics

ROOT = Path(__file__).resolve().parents[1]


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


@dataclass(frozen=True, slots=True)
class Run:
    """A consumer group's way through the topic."""

    sustained: float  # events/s over the second half of the feed
    overall: float  # events/s from the processes' start, joining the group included
    start_up: float  # seconds from the processes' start to the first events handled


async def _through(
    redis_url: str,
    handled: Callable[[Redis], Awaitable[int]],
    count: int,
    processes: list[subprocess.Popen[bytes]],
) -> Run:
    """Wait until the processes have handled all ``count`` events (``handled`` reads how many
    so far: the workers count every event in Redis, in the round trip of its batch)."""
    redis = Redis.from_url(redis_url)
    try:
        started = time.perf_counter()
        first: float | None = None
        half: tuple[float, int] | None = None
        while (done := await handled(redis)) < count:
            now = time.perf_counter()
            if done and first is None:
                first = now
            if done >= count // 2 and half is None:
                half = (now, done)
            if any(process.poll() is not None for process in processes):
                raise RuntimeError(f"a process died: {processes[0].args}")
            await asyncio.sleep(0.05)
        ended = time.perf_counter()
    finally:
        await redis.aclose()
    if first is None or half is None:  # all within one poll: too short a run to tell a rate
        raise RuntimeError("the feed was handled between two polls: use more cases")
    return Run((count - half[1]) / (ended - half[0]), count / (ended - started), first - started)


def _pipeline(settings: Settings, count: int, data: Path, workers: int) -> Run:
    """``workers`` workers through the feed, followed by their feed-health counts."""
    processes = [
        WorkerProcess(settings, data / f"worker-{workers}-{index}") for index in range(workers)
    ]

    async def handled(redis: Redis) -> int:
        model = ReadModel(redis, settings.read_model_prefix)
        return sum(s.accepted + s.duplicate + s.refused for s in await model.sources())

    try:
        return asyncio.run(
            _through(settings.redis_url, handled, count, [w.process for w in processes])
        )
    finally:
        for worker in processes:
            worker.stop()
        asyncio.run(_flush(settings))


async def _flush(settings: Settings) -> None:
    """Delete the run's read model (a bench leaves no keys behind)."""
    redis = Redis.from_url(settings.redis_url)
    try:
        await ReadModel(redis, settings.read_model_prefix).flush()
    finally:
        await redis.aclose()


def _faust_noop(settings: Settings, count: int, data: Path, workers: int) -> Run:
    """``workers`` faust workers doing nothing with the batches but counting them in Redis."""
    group = f"{settings.app_id}-noop{workers}"
    counter = f"{settings.read_model_prefix}noop:{workers}"
    env = {
        **os.environ,
        "NOOP_APP_ID": group,
        "NOOP_TOPIC": settings.events_topic,
        "NOOP_BOOTSTRAP": settings.kafka_bootstrap,
        "NOOP_REDIS": settings.redis_url,
        "NOOP_COUNTER": counter,
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.noop_worker"],
            cwd=ROOT,
            env={**env, "NOOP_DATA": str(data / f"noop-{workers}-{index}")},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for index in range(workers)
    ]

    async def handled(redis: Redis) -> int:
        return int(await redis.get(counter) or 0)

    try:
        return asyncio.run(_through(settings.redis_url, handled, count, processes))
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(30)
        asyncio.run(_flush(settings))


def _own_outputs(settings: Settings, bootstrap: str, redis_url: str, tmp: Path) -> Settings:
    """Settings reading ``settings``' events with a group, state and outputs of their own."""
    fresh = isolated_settings(bootstrap, redis_url, tmp)
    fresh = fresh.model_copy(update={"events_topic": settings.events_topic})
    asyncio.run(ensure_topics(fresh))
    return fresh


def run(
    cases: int = 20_000,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
) -> list[Figure]:
    """Each feed through the baselines and through one and two workers, in one run."""
    figures: list[Figure] = []
    for live in (True, False):
        lines = feed_bytes(cases, live_until=int(time.time()) if live else None)
        feed = "live" if live else "catch-up"
        note = f"{feed} feed: {len(lines):,} events of {cases:,} cases, 4 partitions"
        with tempfile.TemporaryDirectory() as name:
            tmp = Path(name)
            settings = isolated_settings(bootstrap, redis_url, tmp)
            asyncio.run(ensure_topics(settings))
            asyncio.run(_produce(settings, lines))
            raw = asyncio.run(_raw_consume(settings, len(lines)))
            noop = [_faust_noop(settings, len(lines), tmp, n) for n in (1, 2)]
            one = _pipeline(settings, len(lines), tmp, 1)
            two = _pipeline(_own_outputs(settings, bootstrap, redis_url, tmp), len(lines), tmp, 2)
            asyncio.run(delete_topics(bootstrap, RUNS))
        figures += [
            Figure(
                f"pipeline events/s, {feed} feed, one worker",
                one.sustained,
                "events/s",
                "≥ 20 000",
                f"{note}; {one.overall:,.0f}/s from start",
            ),
            Figure(
                f"pipeline events/s, {feed} feed, two workers",
                two.sustained,
                "events/s",
                "≥ 20 000",
                f"{note}; {two.overall:,.0f}/s from start",
            ),
        ]
        if live:
            figures += [
                Figure(
                    "faust agent doing nothing, one worker",
                    noop[0].sustained,
                    "events/s",
                    "—",
                    f"{note}; the same batches, no work",
                ),
                Figure(
                    "faust agent doing nothing, two workers",
                    noop[1].sustained,
                    "events/s",
                    "—",
                    f"{note}; the same batches, no work",
                ),
                Figure("raw aiokafka consume of the same topic", raw, "events/s", "—", note),
                Figure(
                    "two workers / faust doing nothing (two)",
                    100 * two.sustained / noop[1].sustained,
                    "%",
                    "—",
                    "same run",
                ),
                Figure(
                    "two workers / raw consume", 100 * two.sustained / raw, "%", "—", "same run"
                ),
            ]
    return figures


if __name__ == "__main__":
    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else 2_000):
        print(f"{figure.name}: {figure.value:,.1f} {figure.unit} ({figure.note})")
