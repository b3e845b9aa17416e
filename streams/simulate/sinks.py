"""Where the lines go: a JSON Lines file (``--dry-run``), the events topic in Kafka (key = case
id, acks=all), or the API's ``POST /v1/events`` (``--api``). Each counts the lines it could not
deliver and keeps the first error."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path
from typing import Any, Protocol

from monitor.retry import Backoff, attempts, parse_retry_after
from streams.simulate.wire import FaultKind, Line

BUSY_BACKOFF = Backoff(base=1.0, cap=30.0)  # after a 429 or 503, and never before Retry-After


class Sink(Protocol):
    """Where lines go."""

    where: str
    failed: int  # lines not delivered

    async def start(self) -> None: ...

    async def send(self, line: Line) -> None: ...

    async def close(self) -> None:
        """Deliver what is pending and let go of the resources."""
        ...


class FileSink:
    """JSON Lines, one line per record (what ``redline validate`` and ``replay`` read)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.where = f"file:{path}"
        self.failed = 0
        self._file: Any = None

    async def start(self) -> None:
        self._file = self.path.open("wb")

    async def send(self, line: Line) -> None:
        self._file.write(line.value + b"\n")

    async def close(self) -> None:
        if self._file is not None:
            self._file.close()


class KafkaSink:
    """The events topic: key = case id, so a case's events share a partition; acks=all."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.where = f"kafka:{bootstrap}/{topic}"
        self.failed = 0
        self.error: str | None = None  # the first delivery error
        self._producer: Any = None

    async def start(self) -> None:
        from aiokafka import AIOKafkaProducer  # only when producing: the CLI starts faster

        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap, acks="all", linger_ms=5, max_batch_size=65_536
        )
        try:
            await self._producer.start()
        except Exception:
            await self._producer.stop()
            raise

    async def send(self, line: Line) -> None:
        delivery = await self._producer.send(self.topic, line.value, key=line.key)
        delivery.add_done_callback(self._delivered)

    def _delivered(self, delivery: asyncio.Future[Any]) -> None:
        error = delivery.exception() if not delivery.cancelled() else "cancelled"
        if error is not None:
            self.failed += 1
            self.error = self.error or str(error)

    async def close(self) -> None:
        if self._producer is not None:
            await self._producer.stop()  # flushes what is pending


class HttpSink:
    """The API's ``POST /v1/events``: lines batched into ``{"events": [...]}`` bodies of up to
    ``batch`` events, sent when full or ``linger`` seconds after the first. A line of broken
    JSON goes alone, as its own body, as a window system's bug would.
    429 and 503 are retried (``tries`` in all), not sooner than their ``Retry-After``;
    refusals are answers, not failures."""

    def __init__(
        self,
        url: str,
        token: str,
        batch: int = 100,
        linger: float = 0.2,
        backoff: Backoff = BUSY_BACKOFF,
        tries: int = 5,
    ) -> None:
        self.url = url.rstrip("/") + "/v1/events"
        self.where = self.url
        self.failed = 0
        self.error: str | None = None
        self.answers: Counter[str] = Counter()  # accepted / duplicate / refused, as answered
        self.refusals: Counter[str] = Counter()  # "field: rule" of each refused event's first error
        self._headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        self._batch, self._linger = batch, linger
        self._backoff, self._tries = backoff, tries
        self._pending: list[bytes] = []
        self._timer: asyncio.TimerHandle | None = None
        self._posts: set[asyncio.Task[None]] = set()
        self._session: Any = None

    async def start(self) -> None:
        import aiohttp  # only when posting: the CLI starts faster

        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    async def send(self, line: Line) -> None:
        if line.fault is not None and line.fault.kind is FaultKind.BROKEN_JSON:
            self._post([line.value], single=True)  # it would break a whole batch's JSON
            return
        self._pending.append(line.value)
        if len(self._pending) >= self._batch:
            self._flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(self._linger, self._flush)

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._pending:
            self._post(self._pending)
            self._pending = []

    def _post(self, values: list[bytes], single: bool = False) -> None:
        body = values[0] if single else b'{"events":[' + b",".join(values) + b"]}"
        task = asyncio.ensure_future(self._deliver(body, len(values)))
        self._posts.add(task)
        task.add_done_callback(self._posts.discard)

    async def _deliver(self, body: bytes, lines: int) -> None:
        error = "still 429/503 after retries"
        async for attempt in attempts(self._backoff, limit=self._tries):
            try:
                async with self._session.post(self.url, data=body, headers=self._headers) as answer:
                    if answer.status in (429, 503):  # busy, or Kafka away: later
                        attempt.retry_after = parse_retry_after(answer.headers.get("Retry-After"))
                        continue
                    payload = await answer.json(content_type=None)
                    if answer.status in (200, 202, 207, 422) and isinstance(payload, dict):
                        self._count(payload, lines)
                        return
                    error = f"HTTP {answer.status}: {str(payload)[:200]}"
            except Exception as exc:  # unreachable, timed out, not JSON
                error = repr(exc)
            break
        self.failed += lines
        self.error = self.error or error

    def _count(self, payload: dict[str, Any], lines: int) -> None:
        """The answer to a body of ``lines`` events: per event, or a refusal of the whole."""
        for outcome in ("accepted", "duplicate", "refused"):
            self.answers[outcome] += int(payload.get(outcome) or 0)
        for result in payload.get("results") or ():
            if result.get("errors"):
                first = result["errors"][0]
                self.refusals[f"{first['field']}: {first['rule']}"] += 1
        if "accepted" not in payload:  # a refusal of the whole body
            self.answers["refused"] += lines
            self.refusals[str(payload.get("detail"))[:300]] += lines

    async def close(self) -> None:
        self._flush()
        while self._posts:
            await asyncio.gather(*list(self._posts))
        if self._session is not None:
            await self._session.close()
