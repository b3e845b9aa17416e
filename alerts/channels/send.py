"""One attempt of a notice on its receiver's channel, over httpx. A transport failure (no
answer, a timeout) is retryable; its outcome names the receiver and the kind of failure, never
the URL, which holds a robot's credential."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence

import httpx

from alerts.channels.base import Channel, Message, Outcome, Request, Result
from alerts.channels.robots import DingTalk, Feishu, WeCom
from alerts.channels.sms import sms_request
from alerts.channels.webhook import Webhook
from alerts.policy import Channel as ChannelName
from alerts.policy import Receiver
from monitor.settings import Settings

CHANNELS: dict[ChannelName, Channel] = {
    ChannelName.WEBHOOK: Webhook(),
    ChannelName.DINGTALK: DingTalk(),
    ChannelName.WECOM: WeCom(),
    ChannelName.FEISHU: Feishu(),
}


async def send_sms(
    client: httpx.AsyncClient, settings: Settings, mobiles: Sequence[str], message: Message
) -> Outcome:
    """Send one notice by SMS to ``mobiles`` through the gateway once."""
    if settings.sms_url is None:
        return Outcome(Result.PERMANENT, "unconfigured", "REDLINE_SMS_URL is not set")
    token = settings.sms_token.get_secret_value() if settings.sms_token else None
    request = sms_request(
        settings.sms_url, settings.sms_body, token, mobiles, message, settings.sms_max_chars
    )
    return await _post(client, "sms gateway", request, CHANNELS[ChannelName.WEBHOOK].read)


async def send(
    client: httpx.AsyncClient, receiver: Receiver, message: Message, now: float | None = None
) -> Outcome:
    """Send ``message`` to ``receiver`` once and read the answer."""
    channel = CHANNELS[receiver.channel]
    request = channel.request(receiver, message, time.time() if now is None else now)
    return await _post(client, receiver.id, request, channel.read)


Read = Callable[[int, Mapping[str, str], bytes], Outcome]


async def _post(client: httpx.AsyncClient, name: str, request: Request, read: Read) -> Outcome:
    try:
        answer = await client.post(request.url, headers=dict(request.headers), content=request.body)
    except httpx.TimeoutException:
        return Outcome(Result.RETRYABLE, "timeout", f"{name}: no answer in time")
    except httpx.TransportError as exc:
        return Outcome(Result.RETRYABLE, "transport", f"{name}: {type(exc).__name__}")
    return read(answer.status_code, answer.headers, answer.content)
