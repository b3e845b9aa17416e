"""When each line goes out. :func:`feed` orders every line of the load by its simulated send
instant: a pure, seeded iterator, so the same load gives the same lines. :class:`Schedule` then
holds each line until its simulated instant comes on the wall clock (``--time-scale`` simulated
seconds per real second, from ``--start``), and to at most ``--rate`` lines a second."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import math
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime

from streams.simulate.lives import timed_history
from streams.simulate.load import Load, arrivals, world
from streams.simulate.wire import Line, case_lines


def feed(load: Load) -> Iterator[Line]:
    """Every line of the load in the order it goes out (by simulated send instant)."""
    shape = world(load.config, load.shares)
    lives = random.Random(load.seed)
    wire = random.Random(f"{load.seed}/wire")  # str seeds are hashed with SHA-512: stable
    prefix = datetime.fromtimestamp(load.start, UTC).strftime(f"%Y%m%d%H%M%S-S{load.seed}")
    cases = arrivals(load, shape)
    pending: list[tuple[int, int, Line]] = []
    order = itertools.count()
    upcoming = next(cases, None)
    while upcoming is not None or pending:
        # A case's lines go out no earlier than it arrives: generate each case before anything
        # due after its arrival leaves.
        if upcoming is not None and (not pending or upcoming[1] <= pending[0][0]):
            number, at = upcoming
            history = timed_history(lives, f"{prefix}-{number:06d}", at, shape)
            for line in case_lines(history, wire, load.shares):
                heapq.heappush(pending, (line.send_at, next(order), line))
            upcoming = next(cases, None)
        else:
            yield heapq.heappop(pending)[2]


class Schedule:
    """When each line may go out, awaited on the event loop's clock (no busy loop).

    A line is due when its simulated instant comes (``start`` + real seconds × ``time_scale``)
    and at least 1/``rate`` s after the previous one; a backlog of more than ``BURST`` seconds
    is forgotten rather than sent in a burst. ``rate`` 0 waits for nothing.
    """

    BURST = 0.1

    def __init__(
        self,
        start: int,
        time_scale: float,
        rate: float,
        duration: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.start = start
        self.time_scale = time_scale
        self.interval = 1 / rate if rate else 0.0
        self.clock = clock
        self.sleep = sleep
        self.origin = clock()
        self.end = math.inf if duration is None else self.origin + duration
        self.next = self.origin
        self.count = 0

    async def wait(self, send_at: int) -> bool:
        """Sleep until the line is due; False (after sleeping to the end) if the run's duration
        is over first."""
        now = self.clock()
        if not self.interval:
            self.count += 1
            if self.count % 1024 == 0:
                await self.sleep(0)  # let the producer's sender and signal handlers run
            return now < self.end
        simulated = self.origin + (send_at - self.start) / self.time_scale
        due = max(simulated, self.next, now - self.BURST)
        if due >= self.end:
            await self.sleep(max(self.end - now, 0))
            return False
        if due > now:
            await self.sleep(due - now)
        self.next = due + self.interval
        return True
