"""The ingestion API's idempotency ledger: which ``(source, event_id)`` it accepted, with a hash
of each one's canonical content, for ``api_idempotency_days``.

It sits in Redis under ``ingest_prefix`` (never under the read model's prefix, which
``ReadModel.flush()`` deletes), one string key per event. This class is the only code that
knows those key names.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from redis.asyncio import Redis

# KEYS: the idempotency keys. ARGV[1]: seconds to keep them, then one content hash per key.
_REMEMBER = """
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i + 1], 'EX', ARGV[1])
end
return #KEYS
"""


class EventKey(NamedTuple):
    """What makes an event the same event: its source and its id (SPEC §1)."""

    source: str
    event_id: str


class IdempotencyLedger:
    """Content hashes of accepted events under ``prefix``, each kept ``keep_s`` seconds."""

    def __init__(self, redis: Redis, prefix: str, keep_s: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.keep_s = keep_s
        self._remember = redis.register_script(_REMEMBER)  # EVALSHA; loads itself once

    async def earlier(self, keys: Sequence[EventKey]) -> list[str | None]:
        """The content hash each event was accepted with before, or None: one round trip."""
        if not keys:
            return []
        stored = await self.redis.mget([self._key(key) for key in keys])
        return [value.decode() if isinstance(value, bytes) else value for value in stored]

    async def remember(self, accepted: Sequence[tuple[EventKey, str]]) -> None:
        """Record accepted events with their content hashes: one script call, not a command
        per event (a batch of 100 would otherwise spend more time in the Redis client than in
        validation). Raises ``RedisError`` when Redis fails."""
        if not accepted:
            return
        keys = [self._key(key) for key, _ in accepted]
        await self._remember(keys=keys, args=[self.keep_s, *(content for _, content in accepted)])

    def _key(self, key: EventKey) -> str:
        # a tab cannot occur in a source or an event id (no control characters)
        return f"{self.prefix}{key.source}\t{key.event_id}"
