"""Notices by email over SMTP (aiosmtplib): a plain-text part and an HTML alternative, STARTTLS
whenever the server offers it, the notice id in ``Message-ID`` so that a mail a retry sends
again is the same mail to a client that deduplicates. :func:`compose` is pure; :func:`send`
does the I/O. A reply in 4xx is retryable, 5xx permanent; no answer at all is retryable. The
password never appears in an outcome."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate

import aiosmtplib

from alerts.channels.base import SENT, Message, Outcome, Result
from monitor.settings import Settings

_BOLD = re.compile(r"\*\*(.+?)\*\*")  # markdown's bold, the one emphasis the templates use
_STRONG = r"<strong>\1</strong>"


def compose(sender: str, to: Sequence[str], message: Message, now: float) -> EmailMessage:
    """The mail of one notice."""
    mail = EmailMessage()
    mail["Subject"] = message.title
    mail["From"] = sender
    mail["To"] = ", ".join(to)
    mail["Date"] = formatdate(now, localtime=False)
    mail["Message-ID"] = f"<{message.notice_id}@redline>"
    mail["X-Redline-Notice"] = message.notice_id
    mail.set_content(f"{message.title}\n\n{message.text}\n")
    paragraphs = "".join(
        f"<p>{_BOLD.sub(_STRONG, html.escape(line))}</p>"
        for line in message.text.splitlines()
        if line.strip()
    )
    mail.add_alternative(
        f'<html><body><h3 style="color:#c00">{html.escape(message.title)}</h3>'
        f"{paragraphs}</body></html>",
        subtype="html",
    )
    return mail


async def send(settings: Settings, to: Sequence[str], message: Message, now: float) -> Outcome:
    """Send one notice's mail to ``to`` once."""
    mail = compose(settings.smtp_from, to, message, now)
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    try:
        await aiosmtplib.send(
            mail,
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            username=settings.smtp_user,
            password=password,
            start_tls=None,  # when the server offers it
            timeout=settings.smtp_timeout_s,
        )
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = sorted({str(refusal.code) for refusal in exc.recipients})
        temporary = all(code.startswith("4") for code in codes)
        result = Result.RETRYABLE if temporary else Result.PERMANENT
        return Outcome(result, ",".join(codes), "recipients refused")
    except aiosmtplib.SMTPResponseException as exc:
        result = Result.RETRYABLE if 400 <= exc.code < 500 else Result.PERMANENT
        return Outcome(result, str(exc.code), exc.message[:200])
    except (aiosmtplib.SMTPException, OSError) as exc:
        return Outcome(Result.RETRYABLE, "transport", type(exc).__name__)
    return SENT
