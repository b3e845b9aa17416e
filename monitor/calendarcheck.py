"""What an operator checks in a year file before loading it (`redline calendar check`): its days
off grouped into the holiday blocks of the notice, and what looks wrong, each with its rule.

The file has already loaded (:func:`monitor.calendar.parse_year_file`), so the hard rules hold: a
make-up day is a weekend day, every date lies in the year, no date is in both lists. What is
left are doubts, which a real notice can break (the 2020 春节 extension, the 2015 抗战胜利纪念日
day off), so they warn and never refuse. The format names no festival: a block is named by the
statutory days (法定节假日, :func:`monitor.calendar.statutory_days`) that fall inside it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from monitor.calendar import WEEKDAYS, YearSchedule, statutory_days

_DAY = timedelta(days=1)


class Rule(StrEnum):
    """Why a day of a year file looks wrong."""

    LONE_WEEKEND_HOLIDAY = "lone-weekend-holiday"  # a weekend day off outside any holiday block
    FESTIVAL_MISSING = "festival-missing"  # none of a festival's statutory days is off
    STATUTORY_DAY_WORKING = "statutory-day-working"  # one statutory day of a festival is not off
    BLOCK_WITHOUT_FESTIVAL = "block-without-festival"  # days off around no statutory day
    DAYS_OFF_BALANCE = "days-off-balance"  # weekdays off − make-up days ≠ statutory days


@dataclass(frozen=True, slots=True)
class Doubt:
    """One thing that looks wrong: the day it is about (None: the whole year), rule, detail."""

    day: date | None
    rule: Rule
    detail: str


@dataclass(frozen=True, slots=True)
class Block:
    """Consecutive days off (放假), named by the statutory holidays whose days lie in it."""

    first: date
    last: date
    festivals: tuple[str, ...]

    @property
    def days_off(self) -> tuple[date, ...]:
        """Every day of the block, in order."""
        return tuple(self.first + n * _DAY for n in range((self.last - self.first).days + 1))


@dataclass(frozen=True, slots=True)
class YearCheck:
    """A year file's blocks and doubts; ``unchecked``: the festivals without dates that year."""

    schedule: YearSchedule
    blocks: tuple[Block, ...]
    doubts: tuple[Doubt, ...]
    unchecked: tuple[str, ...]


def weekday_name(day: date) -> str:
    """``2024-02-04 Sunday``: a date as the operator guide writes it."""
    return f"{day.isoformat()} {WEEKDAYS[day.weekday()]}"


def check_year(schedule: YearSchedule, festivals: Mapping[str, date] | None) -> YearCheck:
    """The blocks of a loaded year file and its doubts; ``festivals``: the year's lunar dates."""
    statutory = statutory_days(schedule.year, festivals)
    blocks = [
        Block(first, last, festivals_in(first, last, statutory))
        for first, last in holiday_runs(schedule.holidays)
    ]
    doubts = [
        *lone_weekend_holidays(blocks),
        *missing_festivals(schedule.holidays, statutory),
        *blocks_without_festival(blocks),
    ]
    unchecked = () if festivals else ("春节", "清明节", "端午节", "中秋节")
    if not unchecked:
        doubts += days_off_balance(schedule, statutory)
    doubts.sort(key=lambda doubt: doubt.day or date.max)  # by date; the whole year's last
    return YearCheck(schedule, tuple(blocks), tuple(doubts), unchecked)


def holiday_runs(holidays: Iterable[date]) -> list[tuple[date, date]]:
    """The runs of consecutive days off, each as its first and last day, in order."""
    runs: list[tuple[date, date]] = []
    for day in sorted(holidays):
        if runs and runs[-1][1] + _DAY == day:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def festivals_in(
    first: date, last: date, statutory: Mapping[str, tuple[date, ...]]
) -> tuple[str, ...]:
    """The festivals with a statutory day in ``[first, last]``, in the order of their days; a
    block that ends on 31 December without one is next year's 元旦 begun early (operator guide
    §7.4)."""
    inside = sorted(
        (min(d for d in days if first <= d <= last), name)
        for name, days in statutory.items()
        if any(first <= d <= last for d in days)
    )
    if not inside and (last.month, last.day) == (12, 31):
        return (f"{last.year + 1} 元旦",)
    return tuple(name for _, name in inside)


def lone_weekend_holidays(blocks: Iterable[Block]) -> list[Doubt]:
    """A weekend day off is only part of a holiday when its block has weekdays off too: a
    Saturday or Sunday alone changes no deadline, and is most often a mistyped date.

    A block that touches 1 January or 31 December is let be: it may go on in the other year's
    file (the 2023 元旦 holiday began on 2022-12-31, operator guide §7.4)."""
    doubts = []
    for block in blocks:
        first, last = block.first, block.last
        boundary = (first.month, first.day) == (1, 1) or (last.month, last.day) == (12, 31)
        if boundary or any(d.weekday() < 5 for d in block.days_off):
            continue
        doubts += [
            Doubt(d, Rule.LONE_WEEKEND_HOLIDAY, "a weekend day off with no weekday off beside it")
            for d in block.days_off
        ]
    return doubts


def missing_festivals(
    holidays: frozenset[date], statutory: Mapping[str, tuple[date, ...]]
) -> list[Doubt]:
    """Every statutory day is a day off (放假办法 第二条), on a weekend too: a notice's span always
    contains it, and gives a weekday in lieu (第六条 补假)."""
    doubts = []
    for name, days in statutory.items():
        working = [d for d in days if d not in holidays]
        if len(working) == len(days):
            doubts.append(
                Doubt(days[0], Rule.FESTIVAL_MISSING, f"{name}: none of its statutory days is off")
            )
            continue
        doubts += [
            Doubt(d, Rule.STATUTORY_DAY_WORKING, f"{name}: a statutory day off is not in holidays")
            for d in working
        ]
    return doubts


def blocks_without_festival(blocks: Iterable[Block]) -> list[Doubt]:
    """Days off on weekdays that no statutory day accounts for: a notice arranges its spans
    around the holidays of the 放假办法 (a one-off day off such as 2015-09-03 is the exception)."""
    return [
        Doubt(block.first, Rule.BLOCK_WITHOUT_FESTIVAL, "days off around no statutory holiday")
        for block in blocks
        if not block.festivals and any(d.weekday() < 5 for d in block.days_off)
    ]


def days_off_balance(
    schedule: YearSchedule, statutory: Mapping[str, tuple[date, ...]]
) -> list[Doubt]:
    """调休 swaps days, it adds none: each statutory day gives one weekday off, itself or one in
    lieu (第六条), and each further weekday off is paid back by a make-up day. So weekdays off
    minus make-up days is the number of statutory days (11 before 2025, 13 from 2025; a day that
    is two holidays at once, as 2020-10-01 国庆 and 中秋, counts twice)."""
    weekdays_off = sum(1 for d in schedule.holidays if d.weekday() < 5)
    owed = sum(len(days) for days in statutory.values())
    given = weekdays_off - len(schedule.workdays)
    if given == owed:
        return []
    return [
        Doubt(
            None,
            Rule.DAYS_OFF_BALANCE,
            f"{weekdays_off} weekdays off minus {len(schedule.workdays)} make-up days is {given}; "
            f"the 放假办法 gives {owed} statutory days; check for a day off too many or a make-up "
            "day missing (or a special arrangement, as the 2020 春节 extension)",
        )
    ]
