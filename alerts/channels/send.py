"""One attempt of a notice on its receiver's channel, over httpx. A transport failure (no
answer, a timeout) is retryable; its outcome names the receiver and the kind of failure, never
the URL, which holds a robot's credential."""

from __future__ import annotations

import time

import httpx

from alerts.channels.base import Channel, Message, Outcome, Result
from alerts.channels.robots import DingTalk, Feishu, WeCom
from alerts.channels.webhook import Webhook
from alerts.policy import Channel as ChannelName
from alerts.policy import Receiver

CHANNELS: dict[ChannelName, Channel] = {
    ChannelName.WEBHOOK: Webhook(),
    ChannelName.DINGTALK: DingTalk(),
    ChannelName.WECOM: WeCom(),
    ChannelName.FEISHU: Feishu(),
}


async def send(
    client: httpx.AsyncClient, receiver: Receiver, message: Message, now: float | None = None
) -> Outcome:
    """Send ``message`` to ``receiver`` once and read the answer."""
    channel = CHANNELS[receiver.channel]
    request = channel.request(receiver, message, time.time() if now is None else now)
    try:
        answer = await client.post(request.url, headers=dict(request.headers), content=request.body)
    except httpx.TimeoutException:
        return Outcome(Result.RETRYABLE, "timeout", f"{receiver.id}: no answer in time")
    except httpx.TransportError as exc:
        return Outcome(Result.RETRYABLE, "transport", f"{receiver.id}: {type(exc).__name__}")
    return channel.read(answer.status_code, answer.headers, answer.content)
