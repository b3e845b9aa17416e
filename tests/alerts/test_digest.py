"""Digests: every notice held back by a rate limit goes out in exactly one digest."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from alerts.channels.base import Message
from alerts.digest import digest_id, digests


def notice(n: int, title: str = "") -> Message:
    return Message(
        f"a{n}.3.raised.0", title or f"【红色告警】办件超期 SZ-2026-{n:06d}", "…", ("138",)
    )


def test_a_storm_folds_into_digests_that_fit_the_channel_and_list_every_notice() -> None:
    pending = [notice(n) for n in range(1_000)]
    out = digests(pending, 4_096)
    assert all(len(message.text.encode()) <= 4_096 for message in out)
    covered = [notice_id for message in out for notice_id in message.covers]
    assert covered == [message.notice_id for message in pending]
    assert len(out) < 30 and out[0].title.startswith("【汇总】")
    assert out[0].mobiles == ("138",)  # each mobile once


def test_one_notice_waiting_goes_as_itself() -> None:
    assert digests([notice(1)], 4_096) == [notice(1)]


def test_a_digest_id_is_the_same_for_the_same_notices() -> None:
    assert digest_id(["b", "a"]) == digest_id(["a", "b"]) != digest_id(["a", "c"])


@given(
    titles=st.lists(st.text(min_size=1, max_size=300), min_size=1, max_size=60),
    limit=st.integers(min_value=200, max_value=5_000),
)
def test_every_notice_is_in_exactly_one_digest_in_order(titles: list[str], limit: int) -> None:
    pending = [notice(n, title) for n, title in enumerate(titles)]
    out = digests(pending, limit)
    covered = [
        notice_id for message in out for notice_id in (message.covers or (message.notice_id,))
    ]
    assert covered == [message.notice_id for message in pending]
    assert all(len(message.text.encode()) <= limit for message in out if message.covers)
