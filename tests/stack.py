"""Waiting on the real stack, for tests (a run's settings, its processes and its feeds are in
bench/runs.py, bench/processes.py and bench/feeds.py, which the benchmarks share)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


async def eventually(probe: Callable[[], Awaitable[T | None]], timeout: float = 60) -> T:
    """Await a condition on the real stack (polled: Redis has no change feed for a key)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = await probe()
        if value is not None:
            return value
        await asyncio.sleep(0.2)
    raise AssertionError("the condition did not hold in time")
