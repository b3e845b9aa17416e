"""The doubts about a year file (monitor/calendarcheck.py): each rule on a day counted by hand,
the shipped years, and calendars composed of blocks and swaps."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from monitor.calendar import YearSchedule, load_calendars, statutory_days
from monitor.calendarcheck import Block, Rule, check_year, holiday_runs

CALENDARS = load_calendars()
SHIPPED = CALENDARS.get("cn").schedules
DAY = timedelta(days=1)


def schedule(year: int, holidays: Iterable[date], workdays: Iterable[date] = ()) -> YearSchedule:
    """A year file's schedule, as the loader returns it."""
    return YearSchedule("cn", year, "测试", frozenset(holidays), frozenset(workdays))


def rules(year_schedule: YearSchedule) -> list[tuple[date | None, Rule]]:
    check = check_year(year_schedule, CALENDARS.festival_dates(year_schedule.year))
    return [(doubt.day, doubt.rule) for doubt in check.doubts]


def shipped_with(
    year: int, *, off: frozenset[date] = frozenset(), working: frozenset[date] = frozenset()
) -> YearSchedule:
    """A shipped year with days added to (``off``) or taken from (``working``) its days off."""
    base = SHIPPED[year]
    return schedule(year, (base.holidays | off) - working, base.workdays)


@pytest.mark.parametrize("year", range(2021, 2027))
def test_the_shipped_years_raise_no_doubt(year: int) -> None:
    assert rules(SHIPPED[year]) == []


def test_2020_is_off_balance_by_the_spring_festival_extension() -> None:
    # The extension notice added Friday 01-31 off and cancelled the make-up Saturday 02-01.
    check = check_year(SHIPPED[2020], CALENDARS.festival_dates(2020))
    assert [(d.day, d.rule) for d in check.doubts] == [(None, Rule.DAYS_OFF_BALANCE)]
    assert check.doubts[0].detail.startswith(
        "19 weekdays off minus 6 make-up days is 13; the 放假办法 gives 11 statutory days"
    )


def test_blocks_are_named_by_the_statutory_days_inside_them() -> None:
    check = check_year(SHIPPED[2025], CALENDARS.festival_dates(2025))
    assert [(b.first, b.last, b.festivals) for b in check.blocks][-1] == (
        date(2025, 10, 1),
        date(2025, 10, 8),
        ("国庆节", "中秋节"),  # 中秋 on 10-06, inside the 国庆节 block
    )
    ends_2022 = check_year(SHIPPED[2022], CALENDARS.festival_dates(2022)).blocks[-1]
    assert ends_2022 == Block(date(2022, 12, 31), date(2022, 12, 31), ("2023 元旦",))


def test_a_saturday_off_alone_is_a_lone_weekend_holiday() -> None:
    saturday = date(2026, 3, 14)
    assert rules(shipped_with(2026, off=frozenset({saturday}))) == [
        (saturday, Rule.LONE_WEEKEND_HOLIDAY)
    ]


def test_a_weekend_off_with_no_weekday_is_two_lone_days() -> None:
    weekend = frozenset({date(2026, 3, 14), date(2026, 3, 15)})
    assert rules(shipped_with(2026, off=weekend)) == [
        (day, Rule.LONE_WEEKEND_HOLIDAY) for day in sorted(weekend)
    ]


def test_a_weekend_day_off_on_new_years_eve_may_go_on_next_year() -> None:
    assert rules(shipped_with(2022)) == []  # 2022-12-31, a Saturday, begins the 2023 元旦


def test_a_festival_without_any_day_off_is_missing() -> None:
    duanwu = frozenset({date(2026, 6, 19), date(2026, 6, 20), date(2026, 6, 21)})  # 端午: Fri
    assert rules(shipped_with(2026, working=duanwu)) == [
        (date(2026, 6, 19), Rule.FESTIVAL_MISSING),
        (None, Rule.DAYS_OFF_BALANCE),  # one weekday off fewer
    ]


