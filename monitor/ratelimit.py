"""Rate limits shared by every process: token buckets kept in Redis.

A bucket holds at most ``burst`` tokens and refills at ``rate`` tokens a second; each request
takes one, and a request that finds less than one token is refused with the seconds to wait
until there is one. The buckets live in Redis rather than in the process so that a limit holds
however many processes share the load, and they count on Redis's own clock (``TIME``), the same
for all of them.

Users: the API, per token (``monitor.api.auth``) and per client address for the applicant's
public page (``monitor.api.public``); next, the notifier, per channel (a DingTalk or WeCom robot
takes 20 messages a minute: ``await limiter.take(robot_id, rate=20 / 60, burst=20)``, and on a
wait above 0 hold the message that long rather than send it into a refusal).

This module knows Redis and nothing of HTTP: a caller turns a wait into its own answer (429
with Retry-After, a delayed send).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from redis.asyncio import Redis

# One bucket (KEYS[1]). ARGV: rate per second, burst, and optionally the time in milliseconds
# (tests); else Redis's clock. Returns {1, 0} when the request may go, else {0, ms to wait}.
_TAKE = """
local rate, burst = tonumber(ARGV[1]), tonumber(ARGV[2])
local now = tonumber(ARGV[3])
if now == nil then
  local now_parts = redis.call('TIME')
  now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(state[1]), tonumber(state[2])
if tokens == nil then tokens, at = burst, now end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate / 1000)
local allowed, wait = 0, 0
if tokens >= 1 then
  tokens, allowed = tokens - 1, 1
else
  wait = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
-- a full bucket holds nothing worth keeping: let an idle bucket go
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, wait}
"""


class TokenBucket:
    """Token buckets in Redis, one per key, stored as ``{prefix}{key}`` (a hash that expires
    once the bucket would be full again).

    ``clock`` (seconds) replaces Redis's clock, for tests that step time by hand; leave it out
    in production, where every process must count on the same clock."""

    def __init__(self, redis: Redis, prefix: str, clock: Callable[[], float] | None = None) -> None:
        self.redis = redis
        self.prefix = prefix
        self._clock = clock
        self._take = redis.register_script(_TAKE)  # EVALSHA; the script loads itself once

    async def take(self, key: str, rate: float, burst: float) -> float:
        """Take one token from ``key``'s bucket (``burst`` at most, ``rate`` more a second):
        0 when the request may go, else the seconds to wait until one token is there (the
        refused request takes nothing)."""
        args: list[float] = [rate, burst]
        if self._clock is not None:
            args.append(int(self._clock() * 1000))
        allowed, wait_ms = await self._take(keys=[self.prefix + key], args=args)
        return 0.0 if allowed else int(wait_ms) / 1000

    async def forget(self, key: str) -> None:
        """Drop ``key``'s bucket: its next request finds it full."""
        await self.redis.delete(self.prefix + key)


def retry_after(wait: float) -> int:
    """A wait as whole seconds for a ``Retry-After`` header: rounded up, at least 1."""
    return max(1, math.ceil(wait))
