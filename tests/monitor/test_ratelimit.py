"""The shared token bucket against the real Redis: a burst, then refusals with the wait to the
next token; refill over time (a hand-stepped clock); one bucket per key."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from monitor.ratelimit import TokenBucket, retry_after

pytestmark = pytest.mark.integration

T0 = 1_900_000_000.0  # seconds; any instant will do, the clock is stepped by hand


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def buckets(redis: Redis, key_prefix: str, clock: Clock) -> TokenBucket:
    return TokenBucket(redis, key_prefix, clock=clock)


async def takes(buckets: TokenBucket, key: str, n: int, rate: float, burst: float) -> list[float]:
    return [await buckets.take(key, rate, burst) for _ in range(n)]


async def test_a_full_bucket_lets_a_burst_through_then_says_how_long_to_wait(
    buckets: TokenBucket,
) -> None:
    # 2 a second, 3 at once: the fourth request waits for half a second's refill
    assert await takes(buckets, "k", 5, rate=2, burst=3) == [0, 0, 0, 0.5, 0.5]  # a refusal
    # takes nothing: the fifth waits as long as the fourth


async def test_the_bucket_refills_at_the_rate_and_never_beyond_the_burst(
    buckets: TokenBucket, clock: Clock
) -> None:
    assert await takes(buckets, "k", 4, rate=2, burst=3) == [0, 0, 0, 0.5]
    clock.now = T0 + 0.25  # half a token back
    assert await buckets.take("k", 2, 3) == 0.25
    clock.now = T0 + 0.5  # one token
    assert await takes(buckets, "k", 2, rate=2, burst=3) == [0, 0.5]
    clock.now = T0 + 3_600  # an hour idle holds no more than the burst
    assert await takes(buckets, "k", 4, rate=2, burst=3) == [0, 0, 0, 0.5]


async def test_each_key_has_its_own_bucket(buckets: TokenBucket) -> None:
    assert await takes(buckets, "a", 3, rate=1, burst=2) == [0, 0, 1.0]
    assert await takes(buckets, "b", 3, rate=1, burst=2) == [0, 0, 1.0]  # not slowed by "a"


async def test_forget_fills_the_bucket_again(buckets: TokenBucket) -> None:
    assert await takes(buckets, "k", 2, rate=1, burst=1) == [0, 1.0]
    await buckets.forget("k")
    assert await takes(buckets, "k", 2, rate=1, burst=1) == [0, 1.0]


async def test_a_bucket_lives_in_redis_under_its_prefix_and_expires_once_full_again(
    buckets: TokenBucket, redis: Redis, key_prefix: str
) -> None:
    await buckets.take("k", rate=0.5, burst=4)
    assert await redis.keys(key_prefix + "*") == [(key_prefix + "k").encode()]
    # 4 tokens at 0.5 a second: full again within 8 s; kept a second longer
    assert 8_000 < await redis.pttl(key_prefix + "k") <= 9_000


async def test_on_redis_time_a_burst_is_refused_with_a_wait_below_one_token(
    redis: Redis, key_prefix: str
) -> None:
    shared = TokenBucket(redis, key_prefix)  # Redis's clock, as in production
    first, second, refused = await takes(shared, "k", 3, rate=1, burst=2)
    assert first == second == 0
    assert 0 < refused <= 1.0  # at most one token's refill (1 s), less what passed meanwhile


@pytest.mark.parametrize(("wait", "header"), [(0.001, 1), (0.5, 1), (1.0, 1), (1.2, 2), (59.9, 60)])
def test_retry_after_rounds_a_wait_up_to_whole_seconds(wait: float, header: int) -> None:
    assert retry_after(wait) == header
