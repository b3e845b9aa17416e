"""One reader of the read model's change feed per API process, fanned out to every open
``/v1/stream``.

Before, each stream blocked on its own ``XREAD``, holding one connection of the API's Redis
pool for as long as it was open: about a hundred walls reached the pool's end, and then
ingestion, token checks and every read answered 503. Now one task reads the feed (one
connection, whatever the number of streams) and puts each change on every subscriber's queue;
the centres of the changed cases are looked up once per read, not once per stream, for the
streams of tokens bound to centres.

Bounds, so that streams can never starve the rest of the API:

- at most ``api_streams_per_token`` open streams per token (429 beyond, with Retry-After) and
  ``api_streams_max`` in all (503 beyond);
- a subscriber whose queue is full (a client that does not read) is dropped: its stream ends,
  and its browser reconnects with ``Last-Event-ID`` and resumes from the feed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Final

from fastapi import HTTPException, status
from redis.exceptions import RedisError

from monitor import jsontext
from monitor.api.auth import Principal
from monitor.api.params import DISPLAY_ZONE
from monitor.readmodel import Change, ReadModel
from monitor.retry import Backoff

log = logging.getLogger("redline.api")

BATCH: Final = 500  # change entries read at a time
BLOCK_MS: Final = 1_000  # under the API's Redis socket timeout (app.REDIS_TIMEOUT_S)
QUEUE: Final = 2_000  # changes a subscriber may fall behind before it is dropped
# At most this many publishes a second to the streams. A stream's cost is per wake-up (a task
# switch, a write), not per change: at 20 changes a second and a thousand streams, publishing
# each change apart meant 20 000 writes a second and an API that answered nothing else in time
# (bench/NOTES.md, "A thousand walls"). It adds up to this much to the event-to-wall latency.
PUBLISH_EVERY_S: Final = 0.25
READ_BACKOFF: Final = Backoff(base=0.2, cap=2.0)  # while Redis is away


def entry_key(entry_id: str) -> tuple[int, int]:
    """A change feed id (``<ms>-<n>``) as a sortable pair."""
    ms, _, n = entry_id.partition("-")
    return int(ms), int(n or 0)


def case_id_of(change: Change) -> str:
    return str(change.fields.get("case_id", ""))


async def centers_of(read_model: ReadModel, changes: list[Change]) -> dict[str, str | None]:
    """The centre of each changed case the read model holds: one round trip for a read."""
    return await read_model.case_centers(case_id_of(change) for change in changes)


def sse_frame(event: str, data: bytes, id: str | None = None, retry: int | None = None) -> bytes:
    """One server-sent event on the wire: ``data`` is one line of JSON."""
    head = f"event: {event}\n".encode()
    if id is not None:
        head += f"id: {id}\n".encode()
    if retry is not None:
        head += f"retry: {retry}\n".encode()
    return head + b"data: " + data + b"\n\n"


def change_frame(entry: Change) -> bytes:
    """The ``change`` event of a feed entry, as every stream that may see it sends it."""
    change: dict[str, Any] = dict(entry.fields)
    change["at"] = DISPLAY_ZONE.format(entry_key(entry.id)[0] // 1000)
    return sse_frame("change", jsontext.dumps(change), entry.id)


@dataclass(eq=False)
class Subscriber:
    """One open stream: its token, and the changes it has yet to send (a change, the centre
    of its case, None when the read model does not hold the case, and its frame)."""

    principal: Principal
    queue: asyncio.Queue[tuple[Change, str | None, bytes]] = field(
        default_factory=lambda: asyncio.Queue(QUEUE)
    )
    dropped: bool = False  # fell behind: the stream ends and the client resumes


class ChangeHub:
    """The change-feed reader and its subscribers."""

    def __init__(self, read_model: ReadModel, per_token: int, overall: int, retry_after_s: int):
        self.read_model = read_model
        self.per_token = per_token
        self.overall = overall
        self.retry_after_s = retry_after_s
        self.position = "0-0"  # the newest entry read (or the feed's end at the start)
        self.last_change_ms: int | None = None
        self.subscribers: set[Subscriber] = set()
        self._by_token: Counter[str] = Counter()
        self._started = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._read(), name="redline-api-changes")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def started(self) -> None:
        """Wait until the reader knows where the feed ends."""
        await self._started.wait()

    def subscribe(self, principal: Principal) -> Subscriber:
        """A new stream's queue, or 429 / 503 when the caps are reached."""
        if len(self.subscribers) >= self.overall:
            raise HTTPException(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                f"this API serves {self.overall} streams at most and they are all open: "
                "retry after Retry-After seconds",
                headers={"Retry-After": str(self.retry_after_s)},
            )
        if self._by_token[principal.token_id] >= self.per_token:
            raise HTTPException(
                status.HTTP_429_TOO_MANY_REQUESTS,
                f"this token has {self.per_token} streams open, its most: close one, or give "
                "each wall a token of its own",
                headers={"Retry-After": str(self.retry_after_s)},
            )
        subscriber = Subscriber(principal)
        self.subscribers.add(subscriber)
        self._by_token[principal.token_id] += 1
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        if subscriber in self.subscribers:
            self.subscribers.discard(subscriber)
            token_id = subscriber.principal.token_id
            self._by_token[token_id] -= 1
            if self._by_token[token_id] <= 0:
                del self._by_token[token_id]

    async def _read(self) -> None:
        failures = 0  # in a row: the backoff grows with them and starts again after a read
        while True:
            try:
                if not self._started.is_set():
                    newest = await self.read_model.newest_change()
                    self.position = newest or "0-0"
                    self.last_change_ms = None if newest is None else entry_key(newest)[0]
                    self._started.set()
                changes = await self.read_model.changes_after(self.position, BATCH, BLOCK_MS)
                if changes:
                    await self._publish(changes)
                    # what arrives meanwhile goes out together: every stream wakes and writes
                    # once per publish, however many changes it carries
                    await asyncio.sleep(PUBLISH_EVERY_S)
                failures = 0
            except RedisError as exc:
                if failures == 0:
                    log.warning("the change feed is not readable (%s); retrying", exc)
                await asyncio.sleep(READ_BACKOFF.delay(failures))
                failures += 1

    async def _publish(self, changes: list[Change]) -> None:
        centers: dict[str, str | None] = {}
        if any(s.principal.centers is not None for s in self.subscribers):
            centers = await centers_of(self.read_model, changes)
        self.position = changes[-1].id
        self.last_change_ms = entry_key(self.position)[0]
        for change in changes:
            item = (change, centers.get(case_id_of(change)), change_frame(change))
            for subscriber in list(self.subscribers):
                try:
                    subscriber.queue.put_nowait(item)
                except asyncio.QueueFull:  # its stream ends once it reads what it has
                    subscriber.dropped = True
                    self.unsubscribe(subscriber)
