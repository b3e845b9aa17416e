"""Open-case index members and the pagination cursors that stand for them (keyset pagination,
no offsets); the opaque encoding the alert queue's cursors share (``alertqueue``)."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any, Final

from monitor.readmodel.views import instant_of

UNDATED: Final = 99_999_999_999  # the sort key of an open case without a deadline (suspended)
_MEMBER = re.compile(r"^\d{11}:.+$", re.DOTALL)
NOT_OURS: Final = "cursor is not one this API handed out"


class CursorError(ValueError):
    """A pagination cursor this read model did not hand out."""


def deadline_member(deadline: int | None, case_id: str) -> str:
    """The member of an open-case index: fixed-width deadline then id, so that the byte order
    of a lexicographic sorted set is deadline order with ties broken by case id."""
    return f"{UNDATED if deadline is None else deadline:011d}:{case_id}"


def case_member(view: Mapping[str, Any]) -> str:
    """The index member of an open case view: where it stands in deadline order."""
    return deadline_member(instant_of(view.get("deadline")), str(view["case_id"]))


def case_id_of(member: str) -> str:
    """The case id of an open-case index member."""
    return member[12:]


def opaque(text: str) -> str:
    """``text`` as an opaque cursor: base64url without padding."""
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def unopaque(cursor: str) -> str:
    """The text an :func:`opaque` cursor holds, or :class:`CursorError`."""
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorError(NOT_OURS) from None


def encode_cursor(member: str) -> str:
    """An opaque cursor: the last index member returned (keyset pagination, no offsets)."""
    return opaque(member)


def decode_cursor(cursor: str) -> str:
    """The index member a cursor stands for, or :class:`CursorError`."""
    member = unopaque(cursor)
    if not _MEMBER.match(member):
        raise CursorError(NOT_OURS)
    return member
