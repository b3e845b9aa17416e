"""The channels against local stand-ins of the vendors' endpoints (tests/alerts/robotkit.py),
one kit for all: the signature each vendor checks, its answers read as outcomes (sent, too fast
and retried after the vendor's wait, refused for good), its size limits, and no secret or
credential in any outcome."""

from __future__ import annotations

import json
import socket

import httpx
import pytest
from robotkit import SECRET, TOKEN, Answer, Robot, serving

from alerts.channels.base import Message, Result
from alerts.channels.send import send, send_sms
from alerts.channels.sms import SmsTemplateError
from alerts.policy import Channel, Receiver
from monitor.settings import Settings

KINDS = ["dingtalk", "wecom", "feishu", "webhook"]
MESSAGE = Message(
    notice_id="a1.2.escalated.0",
    title="红色告警 超期",
    text="**SZ-2026-000123** 食品经营许可 超期 2天3小时",
    mobiles=("13800000000",),
    payload={"version": "1", "notice": {"id": "a1.2.escalated.0", "type": "escalated"}},
)
TOO_FAST = {
    "dingtalk": (
        Answer(200, {"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"}),
        600.0,
    ),
    "wecom": (Answer(200, {"errcode": 45009, "errmsg": "api freq out of limit"}), 60.0),
    "feishu": (Answer(200, {"code": 11232, "msg": "frequency limited"}), 60.0),
    "webhook": (Answer(429, b"slow down", {"Retry-After": "7"}), 7.0),
}


def receiver(robot: Robot, secret: str = SECRET) -> Receiver:
    return Receiver(f"{robot.kind}-robot", Channel(robot.kind), robot.url, secret)


async def deliver(robot: Robot, secret: str = SECRET, message: Message = MESSAGE) -> object:
    async with httpx.AsyncClient(timeout=5) as client:
        return await send(client, receiver(robot, secret), message)


@pytest.mark.parametrize("kind", KINDS)
async def test_a_signed_notice_is_delivered(kind: str) -> None:
    with serving(Robot(kind)) as robot:
        outcome = await deliver(robot)
    assert outcome.sent, outcome
    (received,) = robot.received
    text = json.dumps(received, ensure_ascii=False)
    if kind == "webhook":
        assert received == MESSAGE.payload
        assert robot.headers[0]["Idempotency-Key"] == MESSAGE.notice_id
    else:
        assert "SZ-2026-000123" in text and "超期 2天3小时" in text


@pytest.mark.parametrize("kind", ["dingtalk", "feishu", "webhook"])
async def test_a_wrong_secret_is_refused_for_good_with_the_vendors_code(kind: str) -> None:
    with serving(Robot(kind)) as robot:
        outcome = await deliver(robot, secret="SECwrong")
    assert outcome.result is Result.PERMANENT
    assert outcome.code == {"dingtalk": "310000", "feishu": "19021", "webhook": "401"}[kind]
    assert not robot.received


async def test_a_wecom_key_the_vendor_does_not_know_is_permanent() -> None:
    with serving(Robot("wecom")) as robot:
        robot.url = robot.url.replace(TOKEN, "not-the-key")
        outcome = await deliver(robot)
    assert (outcome.result, outcome.code) == (Result.PERMANENT, "93000")


@pytest.mark.parametrize("kind", KINDS)
async def test_too_fast_is_retried_after_the_vendors_wait(kind: str) -> None:
    answer, wait = TOO_FAST[kind]
    with serving(Robot(kind, script=[answer])) as robot:
        first = await deliver(robot)
        second = await deliver(robot)
    assert (first.result, first.retry_after) == (Result.RETRYABLE, wait)
    assert second.sent


@pytest.mark.parametrize("kind", KINDS)
async def test_a_server_error_is_retryable_and_a_client_error_permanent(kind: str) -> None:
    script = [Answer(503, b"busy"), Answer(404, b"no such robot")]
    with serving(Robot(kind, script=script)) as robot:
        busy, missing = await deliver(robot), await deliver(robot)
    assert (busy.result, busy.code) == (Result.RETRYABLE, "503")
    assert (missing.result, missing.code) == (Result.PERMANENT, "404")


