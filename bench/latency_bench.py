"""Deadline-to-red latency: from a deadline instant to its overdue alert on the alerts topic.

N open cases are accepted with a 1h promised limit so that their deadlines fall one to two
minutes ahead, spread over 30 seconds; the worker's timers must turn each red on its own. The
latency of a case is the Kafka append time of its deadline_overdue record minus its deadline.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from pathlib import Path

from bench.engine_bench import Figure, percentiles
from bench.feeds import OPENING, event, from_the_start
from bench.pipeline_bench import _produce
from bench.processes import WorkerProcess
from bench.runs import isolated_settings
from monitor.settings import Settings
from monitor.timeutil import HOUR, parse_instant
from streams.topics import ensure_topics

SPREAD_S = 30


async def overdue_latencies(
    settings: Settings, expected: int, until: float, prefix: str = ""
) -> dict[str, float]:
    """Case id -> its deadline_overdue record's Kafka append time minus its deadline, for the
    cases whose id starts with ``prefix``, until ``expected`` of them or ``until``."""
    latencies: dict[str, float] = {}
    async with from_the_start(settings, settings.alerts_topic) as consumer:
        while len(latencies) < expected and time.time() < until:
            batches = await consumer.getmany(timeout_ms=1000, max_records=10_000)
            for messages in batches.values():
                for message in messages:
                    record = json.loads(message.value)
                    if (
                        record["kind"] == "deadline_overdue"
                        and record["status"] == "firing"
                        and record["case_id"].startswith(prefix)
                    ):
                        deadline = parse_instant(record["fired_at"])
                        latencies[record["case_id"]] = message.timestamp / 1000 - deadline
    return latencies


def run(
    cases: int = 10_000,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
) -> list[Figure]:
    """p50 / p99 / max deadline-to-red latency with ``cases`` open cases."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = isolated_settings(bootstrap, redis_url, Path(tmp))
        asyncio.run(ensure_topics(settings))
        worker = WorkerProcess(settings, Path(tmp) / "worker")
        try:
            lead = 60 + cases // 500  # time to ingest the cases before the first deadline
            first = int(time.time()) + lead
            lines = [
                event(
                    f"LAT-{n:07d}",
                    1,
                    "accepted",
                    first + n % SPREAD_S - HOUR,
                    **OPENING,
                    data={"promised": "1h"},
                )[1]
                for n in range(cases)
            ]
            asyncio.run(_produce(settings, lines))
            latencies = list(
                asyncio.run(overdue_latencies(settings, cases, first + SPREAD_S + 300)).values()
            )
        finally:
            worker.stop()
    note = f"{cases:,} open cases, deadlines over {SPREAD_S} s; {len(latencies):,} turned red"
    return percentiles("deadline-to-red latency", latencies, "s", "p99 ≤ 1 s", note)


if __name__ == "__main__":
    for figure in run(2_000):
        print(f"{figure.name}: {figure.value:,.2f} {figure.unit} ({figure.note})")
