"""Redis back without its data: how long until the read model is whole again, at scale.

The cases topic of a run of its own is filled with ``cases`` case records (and their alert
records) as the worker publishes them: realistic histories (``bench.workload``) through the
tracker, each case's newest view once, as compaction leaves it. A worker starts on it, and its
guard builds the read model a first time (the marker ``built`` is missing on a fresh prefix).
Then the read model is emptied, as a Redis that restarted without its files would be, and the
clock runs until the marker is back:

- **Redis back empty → read model whole**: from the flush to the marker, with the worker
  running (its guard looks every 2 s, so up to 2 s of the figure is detection);
- **rebuild-readmodel**: the same work by hand (flush, project, mark), timed in this process;
  its records per second are the projection's rate, and the ratio of the two says what the
  automatic path adds.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from aiokafka import AIOKafkaProducer
from redis.asyncio import Redis

from bench import workload
from bench.engine_bench import Figure
from bench.processes import WorkerProcess
from bench.runs import delete_topics, isolated_settings
from monitor.engine import Engine
from monitor.readmodel import ReadModel
from monitor.records import AlertRecord, CaseRecord
from monitor.settings import Settings
from streams.rebuild import rebuild_read_model
from streams.topics import ensure_topics
from streams.tracker import Inbound, Tracker

TARGET = "— (issue 10: measured)"
ARRIVED = workload.START + 400 * 86_400  # after every history: the views are as of then


def records(settings: Settings, cases: int) -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
    """The newest case and alert records of ``cases`` cases, by key (as compaction keeps them)."""
    tracker = Tracker(Engine(settings.config_files().load()), {}, cached_cases=cases + 1)
    case_records: dict[bytes, bytes] = {}
    alert_records: dict[bytes, bytes] = {}
    batch: list[tuple[Inbound, bytes | None, bytes]] = []

    def flush() -> None:
        out = tracker.on_batch(batch, ARRIVED)
        for record in out.records:
            if isinstance(record, CaseRecord):
                case_records.__setitem__(*record.encode())
            elif isinstance(record, AlertRecord):
                alert_records.__setitem__(*record.encode())
        batch.clear()

    # each case's whole history in one batch, so that each is published once (as compaction
    # leaves it) rather than once per batch it has events in
    histories: dict[str, list[bytes]] = {}
    for event in workload.feed(cases):
        histories.setdefault(event["case_id"], []).append(json.dumps(event).encode())
    for case_id, events in histories.items():
        batch += [(Inbound.EVENT, case_id.encode(), value) for value in events]
        if len(batch) >= 1_000:
            flush()
    flush()
    return case_records, alert_records


async def _produce(settings: Settings, topic: str, values: dict[bytes, bytes]) -> None:
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        linger_ms=20,
        max_batch_size=512 * 1024,
    )
    await producer.start()
    try:
        pending = []
        for key, value in values.items():
            pending.append(await producer.send(topic, value, key=key))
            if len(pending) >= 5_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()


async def _until_built(read_model: ReadModel, worker: WorkerProcess, timeout: float) -> float:
    """Seconds until the marker is there (polled every 20 ms)."""
    started = time.monotonic()
    while not await read_model.is_built():
        if worker.process.poll() is not None:
            raise RuntimeError(f"the worker exited:\n{worker.log()[-3000:]}")
        if time.monotonic() - started > timeout:
            raise RuntimeError(f"the read model was not rebuilt in {timeout:.0f} s")
        await asyncio.sleep(0.02)
    return time.monotonic() - started


async def _measure(settings: Settings, data: Path, cases: int) -> dict[str, float]:
    case_records, alert_records = records(settings, cases)
    await ensure_topics(settings)
    await _produce(settings, settings.cases_topic, case_records)
    await _produce(settings, settings.alerts_topic, alert_records)
    redis = Redis.from_url(settings.redis_url)
    read_model = ReadModel(redis, settings.read_model_prefix)
    worker = WorkerProcess(settings, data / "worker")
    try:
        first = await _until_built(read_model, worker, timeout=600)
        await read_model.flush()  # Redis came back without its data (the marker too)
        healed = await _until_built(read_model, worker, timeout=600)
        worker.stop()
        by_hand = await rebuild_read_model(settings)
        open_cases = sum(n for light, n in (await read_model.totals()).items() if light != "closed")
    finally:
        worker.stop()
        await read_model.flush()
        await redis.aclose()
    return {
        "first": first,
        "healed": healed,
        "by_hand": by_hand.seconds,
        "records": float(by_hand.cases + by_hand.alerts),
        "cases": float(len(case_records)),
        "open": float(open_cases),
    }


def run(
    cases: int = 100_000,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
) -> list[Figure]:
    """The figures of one run at ``cases`` cases."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = isolated_settings(bootstrap, redis_url, Path(tmp) / "worker")
        try:
            found = asyncio.run(_measure(settings, Path(tmp), cases))
        finally:
            asyncio.run(delete_topics(bootstrap, [settings.app_id]))
    note = (
        f"{found['cases']:,.0f} cases ({found['open']:,.0f} open), "
        f"{found['records']:,.0f} case and alert records; one worker"
    )
    return [
        Figure(
            f"Redis back empty → read model whole, {cases:,} cases",
            found["healed"],
            "s",
            TARGET,
            note + "; includes up to 2 s for the worker's guard to notice",
        ),
        Figure(
            "rebuild-readmodel by hand (flush, project, mark)",
            found["by_hand"],
            "s",
            "—",
            f"{found['records'] / found['by_hand']:,.0f} records/s projected",
        ),
        Figure(
            "first build by a worker's guard (fresh prefix)",
            found["first"],
            "s",
            "—",
            "from the worker's start: includes its start-up",
        ),
    ]


if __name__ == "__main__":
    import sys

    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000):
        print(f"{figure.name}: {figure.value:,.2f} {figure.unit} ({figure.note})")
