"""The timer task on an injected clock: just after each whole second, each due key once."""

from __future__ import annotations

import contextlib

from hypothesis import given
from hypothesis import strategies as st

from streams.kit.ticker import TICK_LAG_S, Ticker, until_next_tick
from streams.kit.timers import Timers


class Sent:
    """A send callable that keeps what it was handed."""

    def __init__(self) -> None:
        self.ticks: list[tuple[int, str, int]] = []

    async def __call__(self, partition: int, key: str, due: int) -> None:
        self.ticks.append((partition, key, due))


class FakeClock:
    """A clock that moves only when the ticker sleeps; it stops the ticker after ``runs``."""

    def __init__(self, now: float, runs: int) -> None:
        self.now = now
        self.runs = runs
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        if len(self.sleeps) == self.runs:
            raise Stop
        self.sleeps.append(seconds)
        self.now += seconds


class Stop(Exception):
    pass


async def test_a_tick_sends_the_keys_due_at_or_before_now_once() -> None:
    timers, sent = Timers(), Sent()
    timers.arm(3, "A", 100)
    timers.arm(1, "B", 101)
    timers.arm(3, "C", 102)
    ticker = Ticker(timers, sent)
    assert await ticker.tick(99.99) == 0
    assert await ticker.tick(101.5) == 2  # a fraction of a second counts as the second begun
    assert sorted(sent.ticks) == [(1, "B", 101), (3, "A", 100)]
    assert await ticker.tick(101.9) == 0  # popped once
    assert await ticker.tick(500) == 1 and sent.ticks[-1] == (3, "C", 102)


async def test_it_runs_just_after_each_whole_second_and_fires_what_came_due() -> None:
    timers, sent = Timers(), Sent()
    for due in (1_000, 1_001, 1_003):
        timers.arm(0, f"K{due}", due)
    clock = FakeClock(now=999.4, runs=4)
    ticker = Ticker(timers, sent, clock=clock, sleep=clock.sleep)
    with contextlib.suppress(Stop):
        await ticker.run()
    # woken at 1000.005, 1001.005, 1002.005, 1003.005: the first sleep takes up the phase
    assert abs(clock.sleeps[0] - (0.6 + TICK_LAG_S)) < 1e-9
    assert all(abs(s - 1.0) < 1e-9 for s in clock.sleeps[1:])
    assert sent.ticks == [(0, "K1000", 1_000), (0, "K1001", 1_001), (0, "K1003", 1_003)]


@given(st.floats(min_value=1_600_000_000, max_value=4_000_000_000, allow_nan=False))
def test_the_timer_runs_just_after_the_next_whole_second(now: float) -> None:
    delay = until_next_tick(now)
    assert TICK_LAG_S < delay <= 1 + TICK_LAG_S
    # it wakes TICK_LAG_S past a whole second (float rounding aside)
    woken = now + delay - TICK_LAG_S
    assert abs(woken - round(woken)) < 1e-6
