"""Who is calling: bearer tokens for integrators and people, stored hashed in Redis.

Two kinds of token. An **integrator** token belongs to one window system: it may only send
events whose ``source`` is its own (``source=None``: any source, the dev token of ``make run``),
optionally only for some centres. A **person** token carries a role — viewer, supervisor or
admin, each with the rights of the ones before — and reads the API or acts on alerts.

Only a hash of each secret is kept. The secrets are 256 random bits, so a fast hash is enough:
nobody can search that space, and a slow password hash (bcrypt, argon2) would only add
milliseconds to every request. The secret itself is shown once, by ``redline token create``.

Each token has a token bucket in Redis (``monitor.ratelimit``, rather than in the process) so
that the limit holds per token however many API processes share the load.
"""

from __future__ import annotations

import hashlib
import json
import math
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Literal

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from redis.asyncio import Redis

from monitor.events import is_code
from monitor.ratelimit import TokenBucket, retry_after

Kind = Literal["integrator", "person"]
KINDS: tuple[Kind, ...] = ("integrator", "person")
SECRET_PREFIX = "rl_"  # recognisable in a leaked-secret scan


class Role(StrEnum):
    """What a person may do; each role includes the rights of the ones before."""

    VIEWER = "viewer"  # reads cases, alerts, rankings, the wall
    SUPERVISOR = "supervisor"  # also acknowledges and cancels alerts (督办)
    ADMIN = "admin"  # everything

    @property
    def rank(self) -> int:
        return _RANKS[self]


_RANKS = {Role.VIEWER: 0, Role.SUPERVISOR: 1, Role.ADMIN: 2}


@dataclass(frozen=True)
class Principal:
    """The holder of a valid token, as the routes see it."""

    token_id: str
    name: str
    kind: Kind
    role: Role | None  # people only
    source: str | None  # integrators only; None: any source (the dev ingest token)
    centers: frozenset[str] | None  # None: all centres
    rate_per_s: float | None = None  # requests per second; None: the API's default
    created_at: int | None = None
    revoked_at: int | None = None

    def may_send(self, source: str) -> bool:
        """Whether this token may send events of ``source``."""
        return self.kind == "integrator" and (self.source is None or self.source == source)

    def may_see(self, center: str | None) -> bool:
        """Whether this token covers the centre ``center``."""
        return self.centers is None or (center is not None and center in self.centers)

    def to_json(self) -> str:
        return json.dumps(
            {
                "id": self.token_id,
                "name": self.name,
                "kind": self.kind,
                "role": self.role,
                "source": self.source,
                "centers": None if self.centers is None else sorted(self.centers),
                "rate": self.rate_per_s,
                "created_at": self.created_at,
                "revoked_at": self.revoked_at,
            },
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, raw: bytes | str) -> Principal:
        data: dict[str, Any] = json.loads(raw)
        centers = data.get("centers")
        return cls(
            token_id=data["id"],
            name=data["name"],
            kind=data["kind"],
            role=None if data.get("role") is None else Role(data["role"]),
            source=data.get("source"),
            centers=None if centers is None else frozenset(centers),
            rate_per_s=data.get("rate"),
            created_at=data.get("created_at"),
            revoked_at=data.get("revoked_at"),
        )


class TokenError(ValueError):
    """A token that cannot be made as asked (names the field and the rule)."""


