"""Many walls on one API process: the other routes' latency with streams open on
``/v1/stream``, against the same load with none, in one run.

A worker and a `redline api` run on Kafka and Redis of this machine. The load is open-loop (a
slow answer does not delay the next request): ``rate`` requests a second, alternately a POST of
one new case and a ``GET /v1/cases?limit=50``; each answer's latency is recorded. The load runs
first with no stream open (the baseline), then with each count of streams open in turn (250,
500, 1 000: more are opened each time), each a raw socket that reads and discards what it is
sent, so that the benchmark's client, on the same two cores, costs little. Each stream counts
the changes it received: they must reach them all (``delivered``: the share of streams that
received at least one change while the load ran).
"""

from __future__ import annotations

import asyncio
import json
import sys
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
OPENING = 50  # streams opened at a time


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
                rest = await asyncio.wait_for(reader.read(2000), 5)
                raise RuntimeError(f"stream refused: {status!r} {rest[-300:]!r}")
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


async def _open(walls: list[RawStream], host: str, port: int, token: str) -> None:
    """Open these streams, OPENING at a time, as walls come up over a while (a thousand at once
    is a burst the API queues on its Redis pool); fail on the first one refused."""
    for first in range(0, len(walls), OPENING):
        group = walls[first : first + OPENING]
        opened = [asyncio.Event() for _ in group]
        for wall, ready in zip(group, opened, strict=True):
            wall.task = asyncio.create_task(wall.follow(host, port, token, ready))
        deadline = time.monotonic() + 60
        while not all(o.is_set() for o in opened):
            broken = [w.task for w in group if w.task is not None and w.task.done()]
            if broken:
                raise RuntimeError(f"{len(broken)} streams failed: {broken[0].exception()!r}")
            if time.monotonic() > deadline:
                raise RuntimeError("streams not open within 60 s")
            await asyncio.sleep(0.05)


async def _walls_main(host: str, port: int, token: str, count: int) -> None:
    """The walls' own process (``--walls``): open ``count`` streams, say ``open <seconds>``,
    then answer ``mark`` (remember the counts) and ``report`` (how many streams received a
    change since the mark, and how many ended) on stdin, until stdin closes."""
    walls = [RawStream() for _ in range(count)]
    started = time.monotonic()
    await _open(walls, host, port, token)
    print(f"open {time.monotonic() - started:.2f}", flush=True)
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    marks = [0] * count
    while line := (await reader.readline()).strip():
        if line == b"mark":
            marks = [wall.changes for wall in walls]
            print("marked", flush=True)
        elif line == b"report":
            got = sum(wall.changes > mark for wall, mark in zip(walls, marks, strict=True))
            ended = sum(1 for w in walls if w.task is not None and w.task.done())
            print(json.dumps({"delivered": got, "ended": ended}), flush=True)


class Walls:
    """A process of ``count`` open streams, apart from the load's client: reading a thousand
    sockets in the client's own event loop delayed its answers and so inflated the latencies
    it measured."""

    def __init__(self, process: asyncio.subprocess.Process, count: int) -> None:
        self.process, self.count = process, count

    @classmethod
    async def open(cls, base_url: str, token: str, count: int) -> tuple[Walls, float]:
        host, port = base_url.removeprefix("http://").split(":")
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.streams_bench",
            "--walls",
            host,
            port,
            token,
            str(count),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        walls = cls(process, count)
        answer = await walls._line()
        if not answer.startswith("open "):
            raise RuntimeError(f"the walls did not open: {answer!r}")
        return walls, float(answer.split()[1])

    async def ask(self, what: str) -> str:
        assert self.process.stdin is not None
        self.process.stdin.write(what.encode() + b"\n")
        await self.process.stdin.drain()
        return await self._line()

    async def _line(self) -> str:
        assert self.process.stdout is not None
        line = await asyncio.wait_for(self.process.stdout.readline(), 180)
        if not line:
            raise RuntimeError(f"the walls' process ended ({await self.process.wait()})")
        return line.decode().strip()

    async def close(self) -> None:
        if self.process.returncode is None:
            self.process.kill()
            await self.process.wait()


async def _measure(stack: ApiRun, counts: list[int], rate: float, seconds: float) -> dict[str, Any]:
    """The load with no stream, then with each count of streams open (more opened each time)."""
    base_url, ingest, viewer = stack.api.base_url, stack.ingest, stack.viewer
    limits = httpx.Limits(max_connections=100, max_keepalive_connections=100)
    found: dict[str, Any] = {}
    groups: list[Walls] = []
    async with httpx.AsyncClient(base_url=base_url, timeout=30, limits=limits) as client:
        await _load(client, ingest, viewer, "warm", rate, 2.0)  # the worker joined, pools warm
        found["baseline"] = await _load(client, ingest, viewer, "none", rate, seconds)
        try:
            for count in counts:
                more = count - sum(group.count for group in groups)
                walls, opening_s = await Walls.open(base_url, viewer, more)
                groups.append(walls)
                await asyncio.sleep(2.0)  # past the snapshots
                for group in groups:
                    await group.ask("mark")
                loaded = await _load(client, ingest, viewer, f"s{count}", rate, seconds)
                await asyncio.sleep(2.0)  # the last changes reach the walls
                reports = [json.loads(await group.ask("report")) for group in groups]
                found[count] = {
                    "load": loaded,
                    "delivered": sum(r["delivered"] for r in reports) / count,
                    "died": sum(r["ended"] for r in reports),
                    "opening_s": opening_s,
                    "opened": more,
                }
        finally:
            for group in groups:
                await group.close()
    return found


def run(
    counts: tuple[int, ...] = (250, 500, 1_000),
    rate: float = 40.0,
    seconds: float = 20.0,
    bootstrap: str = "127.0.0.1:9092",
    redis_url: str = "redis://127.0.0.1:6379/0",
) -> list[Figure]:
    """p50 / p99 of the other routes with no stream, then with each count of streams open."""
    top = max(counts)
    with tempfile.TemporaryDirectory() as tmp:
        settings = api_settings(
            isolated_settings(bootstrap, redis_url, Path(tmp) / "worker"),
            api_streams_per_token=top,
            api_streams_max=top,
        )
        with api_run(settings, Path(tmp)) as stack:
            found = asyncio.run(_measure(stack, sorted(counts), rate, seconds))
    note = f"{rate:g} requests/s for {seconds:g} s, half POST one case, half GET /v1/cases"
    figures: list[Figure] = []
    for route, label in (("post", "POST /v1/events"), ("get", "GET /v1/cases?limit=50")):
        figures += percentiles(
            f"{label}, no stream open", found["baseline"][route], "ms", TARGET, note
        )
        for count in sorted(counts):
            figures += percentiles(
                f"{label}, {count:,} streams open", found[count]["load"][route], "ms", TARGET, note
            )
    for count in sorted(counts):
        phase = found[count]
        figures.append(
            Figure(
                f"streams that received the load's changes, of {count:,}",
                100 * phase["delivered"],
                "%",
                "100 %",
                f"{phase['died']} streams ended early; {phase['opened']} opened "
                f"{OPENING} at a time in {phase['opening_s']:.1f} s",
            )
        )
    return figures


if __name__ == "__main__":
    if sys.argv[1:2] == ["--walls"]:
        host, port, token, count = sys.argv[2:6]
        asyncio.run(_walls_main(host, int(port), token, int(count)))
    else:
        for figure in run(tuple(int(n) for n in sys.argv[1:]) or (250, 500, 1_000)):
            print(f"{figure.name}: {figure.value:,.2f} {figure.unit} ({figure.note})")
