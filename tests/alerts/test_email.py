"""The email channel against a real SMTP server (aiosmtpd on loopback): the mail a notice makes
(plain text and HTML, the notice id as Message-ID), and the server's answers read as outcomes."""

from __future__ import annotations

import email
import socket
from collections.abc import Iterator
from email.message import Message as Mail
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from alerts.channels.base import Message, Result
from alerts.channels.email import send
from monitor.settings import Settings

NOTICE = Message(
    "a7.1.raised.0", "红色告警 SZ-2026-000123", "**食品经营许可** 超期 2天3小时\n处理人 张三"
)


class Inbox:
    """Records each mail; refuses recipients whose address starts with a reply code."""

    def __init__(self) -> None:
        self.mails: list[Mail] = []
        self.recipients: list[list[str]] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        code = address.split("-", 1)[0]
        if code.isdigit():
            return f"{code} mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.mails.append(email.message_from_bytes(envelope.content))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, Settings]]:
    handler = Inbox()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()  # returns once the server answers
    try:
        yield handler, Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_from="redline@test")
    finally:
        controller.stop()


async def test_a_notice_arrives_as_text_and_html_with_its_id(inbox: tuple[Inbox, Settings]) -> None:
    handler, settings = inbox
    outcome = await send(settings, ["office@example.gov.cn"], NOTICE, 1_764_800_000)
    assert outcome.sent, outcome
    (mail,) = handler.mails
    assert handler.recipients == [["office@example.gov.cn"]]
    assert mail["Message-ID"] == "<a7.1.raised.0@redline>"
    assert str(email.header.make_header(email.header.decode_header(mail["Subject"]))) == (
        NOTICE.title
    )
    parts = {part.get_content_type(): part for part in mail.walk()}
    plain = parts["text/plain"].get_payload(decode=True).decode()
    rich = parts["text/html"].get_payload(decode=True).decode()
    assert "超期 2天3小时" in plain and "<strong>食品经营许可</strong>" in rich


@pytest.mark.parametrize(("code", "result"), [("450", Result.RETRYABLE), ("550", Result.PERMANENT)])
async def test_a_refused_recipient_is_retryable_on_4xx_and_permanent_on_5xx(
    inbox: tuple[Inbox, Settings], code: str, result: Result
) -> None:
    handler, settings = inbox
    outcome = await send(settings, [f"{code}-head@example.gov.cn"], NOTICE, 1_764_800_000)
    assert (outcome.result, outcome.code) == (result, code)
    assert not handler.mails


async def test_a_server_that_is_down_is_retryable_and_no_password_is_shown() -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_password="s3cret-pass")
    outcome = await send(settings, ["office@example.gov.cn"], NOTICE, 1_764_800_000)
    assert outcome.result is Result.RETRYABLE
    assert "s3cret-pass" not in f"{outcome!r} {outcome.message}"