@pytest.mark.parametrize("kind", KINDS)
async def test_no_outcome_carries_the_secret_or_the_credential(kind: str) -> None:
    with socket.socket() as closed:  # a port nobody listens on: the receiver is down
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    with serving(Robot(kind)) as robot:
        url = robot.url
        refused = await deliver(robot, secret="SECwrong-" + SECRET)
    down_robot = Robot(kind, url=url.replace(url.split("/")[2], f"127.0.0.1:{port}"))
    down = await deliver(down_robot)
    assert down.result is Result.RETRYABLE
    for outcome in (refused, down):
        shown = f"{outcome!r} {outcome.message} {outcome.code}"
        assert TOKEN not in shown and SECRET not in shown and "127.0.0.1" not in shown


async def test_dingtalk_mentions_each_mobile_in_the_text_and_in_at() -> None:
    with serving(Robot("dingtalk")) as robot:
        assert (await deliver(robot)).sent
    (received,) = robot.received
    assert received["at"]["atMobiles"] == ["13800000000"]
    assert "@13800000000" in received["markdown"]["text"]


async def test_wecom_markdown_is_cut_to_4096_bytes_on_a_character() -> None:
    long = Message("n.1.raised.0", "红色告警", "超期案件 " * 2_000)
    with serving(Robot("wecom")) as robot:
        assert (await deliver(robot, message=long)).sent
    content = robot.received[0]["markdown"]["content"]
    assert len(content.encode()) <= 4096 and content.endswith("…")


async def test_feishu_body_is_kept_under_20_kb() -> None:
    long = Message("n.1.raised.0", "红色告警", "超期案件 " * 5_000)
    with serving(Robot("feishu")) as robot:
        assert (await deliver(robot, message=long)).sent
    assert len(robot.bodies[0]) <= 20 * 1024


# -- SMS through a gateway: its request configured, not coded ---------------------------------


def gateway(robot: Robot, **changes: object) -> Settings:
    return Settings(sms_url=robot.url, sms_token=SECRET, **changes)  # type: ignore[arg-type]


async def sms(settings: Settings, message: Message = MESSAGE) -> object:
    async with httpx.AsyncClient(timeout=5) as client:
        return await send_sms(client, settings, ["13800000000", "13900000000"], message)


async def test_an_sms_fills_the_configured_body_and_is_cut_to_its_length() -> None:
    template = '{"mobiles": "{to}", "content": "{text}", "sign": "区政务服务中心"}'
    with serving(Robot("sms")) as robot:
        outcome = await sms(gateway(robot, sms_body=template, sms_max_chars=30))
    assert outcome.sent, outcome
    (received,) = robot.received
    assert received["mobiles"] == "13800000000,13900000000"
    assert received["sign"] == "区政务服务中心"
    assert len(received["content"]) == 30 and received["content"].endswith("…")
    assert "**" not in received["content"]


async def test_a_message_cannot_break_the_gateways_json() -> None:
    tricky = Message("n.1.raised.0", 'a "quoted" title', 'text with "quotes" and {braces}')
    with serving(Robot("sms")) as robot:
        assert (await sms(gateway(robot), tricky)).sent
    assert 'a "quoted" title' in robot.received[0]["text"]


async def test_an_sms_gateway_that_refuses_the_token_is_permanent() -> None:
    with serving(Robot("sms", secret="another-token")) as robot:
        outcome = await sms(gateway(robot))
    assert (outcome.result, outcome.code) == (Result.PERMANENT, "401")
    assert SECRET not in f"{outcome!r}"


async def test_an_sms_template_naming_other_fields_is_refused() -> None:
    with serving(Robot("sms")) as robot, pytest.raises(SmsTemplateError, match="REDLINE_SMS_BODY"):
        await sms(gateway(robot, sms_body='{"to": "{to}", "x": "{secret}"}'))
