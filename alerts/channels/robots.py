"""The chat robots a Chinese service centre already uses, each with its vendor's message
format, signature and answers (``../shared/research/channels.md``; pure).

- **DingTalk custom robot** (钉钉自定义机器人): markdown with ``at.atMobiles`` (each mobile
  also written in the text, or it does not highlight); 加签: ``timestamp`` (ms) and
  ``sign = base64(HMAC-SHA256(secret, "<timestamp>\\n<secret>"))`` in the URL. A 200 whose
  ``errcode`` is not 0 is a failure; 130101 is "send too fast" (over 20 a minute, after which
  the robot is throttled for ten minutes): retried after that.
- **WeCom group robot** (企业微信群机器人): markdown ``content`` of at most 4 096 bytes; no
  signature (the key in the URL is the credential). ``errcode`` 45009 is the frequency limit.
- **Feishu custom bot** (飞书自定义机器人): an interactive card with a markdown element, body at
  most 20 KB; ``timestamp`` (s) and ``sign = base64(HMAC-SHA256(key="<timestamp>\\n<secret>",
  msg=""))`` in the body. ``code`` 11232 is the frequency limit.

Codes not known to be transient are permanent: a bad signature, a missing keyword, an IP not
allowed will not mend by retrying.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import urllib.parse
from collections.abc import Mapping

from alerts.channels.base import (
    SENT,
    Message,
    Outcome,
    Request,
    Result,
    clip_utf8,
    http_outcome,
    json_body,
    vendor_json,
)
from alerts.policy import Receiver

JSON = {"Content-Type": "application/json;charset=utf-8"}
DINGTALK_TOO_FAST = 130101
DINGTALK_THROTTLED_S = 600.0  # the robot is throttled for ten minutes once over its limit
WECOM_TOO_FAST = 45009
WECOM_MARKDOWN_BYTES = 4096
FEISHU_TOO_FAST = 11232
FEISHU_BODY_BYTES = 20 * 1024
TOO_FAST_RETRY_S = 60.0


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's 加签 ``sign`` (before URL encoding)."""
    signed = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256)
    return base64.b64encode(signed.digest()).decode()


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign``: the key is the timestamp and secret, the message empty."""
    signed = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256)
    return base64.b64encode(signed.digest()).decode()


def _read(
    status: int,
    headers: Mapping[str, str],
    body: bytes,
    code_key: str,
    message_key: str,
    too_fast: Mapping[int, float],
) -> Outcome:
    found = http_outcome(status, headers, body[:200].decode("utf-8", "replace"))
    if found is not None:
        return found
    answer = vendor_json(body)
    if answer is None:
        return Outcome(Result.PERMANENT, str(status), "the answer is not JSON")
    code = answer.get(code_key, answer.get("StatusCode"))  # Feishu's legacy field too
    if code == 0:
        return SENT
    message = str(answer.get(message_key, answer.get("StatusMessage", "")))[:200]
    if code is None:
        return Outcome(Result.PERMANENT, "", f"no {code_key} in the answer")
    if isinstance(code, int) and code in too_fast:
        return Outcome(Result.RETRYABLE, str(code), message, too_fast[code])
    return Outcome(Result.PERMANENT, str(code), message)


class DingTalk:
    def request(self, receiver: Receiver, message: Message, now: float) -> Request:
        url = receiver.url
        if receiver.secret:
            timestamp = int(now * 1000)
            sign = urllib.parse.quote_plus(dingtalk_sign(receiver.secret, timestamp))
            url = f"{url}{'&' if '?' in url else '?'}timestamp={timestamp}&sign={sign}"
        mentions = " ".join(f"@{mobile}" for mobile in message.mobiles)
        text = f"{message.text}\n\n{mentions}" if mentions else message.text
        body = {
            "msgtype": "markdown",
            "markdown": {"title": message.title, "text": text},
            "at": {"atMobiles": list(message.mobiles), "isAtAll": False},
        }
        return Request(url, JSON, json_body(body))

    def read(self, status: int, headers: Mapping[str, str], body: bytes) -> Outcome:
        return _read(
            status, headers, body, "errcode", "errmsg", {DINGTALK_TOO_FAST: DINGTALK_THROTTLED_S}
        )


class WeCom:
    def request(self, receiver: Receiver, message: Message, now: float) -> Request:
        content = clip_utf8(f"## {message.title}\n{message.text}", WECOM_MARKDOWN_BYTES)
        body = {"msgtype": "markdown", "markdown": {"content": content}}
        return Request(receiver.url, JSON, json_body(body))

    def read(self, status: int, headers: Mapping[str, str], body: bytes) -> Outcome:
        return _read(status, headers, body, "errcode", "errmsg", {WECOM_TOO_FAST: TOO_FAST_RETRY_S})


class Feishu:
    def request(self, receiver: Receiver, message: Message, now: float) -> Request:
        def body_of(text: str) -> bytes:
            body: dict[str, object] = {
                "msg_type": "interactive",
                "card": {
                    "header": {"title": {"tag": "plain_text", "content": message.title}},
                    "elements": [{"tag": "markdown", "content": text}],
                },
            }
            if receiver.secret:
                timestamp = int(now)
                body = {
                    "timestamp": str(timestamp),
                    "sign": feishu_sign(receiver.secret, timestamp),
                    **body,
                }
            return json_body(body)

        text, encoded = message.text, body_of(message.text)
        while len(encoded) > FEISHU_BODY_BYTES:  # cut the text until the whole body fits
            over = len(encoded) - FEISHU_BODY_BYTES
            text = clip_utf8(text, max(len(text.encode()) - over - 16, 0))
            encoded = body_of(text)
        return Request(receiver.url, JSON, encoded)

    def read(self, status: int, headers: Mapping[str, str], body: bytes) -> Outcome:
        return _read(status, headers, body, "code", "msg", {FEISHU_TOO_FAST: TOO_FAST_RETRY_S})
