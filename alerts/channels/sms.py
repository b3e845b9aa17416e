"""Notices by SMS through the centre's HTTP gateway (短信网关), whose request is configured, not
coded: ``REDLINE_SMS_URL`` receives a POST whose JSON body is ``REDLINE_SMS_BODY`` with ``{to}``
(the mobile numbers, comma-separated) and ``{text}`` put into its strings, and
``Authorization: Bearer <REDLINE_SMS_TOKEN>`` when a token is set. The values go into the
template's parsed strings, never into its text, so a message cannot break the JSON. The text is
the title and the message cut to ``REDLINE_SMS_MAX_CHARS``. A 2xx confirms; 429 and 5xx are
retried; any other answer is permanent, as a webhook's (pure: :func:`alerts.channels.send.send_sms`
sends)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from alerts.channels.base import Message, Request, json_body

DEFAULT_BODY = '{"to": "{to}", "text": "{text}"}'


class SmsTemplateError(ValueError):
    """A body template that is not JSON, or names a placeholder other than to and text."""


def _fill(value: Any, fields: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        try:
            return value.format_map(fields)
        except (KeyError, IndexError, ValueError) as exc:
            raise SmsTemplateError(
                f"REDLINE_SMS_BODY: {value!r}: only {{to}} and {{text}} may be filled in ({exc})"
            ) from None
    if isinstance(value, list):
        return [_fill(item, fields) for item in value]
    if isinstance(value, dict):
        return {key: _fill(item, fields) for key, item in value.items()}
    return value


def sms_request(
    url: str,
    template: str,
    token: str | None,
    mobiles: Sequence[str],
    message: Message,
    max_chars: int,
) -> Request:
    """The gateway's request for one notice to ``mobiles``."""
    try:
        parsed = json.loads(template)
    except ValueError as exc:
        raise SmsTemplateError(f"REDLINE_SMS_BODY: not JSON: {exc}") from None
    text = f"【Redline】{message.title} {message.text}".replace("**", "")
    if len(text) > max_chars:
        text = text[: max_chars - 1] + "…"
    body = _fill(parsed, {"to": ",".join(mobiles), "text": text})
    headers = {"Content-Type": "application/json", "Idempotency-Key": message.notice_id}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Request(url, headers, json_body(body))
