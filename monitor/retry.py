"""Retry with backoff and jitter: one policy and one loop for every edge that talks to something
that may be away.

:class:`Backoff` says how long to wait after a failed attempt. Attempt ``n`` (from 0) is
followed by a random wait in ``[0, min(cap, base × factor^n)]`` ("full jitter": clients that
failed together do not come back together), and never by less than the server's
``Retry-After`` when it gave one. :func:`attempts` is the loop: numbered attempts with those
waits between them. The caller's body leaves the loop (``break`` / ``return``) when it is done or
the failure is not worth retrying, sets ``attempt.retry_after`` if the other side named a wait,
and goes round again otherwise; the ``else`` of the loop runs when the attempts are used up::

    async for attempt in attempts(Backoff(base=1.0, cap=60.0), limit=5):
        outcome = await channel.send(notice)
        if outcome.sent or not outcome.retryable:
            break
        attempt.retry_after = outcome.retry_after  # parse_retry_after(header)
    else:
        ...  # still failing after five attempts

Used by the API's Kafka producer (connecting until the brokers answer), the API's dev tokens
(until Redis takes them) and ``redline simulate --api`` (429 and 503). The notifiers reuse it: a
notifier only says whether a failure is retryable and what the channel asked for; this loop
owns the waiting.

Pure: nothing here does I/O but the injected sleep, and the random source is injected too, so
tests neither sleep nor depend on luck.
"""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class Backoff:
    """How long to wait after each failed attempt: full jitter under an exponential bound."""

    base: float  # seconds: the bound of the first wait
    factor: float = 2.0  # each bound is this many times the one before
    cap: float = 30.0  # seconds: no bound above it
    uniform: Callable[[], float] = random.random  # in [0, 1]: a fixed or seeded one in tests

    def __post_init__(self) -> None:
        if not 0 < self.base <= self.cap or self.factor < 1 or math.isinf(self.cap):
            raise ValueError(f"backoff needs 0 < base <= cap < inf and factor >= 1: {self}")

    def bound(self, attempt: int) -> float:
        """The longest wait after attempt ``attempt`` (from 0): ``base × factor^attempt``, at
        most ``cap``; never smaller than the bound before it."""
        try:
            return min(self.cap, self.base * float(self.factor) ** attempt)
        except OverflowError:  # a loop that has retried for days
            return self.cap

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after attempt ``attempt`` failed: a random share of its bound, and at
        least ``retry_after`` when the other side asked for that."""
        wait = self.bound(attempt) * self.uniform()
        return wait if retry_after is None else max(wait, retry_after)


@dataclass(slots=True)
class Attempt:
    """One attempt of :func:`attempts`."""

    number: int  # from 0
    retry_after: float | None = None  # seconds the other side asked for: set before going round


async def attempts(
    backoff: Backoff, limit: int | None = None, sleep: Sleep = asyncio.sleep
) -> AsyncIterator[Attempt]:
    """Attempts 0, 1, … (``limit`` of them, or without end), each after the wait that
    ``backoff`` gives the one before; nothing is awaited before the first or after the last."""
    number = 0
    while True:
        attempt = Attempt(number)
        yield attempt
        number += 1
        if limit is not None and number >= limit:
            return
        await sleep(backoff.delay(attempt.number, attempt.retry_after))


def parse_retry_after(value: str | None) -> float | None:
    """A ``Retry-After`` header in seconds (its delay-seconds form), or None when it is absent
    or not a number of seconds (an HTTP-date counts as absent: the backoff decides)."""
    if value is None:
        return None
    try:
        seconds = float(value.strip())
    except ValueError:
        return None
    return seconds if math.isfinite(seconds) and seconds >= 0 else None
