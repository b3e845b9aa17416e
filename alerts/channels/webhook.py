"""The generic webhook (SPEC §5.2): the notice's JSON, its id as ``Idempotency-Key``, and
``X-Redline-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`` when
the receiver has a secret. A 2xx confirms; 429 and 5xx are retried (honouring Retry-After);
any other answer is permanent (pure)."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

from alerts.channels.base import SENT, Message, Outcome, Request, http_outcome, json_body
from alerts.policy import Receiver


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The ``X-Redline-Signature`` value for ``body`` sent at ``timestamp``."""
    signed = f"{timestamp}.".encode() + body
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


class Webhook:
    """SPEC §5.2."""

    def request(self, receiver: Receiver, message: Message, now: float) -> Request:
        body = json_body(message.payload)
        headers = {
            "Content-Type": "application/json",
            "Idempotency-Key": message.notice_id,
        }
        if receiver.secret:
            headers["X-Redline-Signature"] = signature(receiver.secret, int(now), body)
        return Request(receiver.url, headers, body)

    def read(self, status: int, headers: Mapping[str, str], body: bytes) -> Outcome:
        found = http_outcome(status, headers, body[:200].decode("utf-8", "replace"))
        return SENT if found is None else found
