"""One-tap acknowledgement links: signed, unalterable, expiring."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alerts.acklink import AckClaim, AckLinkError, sign, verify

SECRET = "ack-secret-for-tests"
CLAIM = AckClaim("SZ-2026-000123:deadline_overdue:promised", 2, "a.2.escalated.0", 2_000)


def test_a_link_gives_back_its_claim_until_it_expires() -> None:
    token = sign(SECRET, CLAIM)
    assert verify(SECRET, token, 1_999) == CLAIM
    with pytest.raises(AckLinkError, match="expired"):
        verify(SECRET, token, 2_000)


def test_a_link_signed_with_another_secret_is_refused() -> None:
    with pytest.raises(AckLinkError, match="not one Redline signed"):
        verify(SECRET, sign("another", CLAIM), 0)


@given(position=st.integers(min_value=0), replacement=st.sampled_from("AQgw_-xB"))
def test_any_altered_character_is_refused(position: int, replacement: str) -> None:
    """Including the last character of a segment, whose low bits base64 ignores: a token has
    one spelling."""
    token = sign(SECRET, CLAIM)
    at = position % len(token)
    if token[at] == replacement or token[at] == ".":
        return
    altered = token[:at] + replacement + token[at + 1 :]
    with pytest.raises(AckLinkError):
        verify(SECRET, altered, 0)


@pytest.mark.parametrize("token", ["", "abc", "a.b.c", "!!.??"])
def test_a_malformed_link_is_refused(token: str) -> None:
    with pytest.raises(AckLinkError):
        verify(SECRET, token, 0)


def test_a_token_spelled_another_way_is_refused() -> None:
    """The tag's last character carries 2 bits and 4 that base64 ignores: flipping one of those
    decodes to the same tag, and must still be refused (one spelling per token)."""
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    token = sign(SECRET, CLAIM)
    respelled = token[:-1] + alphabet[alphabet.index(token[-1]) ^ 1]
    with pytest.raises(AckLinkError, match="malformed"):
        verify(SECRET, respelled, 0)
