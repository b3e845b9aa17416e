"""What every channel shares: the message it carries, the request it makes, the outcome it
reads (pure)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from alerts.policy import Receiver
from monitor.retry import parse_retry_after


@dataclass(frozen=True, slots=True)
class Message:
    """One notice as rendered for people (``title``, ``text`` in markdown, ``mobiles`` to @)
    and for machines (``payload``: the SPEC §5.2 body a generic webhook receives)."""

    notice_id: str  # the idempotency key: the same for every retry of one notice
    title: str
    text: str
    mobiles: tuple[str, ...] = ()
    payload: Mapping[str, Any] = field(default_factory=dict)
    covers: tuple[str, ...] = ()  # a digest: the notice ids it stands for


@dataclass(frozen=True, slots=True)
class Request:
    """An HTTP POST as a channel makes it."""

    url: str
    headers: Mapping[str, str]
    body: bytes


class Result(StrEnum):
    SENT = "sent"
    RETRYABLE = "retryable"
    PERMANENT = "permanent"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one attempt: sent, or failed with the vendor's ``code`` and ``message``
    (an HTTP status when the vendor gave no code of its own); ``retry_after``: the wait the
    vendor asked for, if any (``monitor.retry.attempts`` owns the waiting)."""

    result: Result
    code: str = ""
    message: str = ""
    retry_after: float | None = None

    @property
    def sent(self) -> bool:
        return self.result is Result.SENT

    @property
    def retryable(self) -> bool:
        return self.result is Result.RETRYABLE


SENT = Outcome(Result.SENT)


class Channel(Protocol):
    """The shape of every channel."""

    def request(self, receiver: Receiver, message: Message, now: float) -> Request: ...

    def read(self, status: int, headers: Mapping[str, str], body: bytes) -> Outcome: ...


def json_body(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def http_outcome(status: int, headers: Mapping[str, str], detail: str) -> Outcome | None:
    """The outcome an HTTP status says by itself (None: a 2xx, the body decides): 429 and 5xx
    are retried, honouring ``Retry-After``; any other status is permanent."""
    if 200 <= status < 300:
        return None
    if status == 429 or status >= 500:
        return Outcome(Result.RETRYABLE, str(status), detail, retry_after_of(headers))
    return Outcome(Result.PERMANENT, str(status), detail)


def retry_after_of(headers: Mapping[str, str]) -> float | None:
    lowered = {key.lower(): value for key, value in headers.items()}
    return parse_retry_after(lowered.get("retry-after"))


def vendor_json(body: bytes) -> dict[str, Any] | None:
    """A robot's JSON answer, or None when it is not JSON."""
    try:
        found = json.loads(body)
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def clip_utf8(text: str, limit: int, marker: str = "\n…") -> str:
    """``text`` cut to at most ``limit`` bytes of UTF-8, on a character boundary, with
    ``marker`` at the end when it was cut."""
    data = text.encode()
    if len(data) <= limit:
        return text
    room = limit - len(marker.encode())
    return data[:room].decode("utf-8", "ignore") + marker
