"""One-tap acknowledgement links (一键确认): a notice carries a link that lets whoever received
it acknowledge the alert from a phone, without a login. The link's token is the claim (alert,
level, notice, expiry) and an HMAC-SHA256 of it under the deployment's secret: it cannot be
forged or altered, and it expires. Single use is the API's part: the first confirm records the
notice id (the audit log says who and when), a second finds it taken (pure)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass

TAG_BYTES = 16  # of the HMAC: 128 bits


class AckLinkError(ValueError):
    """A token that is malformed, altered, signed with another secret, or expired."""


@dataclass(frozen=True, slots=True)
class AckClaim:
    alert_id: str
    level: int
    notice_id: str
    expires: int  # epoch seconds


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _tag(secret: str, payload: bytes) -> bytes:
    return hmac.new(secret.encode(), b"redline-ack." + payload, hashlib.sha256).digest()[:TAG_BYTES]


def sign(secret: str, claim: AckClaim) -> str:
    """The token of ``claim``: ``<payload>.<tag>``, both base64url."""
    if not secret:
        raise ValueError("an acknowledgement link needs a secret")
    payload = json.dumps(
        [claim.alert_id, claim.level, claim.notice_id, claim.expires],
        ensure_ascii=False,
        separators=(",", ":"),
    ).encode()
    return f"{_b64(payload)}.{_b64(_tag(secret, payload))}"


def verify(secret: str, token: str, now: int) -> AckClaim:
    """The claim of a token signed with ``secret`` that has not expired at ``now``."""
    try:
        payload_text, tag_text = token.split(".")
        payload, tag = _unb64(payload_text), _unb64(tag_text)
    except ValueError:
        raise AckLinkError("the link is malformed") from None
    if _b64(payload) != payload_text or _b64(tag) != tag_text:  # one spelling per token
        raise AckLinkError("the link is malformed")
    if not hmac.compare_digest(tag, _tag(secret, payload)):
        raise AckLinkError("the link is not one Redline signed, or it was altered")
    alert_id, level, notice_id, expires = json.loads(payload)
    if now >= expires:
        raise AckLinkError("the link has expired")
    return AckClaim(alert_id, level, notice_id, expires)
