"""The shared retry: backoff bounds, full jitter, Retry-After, and the attempts loop, without
sleeping (the sleep and the random source are injected)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.retry import Backoff, attempts, parse_retry_after


class FakeSleep:
    """Records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def fixed(share: float) -> Backoff:
    """The Kafka producer's policy, with every jitter draw ``share`` of its bound."""
    return Backoff(base=0.5, cap=5.0, uniform=lambda: share)


def test_the_bounds_grow_by_the_factor_up_to_the_cap() -> None:
    assert [fixed(1.0).bound(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    assert Backoff(base=1.0, factor=3.0, cap=20.0).bound(2) == 9.0
    assert Backoff(base=2.0, factor=1.0, cap=2.0).bound(50) == 2.0  # a constant wait


def test_a_loop_that_retried_for_days_waits_the_cap() -> None:
    assert fixed(1.0).bound(100_000) == 5.0  # 2.0 ** 100000 would overflow


def test_full_jitter_draws_a_share_of_the_bound() -> None:
    assert [fixed(0.0).delay(n) for n in range(3)] == [0.0, 0.0, 0.0]
    assert [fixed(0.5).delay(n) for n in range(5)] == [0.25, 0.5, 1.0, 2.0, 2.5]


def test_a_retry_after_is_the_shortest_wait() -> None:
    assert fixed(0.0).delay(0, retry_after=3.0) == 3.0  # not sooner than the server asked
    assert fixed(1.0).delay(4, retry_after=3.0) == 5.0  # later is allowed
    assert fixed(0.0).delay(0, retry_after=60.0) == 60.0  # even beyond the cap


@pytest.mark.parametrize(
    ("base", "factor", "cap"),
    [(0.0, 2.0, 1.0), (-1.0, 2.0, 1.0), (2.0, 2.0, 1.0), (1.0, 0.5, 5.0), (1.0, 2.0, float("inf"))],
)
def test_a_policy_that_cannot_work_is_refused(base: float, factor: float, cap: float) -> None:
    with pytest.raises(ValueError, match="backoff needs"):
        Backoff(base=base, factor=factor, cap=cap)


async def test_attempts_wait_between_not_before_the_first_or_after_the_last() -> None:
    sleep = FakeSleep()
    numbers = [attempt.number async for attempt in attempts(fixed(1.0), limit=4, sleep=sleep)]
    assert numbers == [0, 1, 2, 3]
    assert sleep.waits == [0.5, 1.0, 2.0]


async def test_the_caller_stops_the_attempts_and_names_the_wait() -> None:
    sleep = FakeSleep()
    tried = []
    async for attempt in attempts(fixed(0.0), sleep=sleep):  # without end
        tried.append(attempt.number)
        if attempt.number == 3:
            break
        attempt.retry_after = 10.0 * attempt.number
    assert tried == [0, 1, 2, 3]
    assert sleep.waits == [0.0, 10.0, 20.0]  # the retry-after of the attempt before each


async def test_out_of_attempts_runs_the_loops_else() -> None:
    sleep = FakeSleep()
    exhausted = False
    async for _ in attempts(fixed(0.0), limit=2, sleep=sleep):
        continue
    else:
        exhausted = True
    assert exhausted and sleep.waits == [0.0]


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 1.5 ", 1.5),
        ("0", 0.0),
        (None, None),
        ("", None),
        ("-1", None),
        ("nan", None),
        ("inf", None),
        ("Wed, 21 Oct 2026 07:28:00 GMT", None),  # an HTTP-date: the backoff decides
    ],
)
def test_retry_after_headers_in_seconds(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header) == seconds


policies = st.builds(
    lambda base, factor, extra: (base, factor, base + extra),
    st.floats(0.001, 100.0),
    st.floats(1.0, 10.0),
    st.floats(0.0, 1000.0),
)


@given(
    policy=policies,
    draws=st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40),
    retry_after=st.none() | st.floats(0.0, 10_000.0),
)
def test_delays_stay_in_bounds_that_never_shrink(
    policy: tuple[float, float, float], draws: list[float], retry_after: float | None
) -> None:
    base, factor, cap = policy
    shares = iter(draws)
    backoff = Backoff(base=base, factor=factor, cap=cap, uniform=lambda: next(shares))
    bounds = [backoff.bound(n) for n in range(len(draws))]
    assert bounds == sorted(bounds) and all(0 < bound <= cap for bound in bounds)
    for attempt, bound in enumerate(bounds):
        delay = backoff.delay(attempt, retry_after)
        if retry_after is None:
            assert 0.0 <= delay <= bound <= cap
        else:
            assert retry_after <= delay <= max(retry_after, bound)
