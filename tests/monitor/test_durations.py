"""Durations for people: two units at most, truncated, in the clock's own unit."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.durations import remaining_text, span_text
from monitor.limits import Unit

MINUTE, HOUR, DAY = 60, 3_600, 86_400
WD, D, H = Unit.WORKING_DAYS, Unit.DAYS, Unit.HOURS


@pytest.mark.parametrize(
    ("seconds", "unit", "text"),
    [
        (-(2 * DAY + 3 * HOUR), D, "超期 2天3小时"),
        (-(2 * DAY + 3 * HOUR), WD, "超期 2个工作日3小时"),
        (DAY, WD, "剩余 1个工作日"),
        (3 * HOUR + 20 * MINUTE + 59, WD, "剩余 3小时20分"),  # truncated, not rounded up
        (2 * DAY + 59 * MINUTE, D, "剩余 2天"),  # 0 hours are left out
        (2 * DAY + HOUR - 1, D, "剩余 2天"),
        (50 * HOUR + 5 * MINUTE, H, "剩余 50小时5分"),  # an hours clock reads in hours
        (HOUR, H, "剩余 1小时"),
        (-36_000, WD, "超期 10小时"),
        (-20 * MINUTE, D, "超期 20分钟"),
        (59, H, "剩余 不足1分钟"),
        (0, WD, "剩余 不足1分钟"),  # the deadline instant, or a 即办件 on its start day
        (-1, H, "超期 不足1分钟"),
    ],
)
def test_examples(seconds: int, unit: Unit, text: str) -> None:
    assert remaining_text(seconds, unit) == text


def test_a_span_is_not_negative() -> None:
    assert span_text(DAY + HOUR, WD) == "1个工作日1小时"
    with pytest.raises(ValueError, match="not negative"):
        span_text(-1, D)


_TEXT = re.compile(
    r"^(剩余|超期) (?:(?P<days>\d+)(?P<word>个工作日|天))?(?:(?P<hours>\d+)小时)?"
    r"(?:(?P<minutes>\d+)分钟?)?(?P<under>不足1分钟)?$"
)
_DAY_WORD = {WD: "个工作日", D: "天"}


def _read_back(text: str, unit: Unit) -> tuple[int, int]:
    """The seconds a text shows and the resolution it was truncated to, checking its form."""
    match = _TEXT.match(text)
    assert match is not None, text
    shown = {name: int(match[name]) for name in ("days", "hours", "minutes") if match[name]}
    if match["under"]:
        assert not shown, text
        return 0, MINUTE
    assert shown and all(shown.values()), text  # a zero amount is left out
    assert not ("days" in shown and "minutes" in shown), text  # two units, next to each other
    assert match["word"] in (None, _DAY_WORD.get(unit)), text  # hours clocks have no days
    days, hours, minutes = (shown.get(name, 0) for name in ("days", "hours", "minutes"))
    assert hours < 24 or not days, text
    assert minutes < 60, text
    if minutes:
        assert text.endswith("分" if hours else "分钟"), text
    return days * DAY + hours * HOUR + minutes * MINUTE, HOUR if days else MINUTE


@given(seconds=st.integers(-20_000 * DAY, 20_000 * DAY), unit=st.sampled_from(list(Unit)))
def test_a_duration_reads_back_to_what_it_truncates(seconds: int, unit: Unit) -> None:
    text = remaining_text(seconds, unit)
    assert text.startswith("超期 " if seconds < 0 else "剩余 ")
    shown, resolution = _read_back(text, unit)
    assert shown <= abs(seconds) < shown + resolution


@given(a=st.integers(0, 400 * DAY), b=st.integers(0, 400 * DAY), unit=st.sampled_from(list(Unit)))
def test_more_time_never_reads_as_less(a: int, b: int, unit: Unit) -> None:
    low, high = sorted((a, b))
    assert (
        _read_back(remaining_text(low, unit), unit)[0]
        <= (_read_back(remaining_text(high, unit), unit)[0])
    )
