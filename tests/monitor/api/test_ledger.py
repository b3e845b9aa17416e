"""The idempotency ledger against the real Redis: claims, how they end, for how long, under
which keys, and that one of concurrent claims wins."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from redis.asyncio import Redis

from monitor.api.ledger import Claim, EventKey, Held, IdempotencyLedger

pytestmark = pytest.mark.integration

KEEP_S = 7 * 86_400
PENDING_S = 30
GZ1, GZ2 = EventKey("gz-window", "e-1"), EventKey("gz-window", "e-2")


@pytest.fixture
def ledger(redis: Redis, key_prefix: str) -> IdempotencyLedger:
    return IdempotencyLedger(redis, key_prefix, KEEP_S, PENDING_S)


async def test_a_claim_is_seen_in_flight_until_it_is_accepted(ledger: IdempotencyLedger) -> None:
    assert await ledger.claim([(GZ1, "sha-1"), (GZ2, "sha-2")]) == [Claim(None), Claim(None)]
    assert await ledger.claim([(GZ2, "sha-2"), (GZ1, "other")]) == [
        Claim(Held.IN_FLIGHT, "sha-2"),
        Claim(Held.IN_FLIGHT, "sha-1"),
    ]
    await ledger.accepted([(GZ1, "sha-1")])
    assert await ledger.claim([(GZ1, "sha-1")]) == [Claim(Held.ACCEPTED, "sha-1")]


async def test_a_released_claim_can_be_taken_again_with_any_content(
    ledger: IdempotencyLedger,
) -> None:
    await ledger.claim([(GZ1, "sha-1")])
    await ledger.release([(GZ1, "sha-1")])
    assert await ledger.claim([(GZ1, "corrected")]) == [Claim(None)]


async def test_an_unknown_outcome_admits_the_same_content_only(
    ledger: IdempotencyLedger, redis: Redis, key_prefix: str
) -> None:
    await ledger.claim([(GZ1, "sha-1")])
    await ledger.unknown([(GZ1, "sha-1")])
    (key,) = await redis.keys(key_prefix + "*")
    assert KEEP_S - 5 <= await redis.ttl(key) <= KEEP_S  # kept as long as an accepted one
    assert await ledger.claim([(GZ1, "corrected")]) == [Claim(Held.UNKNOWN, "sha-1")]
    assert await ledger.claim([(GZ1, "sha-1")]) == [Claim(None)]  # the resend takes it again


async def test_only_a_claim_still_ours_is_ended(ledger: IdempotencyLedger) -> None:
    """A request whose claim expired and was taken by another cannot end the other's."""
    await ledger.claim([(GZ1, "sha-new")])
    await ledger.release([(GZ1, "sha-old")])
    await ledger.accepted([(GZ1, "sha-old")])
    assert await ledger.claim([(GZ1, "x")]) == [Claim(Held.IN_FLIGHT, "sha-new")]


async def test_an_event_id_is_a_key_per_source(ledger: IdempotencyLedger) -> None:
    await ledger.claim([(GZ1, "sha-gz")])
    assert await ledger.claim([(EventKey("sz-window", "e-1"), "sha-sz")]) == [Claim(None)]


async def test_nothing_asked_nothing_written(
    ledger: IdempotencyLedger, redis: Redis, key_prefix: str
) -> None:
    assert await ledger.claim([]) == []
    await ledger.accepted([])
    await ledger.release([])
    assert await redis.keys(key_prefix + "*") == []


async def test_keys_live_under_the_prefix_for_their_time(
    ledger: IdempotencyLedger, redis: Redis, key_prefix: str
) -> None:
    await ledger.claim([(EventKey("gz-window", "案件/1 'x'"), "sha")])
    (key,) = await redis.keys(key_prefix + "*")
    assert key.decode() == f"{key_prefix}gz-window\t案件/1 'x'"
    assert PENDING_S - 5 <= await redis.ttl(key) <= PENDING_S
    await ledger.accepted([(EventKey("gz-window", "案件/1 'x'"), "sha")])
    assert KEEP_S - 5 <= await redis.ttl(key) <= KEEP_S


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(contents=st.lists(st.sampled_from(["a", "b", "c"]), min_size=2, max_size=12))
async def test_of_concurrent_claims_exactly_one_wins(
    redis: Redis, key_prefix: str, contents: list[str]
) -> None:
    """Many clients, one event id, mixed content, all at once: one claim wins, and every other
    sees it, with the winner's content."""
    ledger = IdempotencyLedger(redis, key_prefix, KEEP_S, PENDING_S)
    key = EventKey("race", f"e-{len(contents)}-{''.join(contents)}")
    await redis.delete(ledger._key(key))
    answers = await asyncio.gather(*(ledger.claim([(key, c)]) for c in contents))
    winners = [i for i, (claim,) in enumerate(answers) if claim.held is None]
    assert len(winners) == 1
    winner = contents[winners[0]]
    losers = [claim for i, (claim,) in enumerate(answers) if i != winners[0]]
    assert all(claim == Claim(Held.IN_FLIGHT, winner) for claim in losers)
