"""The ingestion API's idempotency ledger: which ``(source, event_id)`` it took, with a hash of
each one's canonical content, for ``api_idempotency_days``.

An event is *claimed* before it is produced, in one atomic step for the whole request (a Lua
script): of concurrent requests carrying the same event, exactly one claims it; the others
see the claim at once and are answered duplicate (same content) or conflict (different). A
claim then ends one of three ways, as the Kafka transaction did (``monitor.api.kafka``):

- committed: the claim becomes the accepted hash, kept ``keep_s`` seconds;
- not committed: the claim is released, so the same or a corrected event can be sent again;
- not known: the claim is kept as *unknown*, as long as an accepted one. The same content may
  claim it again (the resend is produced; if the first did commit, the worker drops the
  repeat); different content is a conflict, since the first may be applied.

A claim in flight expires after ``pending_s`` by itself, should the API die before it ends it.

The keys sit in Redis under ``ingest_prefix`` (never under the read model's prefix, which
``ReadModel.flush()`` deletes), one string per event: ``<hash>``, ``p:<hash>`` (in flight) or
``u:<hash>`` (unknown). This class is the only code that knows those names.
"""

from __future__ import annotations

from collections.abc import Sequence
from enum import Enum
from typing import NamedTuple

from redis.asyncio import Redis

# KEYS: the idempotency keys. ARGV[1]: seconds a claim in flight lives, then one content hash
# per key. Returns per key '' when claimed now, else what it holds.
_CLAIM = """
local out = {}
for i, key in ipairs(KEYS) do
  local mine = ARGV[i + 1]
  local held = redis.call('GET', key)
  if held == false or held == 'u:' .. mine then
    redis.call('SET', key, 'p:' .. mine, 'EX', ARGV[1])
    out[i] = ''
  else
    out[i] = held
  end
end
return out
"""

# KEYS: the claimed keys. ARGV[1]: 'accepted', 'release' or 'unknown'; ARGV[2]: seconds to
# keep what the claim becomes, then one content hash per key. Only a claim still ours
# ('p:' .. hash) changes.
_SETTLE = """
local n = 0
for i, key in ipairs(KEYS) do
  local mine = ARGV[i + 2]
  if redis.call('GET', key) == 'p:' .. mine then
    if ARGV[1] == 'release' then
      redis.call('DEL', key)
    elseif ARGV[1] == 'accepted' then
      redis.call('SET', key, mine, 'EX', ARGV[2])
    else
      redis.call('SET', key, 'u:' .. mine, 'EX', ARGV[2])
    end
    n = n + 1
  end
end
return n
"""


class EventKey(NamedTuple):
    """What makes an event the same event: its source and its id (SPEC §1)."""

    source: str
    event_id: str


class Held(Enum):
    """What stands in the ledger for an event another request took."""

    ACCEPTED = "accepted"  # committed
    IN_FLIGHT = "in flight"  # claimed by a request not yet answered
    UNKNOWN = "unknown"  # its commit was not confirmed: it may be applied


class Claim(NamedTuple):
    """The answer of :meth:`IdempotencyLedger.claim` for one event: claimed now (``held`` is
    None), or what the ledger holds for it and with which content hash."""

    held: Held | None
    content: str = ""


class IdempotencyLedger:
    """Content hashes of events taken under ``prefix``, each accepted one kept ``keep_s``
    seconds, a claim in flight ``pending_s``."""

    def __init__(self, redis: Redis, prefix: str, keep_s: int, pending_s: int) -> None:
        self.redis = redis
        self.prefix = prefix
        self.keep_s = keep_s
        self.pending_s = pending_s
        self._claim = redis.register_script(_CLAIM)  # EVALSHA; loads itself once
        self._settle = redis.register_script(_SETTLE)

    async def claim(self, events: Sequence[tuple[EventKey, str]]) -> list[Claim]:
        """Claim each (key, content hash) not held by another request: one atomic step for
        all. Raises ``RedisError`` when Redis fails (then nothing is claimed)."""
        if not events:
            return []
        keys = [self._key(key) for key, _ in events]
        held = await self._claim(
            keys=keys, args=[self.pending_s, *(content for _, content in events)]
        )
        return [_claim_of(value) for value in held]

    async def accepted(self, events: Sequence[tuple[EventKey, str]]) -> None:
        """The claimed events were committed."""
        await self._end(events, "accepted", self.keep_s)

    async def release(self, events: Sequence[tuple[EventKey, str]]) -> None:
        """The claimed events were not committed and never will be."""
        await self._end(events, "release", 0)

    async def unknown(self, events: Sequence[tuple[EventKey, str]]) -> None:
        """Whether the claimed events were committed is not known."""
        await self._end(events, "unknown", self.keep_s)

    async def _end(self, events: Sequence[tuple[EventKey, str]], how: str, keep_s: int) -> None:
        if not events:
            return
        keys = [self._key(key) for key, _ in events]
        await self._settle(keys=keys, args=[how, keep_s, *(content for _, content in events)])

    def _key(self, key: EventKey) -> str:
        # a tab cannot occur in a source or an event id (no control characters)
        return f"{self.prefix}{key.source}\t{key.event_id}"


def _claim_of(value: bytes | str) -> Claim:
    text = value.decode() if isinstance(value, bytes) else value
    if text == "":
        return Claim(None)
    if text.startswith("p:"):
        return Claim(Held.IN_FLIGHT, text[2:])
    if text.startswith("u:"):
        return Claim(Held.UNKNOWN, text[2:])
    return Claim(Held.ACCEPTED, text)