def test_a_statutory_day_that_is_not_off_is_named() -> None:
    # 2026 春节 is 02-17 (Tuesday); from 2025 除夕 (02-16) is a statutory day too
    check = check_year(
        shipped_with(2026, working=frozenset({date(2026, 2, 16)})), CALENDARS.festival_dates(2026)
    )
    assert [(d.day, d.rule) for d in check.doubts] == [
        (date(2026, 2, 15), Rule.LONE_WEEKEND_HOLIDAY),  # the Sunday before is now cut off
        (date(2026, 2, 16), Rule.STATUTORY_DAY_WORKING),
        (None, Rule.DAYS_OFF_BALANCE),
    ]
    assert check.doubts[1].detail == "春节: a statutory day off is not in holidays"


def test_before_2025_new_years_eve_was_not_statutory() -> None:
    assert rules(SHIPPED[2024]) == []  # 2024-02-09, 除夕, was a working day
    assert sum(map(len, statutory_days(2024, CALENDARS.festival_dates(2024)).values())) == 11
    assert sum(map(len, statutory_days(2025, CALENDARS.festival_dates(2025)).values())) == 13


def test_a_weekday_off_around_no_holiday_is_named_and_unbalances_the_year() -> None:
    wednesday = date(2026, 3, 11)
    assert rules(shipped_with(2026, off=frozenset({wednesday}))) == [
        (wednesday, Rule.BLOCK_WITHOUT_FESTIVAL),
        (None, Rule.DAYS_OFF_BALANCE),
    ]


def test_a_year_without_lunar_dates_checks_the_fixed_holidays_only() -> None:
    year = schedule(2150, {date(2150, 1, 1), date(2150, 5, 1), date(2150, 5, 2)})
    check = check_year(year, None)
    assert check.unchecked == ("春节", "清明节", "端午节", "中秋节")
    assert [(d.day, d.rule) for d in check.doubts] == [(date(2150, 10, 1), Rule.FESTIVAL_MISSING)]


def test_runs_join_consecutive_days_only() -> None:
    days = {date(2026, 1, 1), date(2026, 1, 2), date(2026, 1, 4)}
    assert holiday_runs(days) == [
        (date(2026, 1, 1), date(2026, 1, 2)),
        (date(2026, 1, 4), date(2026, 1, 4)),
    ]


@st.composite
def composed_years(draw: st.DrawFn) -> YearSchedule:
    """A year as a notice builds one: each festival's statutory days widened into a block that
    has a weekday off, and every weekday off beyond the statutory days paid by a weekend
    make-up day outside the blocks."""
    year = draw(st.integers(2020, 2099))
    statutory = statutory_days(year, CALENDARS.festival_dates(year))
    holidays: set[date] = set()
    for days in statutory.values():
        before, after = draw(st.integers(0, 4)), draw(st.integers(0, 4))
        first = max(min(days) - before * DAY, date(year, 1, 1))
        holidays |= {first + n * DAY for n in range((max(days) - first).days + after + 1)}
    runs = holiday_runs(holidays)
    assume(all(any((a + n * DAY).weekday() < 5 for n in range((b - a).days + 1)) for a, b in runs))
    owed = sum(map(len, statutory.values()))
    extra = sum(1 for d in holidays if d.weekday() < 5) - owed
    assume(extra >= 0)
    year_days = (date(year, 1, 1) + n * DAY for n in range(366))
    weekends = [d for d in year_days if d.year == year and d.weekday() >= 5 and d not in holidays]
    return schedule(year, holidays, draw(st.permutations(weekends))[:extra])


@given(composed_years())
def test_a_year_of_blocks_and_swaps_raises_no_doubt(year: YearSchedule) -> None:
    assert rules(year) == []


@given(composed_years(), st.data())
def test_a_weekend_day_off_far_from_every_block_is_the_one_doubt(
    year: YearSchedule, data: st.DataObject
) -> None:
    taken = year.holidays | year.workdays
    far = [
        day
        for day in (date(year.year, 1, 1) + n * DAY for n in range(1, 364))
        if day.weekday() >= 5 and not {day - DAY, day, day + DAY} & taken
    ]
    day = data.draw(st.sampled_from(far))
    assert rules(schedule(year.year, year.holidays | {day}, year.workdays)) == [
        (day, Rule.LONE_WEEKEND_HOLIDAY)
    ]
