"""Event-to-wall latency: from ``POST /v1/events`` answered 202 to the case being visible on
``GET /v1/cases/{id}`` and on the wall's SSE stream (``/v1/stream``).

A worker and a `redline api` run on Kafka and Redis of this machine. One client listens to
``/v1/stream`` as the wall does; events are sent one per request on an open-loop schedule at
``rate`` per second (a slow answer does not delay the next send). Each event opens a new case.
For each one:

- **stream**: the first ``change`` event of its case on the SSE stream, minus the moment its
  POST returned 202;
- **cases**: the first 200 of ``GET /v1/cases/{id}`` (polled every ``poll_s``), minus the same
  moment. The poll interval is part of this figure (on average half of it).

One case sent first and awaited on the stream warms the worker up (it may still be joining
its consumer group when the API is ready). A second, smaller series sends cases that are
already overdue when they arrive (one ``case.accepted`` two hours old with a one-hour promise):
the time to their ``red`` change on the stream includes the worker's timers, which turn such a
case red one threshold per tick (warning, then overdue).
"""

from __future__ import annotations

import asyncio
import json
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from bench.engine_bench import Figure, percentiles
from bench.processes import api_run
from bench.runs import api_settings, isolated_settings
from monitor.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
TARGET = "p99 ≤ 1 s"


class Wall:
    """A client of /v1/stream: when each case first changed, and first turned red."""

    def __init__(self) -> None:
        self.changed: dict[str, float] = {}
        self.red: dict[str, float] = {}
        self.ready = asyncio.Event()

    async def listen(self, client: httpx.AsyncClient, token: str) -> None:
        """Follow the stream until cancelled."""
        async with client.stream("GET", "/v1/stream", params={"token": token}) as response:
            name = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    name = line[6:].strip()
                elif line.startswith("data:") and name == "snapshot":
                    self.ready.set()
                elif line.startswith("data:") and name == "change":
                    change = json.loads(line[5:])
                    if change.get("kind") != "case":
                        continue
                    seen = time.monotonic()
                    self.changed.setdefault(change["case_id"], seen)
                    if change.get("light") == "red":
                        self.red.setdefault(change["case_id"], seen)


def _event(case_id: str, at: int, promised: str) -> dict[str, Any]:
    return {
        "event_id": f"{case_id}-1",
        "type": "case.accepted",
        "case_id": case_id,
        "occurred_at": SHANGHAI.format(at),
        "source": "bench-wall",
        "center": "GZ-TIANHE",
        "item_code": "FOOD-LICENSE",
        "data": {"promised": promised},
    }


async def _series(
    client: httpx.AsyncClient,
    ingest: str,
    viewer: str,
    events: list[dict[str, Any]],
    rate: float,
    poll_s: float,
) -> tuple[dict[str, float], dict[str, float]]:
    """Send ``events`` at ``rate``/s: when each POST returned 202, and when each case was
    first answered by GET /v1/cases/{id}."""
    accepted: dict[str, float] = {}
    visible: dict[str, float] = {}
    headers = {"Authorization": f"Bearer {ingest}"}
    viewing = {"Authorization": f"Bearer {viewer}"}

    async def one(body: dict[str, Any]) -> None:
        case_id = body["case_id"]
        response = await client.post("/v1/events", json=body, headers=headers)
        accepted[case_id] = time.monotonic()
        if response.status_code != 202 or response.json()["accepted"] != 1:
            raise RuntimeError(f"POST refused: {response.status_code} {response.text}")
        deadline = accepted[case_id] + 30
        while time.monotonic() < deadline:
            found = await client.get(f"/v1/cases/{case_id}", headers=viewing)
            if found.status_code == 200:
                visible[case_id] = time.monotonic()
                return
            await asyncio.sleep(poll_s)

    start = time.monotonic()
    tasks = []
    for n, body in enumerate(events):
        await _until(start + n / rate)
        tasks.append(asyncio.create_task(one(body)))
    await asyncio.gather(*tasks)
    return accepted, visible


async def _until(instant: float) -> None:
    delay = instant - time.monotonic()
    if delay > 0:
        await asyncio.sleep(delay)


async def _settle(done: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        await asyncio.sleep(0.05)


async def _measure(
    base_url: str, ingest: str, viewer: str, events: int, late: int, rate: float, poll_s: float
) -> dict[str, list[float]]:
    wall = Wall()
    limits = httpx.Limits(max_connections=200, max_keepalive_connections=100)
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        listener = asyncio.create_task(wall.listen(client, viewer))
        try:
            await asyncio.wait_for(wall.ready.wait(), 30)
            t = int(time.time())
            # warm-up: /readyz speaks for the API only; the worker may still be joining its
            # group, and the first events would wait for it (a start-up cost, not a latency)
            await _series(client, ingest, viewer, [_event("WB-WARM", t, "10wd")], rate, poll_s)
            await _settle(lambda: "WB-WARM" in wall.changed, 60)
            fresh = [_event(f"WB-{n:05d}", t, "10wd") for n in range(events)]
            accepted, visible = await _series(client, ingest, viewer, fresh, rate, poll_s)
            await _settle(lambda: set(wall.changed) >= set(accepted), 30)
            overdue = [_event(f"WB-LATE-{n:04d}", t - 7200, "1h") for n in range(late)]
            late_accepted, _ = await _series(client, ingest, viewer, overdue, rate, poll_s)
            await _settle(lambda: set(wall.red) >= set(late_accepted), 60)
        finally:
            listener.cancel()
            await asyncio.gather(listener, return_exceptions=True)
    return {
        "stream": _since(accepted, wall.changed),
        "cases": _since(accepted, visible),
        "late": _since(late_accepted, wall.red),
        "lost": [float(len(set(accepted) - set(wall.changed)))],
    }


def _since(start: dict[str, float], end: dict[str, float]) -> list[float]:
    return sorted(end[key] - at for key, at in start.items() if key in end)


def run(
    events: int = 400,
    late: int = 60,
    rate: float = 20.0,
    poll_s: float = 0.02,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
) -> list[Figure]:
    """p50 / p99 POST-accepted-to-visible latency on /v1/cases and on the SSE stream."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = api_settings(isolated_settings(bootstrap, redis_url, Path(tmp) / "worker"))
        with api_run(settings, Path(tmp)) as stack:
            found = asyncio.run(
                _measure(stack.api.base_url, stack.ingest, stack.viewer, events, late, rate, poll_s)
            )
    note = f"{events} new cases at {rate:g}/s, one per POST; one worker, one API"
    figures = [
        *percentiles("event-to-wall latency, SSE stream", found["stream"], "s", TARGET, note),
        *percentiles(
            "event-to-wall latency, GET /v1/cases/{id}",
            found["cases"],
            "s",
            TARGET,
            note + f"; polled every {poll_s * 1000:g} ms",
        ),
        *percentiles(
            "overdue-on-arrival to red on the stream",
            found["late"],
            "s",
            "—",
            f"{late} cases accepted 2 h ago with a 1 h promise, at {rate:g}/s",
        ),
    ]
    lost = int(found["lost"][0])
    if lost:
        figures.append(Figure("cases never seen on the stream", lost, "cases", "0", note))
    return figures


if __name__ == "__main__":
    for figure in run():
        print(f"{figure.name}: {figure.value:,.3f} {figure.unit} ({figure.note})")
