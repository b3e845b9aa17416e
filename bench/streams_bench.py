"""Many walls on one API process: the other routes' latency with ``streams`` open ``/v1/stream``
connections, against the same load with none, in one run.

A worker and a `redline api` run on Kafka and Redis of this machine. The load is open-loop (a
slow answer does not delay the next request): ``rate`` requests a second, alternately a POST of
one new case and a ``GET /v1/cases?limit=50``; each answer's latency is recorded. The load runs
twice: first with no stream open (the baseline), then with ``streams`` streams open, each a raw
socket that reads and discards what it is sent (so that the benchmark's client, on the same two
cores, costs little). Each stream counts the bytes it received: the changes must reach them
all (``delivered``: the share of streams that received at least one change after the load
began).
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench.engine_bench import Figure, percentiles
from bench.processes import ApiRun, api_run
from bench.runs import api_settings, isolated_settings
from monitor.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
TARGET = "p99 ≤ 50 ms"


class RawStream:
    """One ``/v1/stream`` on a raw socket: the bytes it received, and when it last got any."""

    def __init__(self) -> None:
        self.received = 0
        self.changes = 0  # "event: change" lines seen
        self.task: asyncio.Task[None] | None = None

    async def follow(self, host: str, port: int, token: str, opened: asyncio.Event) -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            writer.write(
                f"GET /v1/stream HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {token}\r\n"
                "Accept: text/event-stream\r\n\r\n".encode()
            )
            await writer.drain()
            status = await reader.readline()
            if b" 200 " not in status:
                raise RuntimeError(f"stream refused: {status!r}")
            opened.set()
            while chunk := await reader.read(65536):
                self.received += len(chunk)
                self.changes += chunk.count(b"event: change")
        finally:
            writer.close()


def _event(case_id: str) -> dict[str, Any]:
    return {
        "event_id": f"{case_id}-1",
        "type": "case.accepted",
        "case_id": case_id,
        "occurred_at": SHANGHAI.format(int(time.time())),
        "source": "bench-streams",
        "center": "GZ-TIANHE",
        "item_code": "FOOD-LICENSE",
        "data": {"promised": "10wd"},
    }


async def _load(
    client: httpx.AsyncClient, ingest: str, viewer: str, tag: str, rate: float, seconds: float
) -> dict[str, list[float]]:
    """Open-loop requests at ``rate``/s for ``seconds``: POST latencies and GET latencies."""
    posts: list[float] = []
    gets: list[float] = []
    failures: list[str] = []

    async def post(n: int) -> None:
        started = time.monotonic()
        response = await client.post(
            "/v1/events",
            json=_event(f"SB-{tag}-{n:06d}"),
            headers={"Authorization": f"Bearer {ingest}"},
        )
        posts.append(1000 * (time.monotonic() - started))
        if response.status_code != 202:
            failures.append(f"POST {response.status_code}")

    async def get() -> None:
        started = time.monotonic()
        response = await client.get(
            "/v1/cases", params={"limit": 50}, headers={"Authorization": f"Bearer {viewer}"}
        )
        gets.append(1000 * (time.monotonic() - started))
        if response.status_code != 200:
            failures.append(f"GET {response.status_code}")

    start = time.monotonic()
    tasks = []
    for n in range(int(rate * seconds)):
        delay = start + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(n) if n % 2 == 0 else get()))
    await asyncio.gather(*tasks)
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed: {failures[:5]}")
    return {"post": posts, "get": gets}


async def _measure(stack: ApiRun, streams: int, rate: float, seconds: float) -> dict[str, Any]:
    base_url, ingest, viewer = stack.api.base_url, stack.ingest, stack.viewer
    host, port = base_url.removeprefix("http://").split(":")
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        await _load(client, ingest, viewer, "warm", rate, 2.0)  # the worker joined, pools warm
        baseline = await _load(client, ingest, viewer, "none", rate, seconds)
        walls = [RawStream() for _ in range(streams)]
        opened = [asyncio.Event() for _ in walls]
        for wall, ready in zip(walls, opened, strict=True):
            wall.task = asyncio.create_task(wall.follow(host, int(port), viewer, ready))
        try:
            await asyncio.wait_for(asyncio.gather(*(o.wait() for o in opened)), 120)
            await asyncio.sleep(2.0)  # past the snapshots
            before = [wall.changes for wall in walls]
            loaded = await _load(client, ingest, viewer, "many", rate, seconds)
            await asyncio.sleep(2.0)  # the last changes reach the walls
            delivered = sum(
                wall.changes > seen for wall, seen in zip(walls, before, strict=True)
            ) / max(streams, 1)
            died = [w.task.exception() for w in walls if w.task and w.task.done()]
        finally:
            for wall in walls:
                if wall.task is not None:
                    wall.task.cancel()
            await asyncio.gather(*(w.task for w in walls if w.task), return_exceptions=True)
    return {"baseline": baseline, "loaded": loaded, "delivered": delivered, "died": died}


def run(
    streams: int = 1_000,
    rate: float = 40.0,
    seconds: float = 20.0,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
) -> list[Figure]:
    """p50 / p99 of the other routes with no stream and with ``streams`` streams open."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = api_settings(
            isolated_settings(bootstrap, redis_url, Path(tmp) / "worker"),
            api_streams_per_token=streams,
            api_streams_max=streams,
        )
        with api_run(settings, Path(tmp)) as stack:
            found = asyncio.run(_measure(stack, streams, rate, seconds))
    note = f"{rate:g} requests/s for {seconds:g} s, half POST one case, half GET /v1/cases"
    figures: list[Figure] = []
    for route, label in (("post", "POST /v1/events"), ("get", "GET /v1/cases?limit=50")):
        figures += percentiles(
            f"{label}, no stream open", found["baseline"][route], "ms", TARGET, note
        )
        figures += percentiles(
            f"{label}, {streams:,} streams open", found["loaded"][route], "ms", TARGET, note
        )
    figures.append(
        Figure(
            f"streams that received the load's changes, of {streams:,}",
            100 * found["delivered"],
            "%",
            "100 %",
            f"{len(found['died'])} streams ended early",
        )
    )
    return figures


if __name__ == "__main__":
    import sys

    for figure in run(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000):
        print(f"{figure.name}: {figure.value:,.4f} {figure.unit} ({figure.note})")
