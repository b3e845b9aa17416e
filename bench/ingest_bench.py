"""HTTP ingestion: events/s through one `redline api` process, and POST latency at a steady rate.

The API runs as `redline api` with its defaults (access log on), on Kafka and Redis of this
machine, with no worker: what is measured is the API's own path (token, rate limit, body,
validation, idempotency lookup, produce with acks=all and wait for the brokers, idempotency
keys). Every event is new (unique event ids), so every one is produced.

- **Throughput**: ``clients`` concurrent connections, each sending batches of ``batch`` events
  back to back; events accepted per second of wall time, from the first request to the last
  answer.
- **Latency**: one request every ``batch / rate`` seconds on an open-loop schedule (a slow
  answer does not delay the next send); the latency of a request is from its scheduled send
  time to its answer, so a stall counts in full (no coordinated omission).
"""

from __future__ import annotations

import asyncio
import json
import re
import tempfile
import time
from pathlib import Path

import httpx

from bench.engine_bench import Figure, percentiles, quantile
from bench.processes import ApiProcess, dev_secret
from bench.runs import api_settings, isolated_settings
from monitor.settings import Settings
from monitor.timeutil import HOUR, zone
from streams.topics import ensure_topics

SHANGHAI = zone("Asia/Shanghai")
CENTERS = ("GZ-TIANHE", "GZ-YUEXIU", "LS-CHENGGUAN")
ITEMS = ("FOOD-LICENSE", "BIZ-REG", "PRINT-SEAL", "BUILD-PERMIT")


def _bodies(prefix: str, requests: int, batch: int) -> list[bytes]:
    """``requests`` bodies of ``batch`` new events each, encoded in advance (the client's
    cost is not what is measured)."""
    at = SHANGHAI.format(int(time.time()) - HOUR)
    bodies = []
    for r in range(requests):
        events = []
        for n in range(batch):
            case = f"{prefix}-{r:06d}-{n:03d}"
            events.append(
                {
                    "event_id": f"{case}-1",
                    "type": "case.accepted",
                    "case_id": case,
                    "occurred_at": at,
                    "source": "bench-window",
                    "center": CENTERS[n % len(CENTERS)],
                    "item_code": ITEMS[n % len(ITEMS)],
                    "handler": f"handler-{n % 17}",
                    "window": f"W{n % 12:02d}",
                    "data": {"promised": "10wd"},
                }
            )
        bodies.append(json.dumps({"events": events}, ensure_ascii=False).encode())
    return bodies


async def _post(client: httpx.AsyncClient, body: bytes, token: str) -> int:
    response = await client.post(
        "/v1/events",
        content=body,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )
    if response.status_code != 202:
        raise RuntimeError(f"POST /v1/events answered {response.status_code}: {response.text}")
    accepted: int = response.json()["accepted"]
    return accepted


async def _throughput(base_url: str, token: str, bodies: list[bytes], clients: int) -> float:
    queue = list(reversed(bodies))
    accepted = 0

    async def client_loop() -> None:
        nonlocal accepted
        async with httpx.AsyncClient(base_url=base_url, timeout=60) as client:
            while queue:
                done = await _post(client, queue.pop(), token)
                accepted += done  # after the await: a += across it would lose updates

    started = time.perf_counter()
    await asyncio.gather(*(client_loop() for _ in range(clients)))
    return accepted / (time.perf_counter() - started)


async def _latencies(
    base_url: str, token: str, bodies: list[bytes], interval: float
) -> list[float]:
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx.AsyncClient(base_url=base_url, timeout=60, limits=limits) as client:
        await _post(client, bodies[0], token)  # warm the connection pool and the route
        loop = asyncio.get_running_loop()
        start = loop.time() + 0.5

        async def one(index: int, body: bytes) -> float:
            scheduled = start + index * interval
            await asyncio.sleep(max(0.0, scheduled - loop.time()))
            await _post(client, body, token)
            return loop.time() - scheduled

        return sorted(await asyncio.gather(*(one(i, b) for i, b in enumerate(bodies[1:]))))


def run(
    events: int = 200_000,
    clients: int = 8,
    batch: int = 100,
    rate: int = 1_000,
    steady_s: int = 60,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
) -> list[Figure]:
    """Events/s with ``clients`` concurrent clients and batches of ``batch``; p50/p99/max POST
    latency at ``rate`` events/s for ``steady_s`` seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = api_settings(
            isolated_settings(bootstrap, redis_url, Path(tmp)), api_rate_per_s=100_000.0
        )
        asyncio.run(ensure_topics(settings))
        token = dev_secret()
        api = ApiProcess(settings, Path(tmp), token, dev_secret())
        try:
            asyncio.run(api.wait_until(200, "/readyz"))
            figures = _measure(api, token, events, clients, batch, rate, steady_s)
        finally:
            api.stop()
            asyncio.run(_forget(settings))
    return figures


def _measure(
    api: ApiProcess, token: str, events: int, clients: int, batch: int, rate: int, steady_s: int
) -> list[Figure]:
    base_url = api.base_url
    asyncio.run(_throughput(base_url, token, _bodies("WARM", 20, batch), clients))
    # the steady rate first, on a quiet stack (after a flood, Kafka is still busy with it)
    requests = max(10, rate * steady_s // batch)
    logged = len(api.log())
    latencies = asyncio.run(
        _latencies(base_url, token, _bodies("LAT", requests + 1, batch), batch / rate)
    )
    # the API's own time for the same requests (its access log): what the client adds on top
    # is the network, the client itself and the waiting for a CPU on this shared machine
    served = sorted(float(ms) for ms in _SERVED.findall(api.log()[logged:]))
    per_second = asyncio.run(
        _throughput(base_url, token, _bodies("THR", events // batch, batch), clients)
    )
    steady = f"{rate:,} events/s as {rate / batch:g} POSTs/s of {batch}, {len(latencies)} POSTs"
    return [
        Figure(
            "HTTP ingestion throughput",
            per_second,
            "events/s",
            "≥ 20 000/s",
            f"{events:,} events, batches of {batch}, {clients} clients, one API process",
        ),
        *percentiles(
            "POST /v1/events latency", [t * 1000 for t in latencies], "ms", "p99 ≤ 50 ms", steady
        ),
        Figure(
            "POST /v1/events time in the API p99",
            quantile(served, 0.99) if served else float("nan"),
            "ms",
            "—",
            "the same requests, from the API's access log",
        ),
    ]


_SERVED = re.compile(r'"POST /v1/events" 202 ([0-9.]+)ms')


async def _forget(settings: Settings) -> None:
    """Drop the run's idempotency keys and tokens (its topics stay, like the other benches')."""
    from redis.asyncio import Redis

    redis = Redis.from_url(settings.redis_url)
    try:
        for prefix in (settings.ingest_prefix, settings.auth_prefix):
            batch = [key async for key in redis.scan_iter(match=prefix + "*", count=1000)]
            for start in range(0, len(batch), 500):
                await redis.unlink(*batch[start : start + 500])
    finally:
        await redis.aclose()


if __name__ == "__main__":
    import sys

    for figure in run(*(int(arg) for arg in sys.argv[1:])):
        target = f"target {figure.target}; {figure.note}"
        print(f"{figure.name}: {figure.value:,.1f} {figure.unit} ({target})")
