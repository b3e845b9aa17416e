"""The per-second timer task: just after each whole second, every key due becomes a tick.

A :class:`Ticker` pops the due keys of its :class:`~streams.kit.timers.Timers` and hands each to
a send callable, which publishes it on the key's own partition, so only the agent that owns a
key ever changes it. The clock and the sleep are injected: :meth:`Ticker.tick` takes ``now``,
and tests drive :meth:`Ticker.run` with a fake clock instead of sleeping.

Use: ``app.task(Ticker(timers, send_tick).run)``, where ``send_tick(partition, key, due)``
sends the app's tick record.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from streams.kit.timers import Timers

# How long after each whole second the timer runs: deadlines are whole seconds, so running just
# after one turns every case due at it into a tick at once.
TICK_LAG_S = 0.005

SendTick = Callable[[int, str, int], Awaitable[None]]  # partition, key, the instant it was due


def until_next_tick(now: float) -> float:
    """Seconds from ``now`` (epoch seconds) to the next run of the timer: ``TICK_LAG_S`` after
    the next whole second. A timer that merely ran once a second from the worker's start ran at
    a random phase, and every deadline turned red that phase late (0.95 s in one benchmark)."""
    return 1.0 - now % 1.0 + TICK_LAG_S


class Ticker:
    """Runs once just after each whole second: the keys due are sent a tick each."""

    def __init__(
        self,
        timers: Timers,
        send: SendTick,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.timers = timers
        self.send = send
        self.clock = clock
        self.sleep = sleep

    async def tick(self, now: float) -> int:
        """Send a tick for every key due at or before ``now`` (epoch seconds); how many."""
        due = self.timers.pop_due(int(now))
        for partition, key, instant in due:
            await self.send(partition, key, instant)
        return len(due)

    async def run(self) -> None:
        """Forever: sleep until just after the next whole second, then tick."""
        while True:
            await self.sleep(until_next_tick(self.clock()))
            await self.tick(self.clock())
