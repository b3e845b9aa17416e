"""Digests (汇总): when a receiver's rate limit holds notices back (a storm of red lights at one
DingTalk robot), the notices waiting when its next slot opens go out as one message that lists
them all, rather than one by one into the vendor's refusal, and never dropped. A digest stands
for the notices it lists (``Message.covers``): delivered, each of them is; its id comes from
theirs, so a retry of the same digest is the same notice to the receiver (pure).

A digest is cut to the channel's size (WeCom's 4 096 bytes, Feishu's 20 KB): what does not fit
goes into the next digest, for the slot after."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from alerts.channels.base import Message

HEADER = "【汇总】{count}条告警通知（超出发送频率，合并发送）"


def digest_id(notice_ids: Sequence[str]) -> str:
    """The id of a digest of these notices, whatever their order."""
    joined = "\n".join(sorted(notice_ids)).encode()
    return f"digest.{hashlib.sha256(joined).hexdigest()[:20]}"


def _line(message: Message) -> str:
    return f"- {message.title}"


def digests(pending: Sequence[Message], limit_bytes: int) -> list[Message]:
    """``pending`` (oldest first) as digests of at most ``limit_bytes`` of text each, in order;
    a notice whose own line is longer has it cut. Each notice is in exactly one digest; one
    notice alone is sent as itself."""
    if len(pending) == 1:
        return list(pending)
    groups: list[list[Message]] = []
    size = 0
    room = limit_bytes - len(HEADER.format(count=len(pending)).encode()) - 1
    for message in pending:
        line = len(_line(message).encode()) + 1
        if groups and size + line <= room:
            groups[-1].append(message)
            size += line
        else:
            groups.append([message])
            size = line
    return [_digest(group, limit_bytes) for group in groups]


def _digest(group: list[Message], limit_bytes: int) -> Message:
    if len(group) == 1:
        return group[0]
    title = HEADER.format(count=len(group))
    lines = [_line(message) for message in group]
    text = "\n".join(lines)
    if len(text.encode()) > limit_bytes:
        text = text.encode()[:limit_bytes].decode("utf-8", "ignore")
    mobiles = tuple(dict.fromkeys(mobile for message in group for mobile in message.mobiles))
    ids = tuple(message.notice_id for message in group)
    return Message(digest_id(ids), title, text, mobiles, covers=ids)
