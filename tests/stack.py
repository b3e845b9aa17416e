"""Waiting on the real stack, for tests (a run's settings, its processes and its feeds are in
bench/runs.py, bench/processes.py and bench/feeds.py, which the benchmarks share)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from monitor.readmodel import ReadModel

T = TypeVar("T")
Probe = Callable[[], Awaitable[T | None]]


async def eventually(probe: Probe[T], timeout: float = 60) -> T:
    """Await a condition on the real stack that nothing announces (polled: feed health, Kafka
    offsets, consumer groups). A condition on cases or alerts: :func:`once_changed`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value is not None:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("the condition did not hold in time")


async def once_changed(read_model: ReadModel, probe: Probe[T], timeout: float = 60) -> T:
    """Await a condition on the read model's cases or alerts: the probe runs again each time
    the read model's change feed moves (a blocking read), not on a timer. The feed position is
    taken before the first probe, so a change between a probe and the wait is not missed."""
    deadline = time.monotonic() + timeout
    position = await read_model.newest_change() or "0-0"
    while True:
        value = await probe()
        if value is not None:
            return value
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("the condition did not hold in time")
        # a short block: redis-py's default socket timeout (5 s) would end a longer one
        changes = await read_model.changes_after(position, 1_000, int(min(left, 1.0) * 1000) + 1)
        if changes:
            position = changes[-1].id
