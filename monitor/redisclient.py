"""The one way Redline's long-running processes connect to Redis: bounded waits, a bounded pool,
and a broken connection replaced at once.

- A Redis that stops answering (frozen, a cut network) fails a command after ``timeout_s``
  rather than never, so the caller's own policy decides: the API answers 503, the worker holds
  its batch and tries again (``monitor.retry``).
- At most ``max_connections`` connections; a command that finds them all busy waits for one
  (up to ``timeout_s``) instead of failing at once. A burst (a thousand walls reconnecting
  after an API restart) is queued, not answered 503: redis-py's default pool raised
  "Too many connections" at its 100th.
- A connection the pool kept from before a Redis restart fails on its next use: that command is
  sent again at once, on a new connection, up to twice. Only a broken connection is retried so,
  not a timeout: redis-py's default retries timeouts too, which made a request wait three
  timeouts (15 s) where one was meant.
"""

from __future__ import annotations

from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError

MAX_CONNECTIONS = 100  # per process


def connect(url: str, timeout_s: float, max_connections: int = MAX_CONNECTIONS) -> Redis:
    """A client of the Redis at ``url`` (no connection is made before its first command)."""
    pool = BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_s,
        socket_connect_timeout=timeout_s,
        socket_timeout=timeout_s,
        retry=Retry(
            ExponentialBackoff(cap=0.5, base=0.05),
            retries=2,
            supported_errors=(RedisConnectionError,),
        ),
    )
    return Redis.from_pool(pool)
