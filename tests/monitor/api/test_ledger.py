"""The idempotency ledger against the real Redis: what it remembers, for how long, and under
which keys."""

from __future__ import annotations

import pytest
from redis.asyncio import Redis

from monitor.api.ledger import EventKey, IdempotencyLedger

pytestmark = pytest.mark.integration

KEEP_S = 7 * 86_400


@pytest.fixture
def ledger(redis: Redis, key_prefix: str) -> IdempotencyLedger:
    return IdempotencyLedger(redis, key_prefix, KEEP_S)


async def test_it_answers_the_content_each_event_was_accepted_with(
    ledger: IdempotencyLedger,
) -> None:
    first, second = EventKey("gz-window", "e-1"), EventKey("gz-window", "e-2")
    assert await ledger.earlier([first, second]) == [None, None]
    await ledger.remember([(first, "sha-1")])
    assert await ledger.earlier([first, second]) == ["sha-1", None]
    await ledger.remember([(first, "sha-1b"), (second, "sha-2")])  # the later write wins
    assert await ledger.earlier([second, first]) == ["sha-2", "sha-1b"]  # in the order asked


async def test_an_event_id_is_a_key_per_source(ledger: IdempotencyLedger) -> None:
    await ledger.remember([(EventKey("gz-window", "e-1"), "sha-gz")])
    assert await ledger.earlier([EventKey("sz-window", "e-1")]) == [None]


async def test_nothing_asked_nothing_written(
    ledger: IdempotencyLedger, redis: Redis, key_prefix: str
) -> None:
    assert await ledger.earlier([]) == []
    await ledger.remember([])
    assert await redis.keys(key_prefix + "*") == []


async def test_keys_live_under_the_prefix_for_the_days_kept(
    ledger: IdempotencyLedger, redis: Redis, key_prefix: str
) -> None:
    await ledger.remember([(EventKey("gz-window", "案件/1 'x'"), "sha")])
    (key,) = await redis.keys(key_prefix + "*")
    assert key.decode() == f"{key_prefix}gz-window\t案件/1 'x'"
    assert KEEP_S - 5 <= await redis.ttl(key) <= KEEP_S