def new_secret() -> str:
    """A fresh secret: 256 random bits, URL-safe."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """What is stored in place of a secret."""
    return hashlib.sha256(secret.encode("utf-8", "surrogatepass")).hexdigest()


class TokenStore:
    """API tokens under ``prefix`` in Redis (never under the read model's prefix, which
    ``ReadModel.flush()`` deletes).

    Keys: ``{prefix}tokens`` (hash: token id -> the principal as JSON, revoked ones included,
    for ``list``), ``{prefix}secret:{sha256}`` (the principal of a live secret, one GET per
    request), ``{prefix}digest`` (hash: token id -> its secret's hash, to revoke it) and
    ``{prefix}bucket:{token id}`` (its rate-limit bucket)."""

    def __init__(self, redis: Redis, prefix: str = "redline:auth:") -> None:
        self.redis = redis
        self.prefix = prefix
        self._buckets = TokenBucket(redis, prefix + "bucket:")

    async def create(
        self,
        name: str,
        kind: str,
        role: Role | None = None,
        source: str | None = None,
        centers: Iterable[str] | None = None,
        rate_per_s: float | None = None,
        *,
        token_id: str | None = None,
        secret: str | None = None,
    ) -> tuple[Principal, str]:
        """A new token; returns it and its secret, which is not stored and never shown again.

        With ``token_id`` and ``secret`` it registers that secret under that id instead (the
        dev tokens of ``make run``), replacing the secret the id had before."""
        token_id = "tok_" + secrets.token_hex(6) if token_id is None else token_id
        secret = new_secret() if secret is None else secret
        principal = _checked(token_id, name, kind, role, source, centers, rate_per_s)
        sha = digest(secret)
        old = await self.redis.hget(self._key("digest"), token_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            if old is not None and _text(old) != sha:
                pipe.delete(self._key("secret", _text(old)))
            pipe.set(self._key("secret", sha), principal.to_json())
            pipe.hset(self._key("digest"), token_id, sha)
            pipe.hset(self._key("tokens"), token_id, principal.to_json())
            await pipe.execute()
        return principal, secret

    async def verify(self, secret: str) -> Principal | None:
        """The principal of a live secret; None when unknown or revoked."""
        raw = await self.redis.get(self._key("secret", digest(secret)))
        return None if raw is None else Principal.from_json(raw)

    async def revoke(self, token_id: str) -> bool:
        """Revoke a token at once; False when there is no live token of that id."""
        raw = await self.redis.hget(self._key("tokens"), token_id)
        if raw is None:
            return False
        principal = Principal.from_json(raw)
        if principal.revoked_at is not None:
            return False
        revoked = _replace(principal, revoked_at=int(time.time()))
        sha = await self.redis.hget(self._key("digest"), token_id)
        async with self.redis.pipeline(transaction=True) as pipe:
            if sha is not None:
                pipe.delete(self._key("secret", _text(sha)))
            pipe.hdel(self._key("digest"), token_id)
            pipe.hset(self._key("tokens"), token_id, revoked.to_json())
            await pipe.execute()
        await self._buckets.forget(token_id)
        return True

    async def live(self) -> int:
        """How many tokens are live (issued and not revoked)."""
        return int(await self.redis.hlen(self._key("digest")))

    async def list(self) -> list[Principal]:
        """Every token, revoked ones included, by creation time: never a secret nor a hash."""
        raw = await self.redis.hvals(self._key("tokens"))
        found = [Principal.from_json(value) for value in raw]
        return sorted(found, key=lambda p: (p.created_at or 0, p.token_id))

    async def take(self, principal: Principal, rate_per_s: float, burst_s: float) -> float:
        """Take one request from the token's bucket (``rate_per_s`` unless the token has its
        own rate; it holds ``burst_s`` seconds' worth): 0 when the request may go, else the
        seconds to wait before the next one would."""
        rate = principal.rate_per_s or rate_per_s
        burst = max(1.0, rate * burst_s)
        return await self._buckets.take(principal.token_id, rate, burst)

    def _key(self, *parts: str) -> str:
        return self.prefix + ":".join(parts)


def _checked(
    token_id: str,
    name: str,
    kind: str,
    role: Role | None,
    source: str | None,
    centers: Iterable[str] | None,
    rate_per_s: float | None,
) -> Principal:
    """The principal asked for, or :class:`TokenError` naming what is wrong."""
    if kind not in KINDS:
        raise TokenError(f"kind: must be one of {', '.join(KINDS)}")
    if not name.strip() or len(name) > 128 or not name.isprintable():
        raise TokenError("name: must be 1-128 printable characters")
    codes = None if centers is None else frozenset(centers)
    if kind == "person":
        if role is None:
            raise TokenError("role: a person token needs one (viewer, supervisor or admin)")
        if source is not None:
            raise TokenError("source: only integrator tokens send events")
    elif role is not None:
        raise TokenError("role: only person tokens have a role")
    for field, value in (("source", source), *(("centers", code) for code in codes or ())):
        if value is not None and not is_code(value):
            raise TokenError(f"{field}: {value!r} is not a code (1-64 chars, no control chars)")
    if codes is not None and not codes:
        raise TokenError("centers: give at least one centre, or none for all centres")
    if rate_per_s is not None and not (0 < rate_per_s <= 100_000 and math.isfinite(rate_per_s)):
        raise TokenError("rate: must be a number of requests per second above 0")
    return Principal(
        token_id=token_id,
        name=name,
        kind=kind,  # checked against KINDS above
        role=role,
        source=source,
        centers=codes,
        rate_per_s=rate_per_s,
        created_at=int(time.time()),
    )


def _replace(principal: Principal, **changes: Any) -> Principal:
    values = {**principal.__dict__, **changes}
    return Principal(**values)


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


# -- FastAPI dependencies ----------------------------------------------------------------------

_bearer = HTTPBearer(
    auto_error=False,
    description="`Authorization: Bearer <token>`; tokens come from `redline token create`.",
)


def _unauthorized(detail: str) -> HTTPException:
    return HTTPException(
        status.HTTP_401_UNAUTHORIZED, detail, headers={"WWW-Authenticate": "Bearer"}
    )


async def authenticated(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller's principal, within its rate limit: else 401 or 429."""
    if credentials is None:
        raise _unauthorized("missing bearer token: send the header Authorization: Bearer <token>")
    store: TokenStore = request.app.state.tokens
    principal = await store.verify(credentials.credentials)
    if principal is None:
        raise _unauthorized("unknown or revoked token: ask the operators for a valid one")
    request.state.principal = principal  # for the access log's token id, never its secret
    settings = request.app.state.settings
    wait = await store.take(principal, settings.api_rate_per_s, settings.api_rate_burst_s)
    if wait > 0:
        rate = principal.rate_per_s or settings.api_rate_per_s
        raise HTTPException(
            status.HTTP_429_TOO_MANY_REQUESTS,
            f"rate limit of this token ({rate:g} requests/s) exceeded: retry after the "
            "Retry-After header's seconds, or send bigger batches",
            headers={"Retry-After": str(retry_after(wait))},
        )
    return principal


def _person(least: Role) -> Any:
    async def check(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
        if principal.kind != "person" or principal.role is None:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this route needs a person token with role {least} or above; "
                "an integrator token only sends events",
            )
        if principal.role.rank < least.rank:
            raise HTTPException(
                status.HTTP_403_FORBIDDEN,
                f"this route needs role {least} or above; this token has role {principal.role}",
            )
        return principal

    return check


async def _integrator(principal: Annotated[Principal, Depends(authenticated)]) -> Principal:
    if principal.kind != "integrator":
        raise HTTPException(
            status.HTTP_403_FORBIDDEN,
            "sending events needs an integrator token (bound to a source); "
            "a person token cannot send events",
        )
    return principal


Viewer = Annotated[Principal, Depends(_person(Role.VIEWER))]
Supervisor = Annotated[Principal, Depends(_person(Role.SUPERVISOR))]
Admin = Annotated[Principal, Depends(_person(Role.ADMIN))]
Integrator = Annotated[Principal, Depends(_integrator)]
