"""Working-day calendars (工作日历): official yearly schedules, the provisional rule, and an index.

A date is a working day iff it is a make-up working day (调休上班), or it is Monday–Friday and not
a holiday (SPEC §2). Years with an official schedule come from the State Council's yearly notice;
other years follow the **provisional** rule — weekends plus the statutory holidays of the 2024
《全国年节及纪念日放假办法》 — and every deadline that depends on such a year says so.

The index answers the two questions clocks ask in O(log n) without walking days: how many working
seconds lie before a local instant, and at which local instant a given count is reached.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

from monitor.configfile import (
    FileError,
    Problems,
    Source,
    Where,
    parse_mapping,
    parse_yaml,
    source_of,
)
from monitor.timeutil import DAY

FIRST_YEAR = 2000
END_YEAR = 2200  # exclusive: long limits accepted late in the century still get a deadline
_EPOCH = date(1970, 1, 1)
_FIRST_DAY = (date(FIRST_YEAR, 1, 1) - _EPOCH).days
_END_DAY = (date(END_YEAR, 1, 1) - _EPOCH).days
_FESTIVALS = ("chinese_new_years_eve", "spring_festival", "qingming", "dragon_boat", "mid_autumn")
_YEAR_FIELDS = ("calendar", "year", "source", "holidays", "workdays")
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class CalendarError(FileError):
    """A calendar file or lookup that breaks the rules; the message names file, entry and field."""


class OutOfCalendar(CalendarError):
    """A date outside the years any calendar can index."""


@dataclass(frozen=True, slots=True)
class YearSchedule:
    """One year's official arrangement (节假日安排): days off and make-up working days."""

    calendar: str
    year: int
    source: str
    holidays: frozenset[date]
    workdays: frozenset[date]
    origin: str = "shipped"


@dataclass(slots=True)
class WorkCalendar:
    """The working days of one calendar id over the indexed years, with provisional years marked."""

    calendar_id: str
    schedules: dict[int, YearSchedule]
    festivals: Mapping[int, Mapping[str, date]]
    _is_work: bytearray = field(init=False, repr=False)
    _before: array[int] = field(init=False, repr=False)
    _workdays: array[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._is_work = bytearray(_END_DAY - _FIRST_DAY)
        for year in range(FIRST_YEAR, END_YEAR):
            off, on = self._year_rule(year)
            first = date(year, 1, 1)
            for offset in range((date(year + 1, 1, 1) - first).days):
                day = first + timedelta(days=offset)
                working = day in on or (day.weekday() < 5 and day not in off)
                self._is_work[(day - _EPOCH).days - _FIRST_DAY] = working
        self._before = array("q", [0])
        self._workdays = array("q")
        count = 0
        for index, flag in enumerate(self._is_work):
            if flag:
                self._workdays.append(_FIRST_DAY + index)
                count += 1
            self._before.append(count)

    def _year_rule(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        schedule = self.schedules.get(year)
        if schedule is not None:
            return schedule.holidays, schedule.workdays
        return provisional_holidays(year, self.festivals.get(year)), frozenset()

    def is_provisional(self, year: int) -> bool:
        """True when the year has no official schedule and follows the provisional rule."""
        return year not in self.schedules

    def is_workday(self, day: int) -> bool:
        """Whether a day (days since 1970-01-01) is a working day."""
        return bool(self._is_work[self._index(day)])

    def work_seconds(self, local: int) -> int:
        """Working seconds from the start of the index up to a local wall-clock instant."""
        day, within = divmod(local, DAY)
        index = self._index(day)
        return self._before[index] * DAY + (within if self._is_work[index] else 0)

    def local_at(self, work_seconds: int) -> int:
        """The first local instant at which :meth:`work_seconds` reaches ``work_seconds``.

        When the count falls on a day boundary this is 24:00 of the last working day (written as
        00:00 of the next day), never the start of the next working day.
        """
        whole, within = divmod(work_seconds, DAY)
        if within == 0:
            if whole == 0:
                return _FIRST_DAY * DAY
            return (self._nth_workday(whole - 1) + 1) * DAY
        return self._nth_workday(whole) * DAY + within

    def provisional_between(self, first_day: int, last_day: int) -> bool:
        """True when any day in ``[first_day, last_day]`` lies in a provisional year."""
        first_year = (_EPOCH + timedelta(days=first_day)).year
        last_year = (_EPOCH + timedelta(days=last_day)).year
        return any(self.is_provisional(year) for year in range(first_year, last_year + 1))

    def _nth_workday(self, n: int) -> int:
        if not 0 <= n < len(self._workdays):
            raise OutOfCalendar(f"the deadline falls after {END_YEAR - 1}-12-31")
        return self._workdays[n]

    def _index(self, day: int) -> int:
        index = day - _FIRST_DAY
        if not 0 <= index < len(self._is_work):
            raise OutOfCalendar(
                f"dates must lie between {FIRST_YEAR}-01-01 and {END_YEAR - 1}-12-31"
            )
        return index


def provisional_holidays(year: int, festivals: Mapping[str, date] | None) -> frozenset[date]:
    """Statutory days off of the 2024 放假办法 for a year without an official schedule.

    元旦 1 day, 春节 4 days (除夕 to 正月初三), 清明 1 day, 劳动节 2 days, 端午 1 day, 中秋 1 day,
    国庆节 3 days. Without festival dates (beyond the shipped lunar table) only the fixed dates.
    """
    by_festival = statutory_days(year, festivals, revised=True)
    return frozenset(day for days in by_festival.values() for day in days)


REVISED_FROM = 2025  # the 2024 放假办法 (国务院令第795号) is in force from 2025-01-01


def statutory_days(
    year: int, festivals: Mapping[str, date] | None, revised: bool | None = None
) -> dict[str, tuple[date, ...]]:
    """Each statutory holiday's days off (法定节假日) in ``year``, by its Chinese name.

    By the 放假办法 in force that year (``revised`` forces one): 元旦 1-1, 春节 正月初一 to 初三
    (from 2025 also 除夕), 清明节, 劳动节 5-1 (from 2025 also 5-2), 端午节, 中秋节 one day each,
    国庆节 10-1 to 10-3. The lunar holidays and 清明节 only with ``festivals`` (their dates).
    """
    revised = year >= REVISED_FROM if revised is None else revised
    days: dict[str, tuple[date, ...]] = {"元旦": (date(year, 1, 1),)}
    if festivals:
        spring = festivals["spring_festival"]
        eve = (festivals["chinese_new_years_eve"],) if revised else ()
        days["春节"] = (*eve, spring, spring + timedelta(days=1), spring + timedelta(days=2))
        days["清明节"] = (festivals["qingming"],)
    days["劳动节"] = (date(year, 5, 1), date(year, 5, 2)) if revised else (date(year, 5, 1),)
    if festivals:
        days["端午节"] = (festivals["dragon_boat"],)
        days["中秋节"] = (festivals["mid_autumn"],)
    days["国庆节"] = (date(year, 10, 1), date(year, 10, 2), date(year, 10, 3))
    return days


class Calendars:
    """Every calendar id known: shipped schedules overridden by operators' year files."""

    def __init__(
        self, schedules: Iterable[YearSchedule], festivals: Mapping[int, Mapping[str, date]]
    ):
        self._festivals = festivals
        self._schedules: dict[str, dict[int, YearSchedule]] = {}
        for schedule in schedules:
            self._schedules.setdefault(schedule.calendar, {})[schedule.year] = schedule
        self._built: dict[str, WorkCalendar] = {}

    def known(self, calendar_id: str) -> bool:
        """Whether any year file names this calendar id."""
        return calendar_id in self._schedules

    def festival_dates(self, year: int) -> Mapping[str, date] | None:
        """The lunar festivals' and Qingming's dates in ``year``; None beyond the shipped table."""
        return self._festivals.get(year)

    def ids(self) -> list[str]:
        """The calendar ids with at least one year file."""
        return sorted(self._schedules)

    def days_off_and_on(self) -> dict[tuple[str, int], tuple[frozenset[date], frozenset[date]]]:
        """Each (calendar id, year) with a schedule: its holidays and make-up working days (what
        working time depends on; two Calendars with equal ones count every deadline alike)."""
        return {
            (calendar_id, year): (schedule.holidays, schedule.workdays)
            for calendar_id, years in self._schedules.items()
            for year, schedule in years.items()
        }

    def years(self, calendar_id: str) -> dict[int, YearSchedule]:
        """The years of ``calendar_id`` with a schedule (shipped or an operator's), by year."""
        return dict(self._schedules.get(calendar_id, {}))

    def get(self, calendar_id: str) -> WorkCalendar:
        """The indexed calendar for an id; an id with no schedules follows the provisional rule."""
        built = self._built.get(calendar_id)
        if built is None:
            schedules = dict(self._schedules.get(calendar_id, {}))
            built = WorkCalendar(calendar_id, schedules, self._festivals)
            self._built[calendar_id] = built
        return built


def load_calendars(extra_files: Iterable[Path | Source] = ()) -> Calendars:
    """The shipped schedules 2020–2026 and festival table, with operators' year files on top."""
    data = resources.files("monitor.calendars") / "data"
    shipped: list[YearSchedule] = []
    festivals: dict[int, dict[str, date]] = {}
    for entry in sorted(data.iterdir(), key=lambda e: e.name):
        if entry.name == "cn-festivals.yaml":
            raw = parse_yaml(entry.name, entry.read_text("utf-8"), CalendarError)
            festivals = _parse_festivals(entry.name, raw)
        elif entry.name.endswith(".yaml"):
            shipped.append(parse_year_file(entry.name, entry.read_text("utf-8"), origin="shipped"))
    loaded: list[YearSchedule] = []
    problems = Problems(CalendarError)  # every operator file's refusals at once
    for path in extra_files:
        with problems.gathering():
            loaded.append(read_year_file(path))
    problems.check()
    return Calendars([*shipped, *loaded], festivals)


def read_year_file(file: Path | Source) -> YearSchedule:
    """An operator's year file (a path, or a file already read), validated
    (:func:`parse_year_file`)."""
    source = source_of(file, CalendarError)
    return parse_year_file(source.name, source.text, origin=source.name)


def parse_year_file(name: str, text: str, origin: str) -> YearSchedule:
    """Validate one year file (SPEC §2 format); refuses it with every error, each naming the file
    and the field."""
    raw = parse_mapping(name, text, CalendarError, _YEAR_FIELDS)
    where = Where(CalendarError, name)
    found = Problems(CalendarError)  # every broken rule of the file at once
    for unknown in where.unknown(raw, _YEAR_FIELDS):
        found.add(unknown)
    calendar_id = raw.get("calendar", "cn")
    if not isinstance(calendar_id, str) or not calendar_id:
        found.add(where.error("calendar", "must be a non-empty string such as cn"))
    year = raw.get("year")
    if not isinstance(year, int) or not FIRST_YEAR <= year < END_YEAR:
        found.add(
            where.error("year", f"must be a whole number from {FIRST_YEAR} to {END_YEAR - 1}")
        )
        year = None
    source = raw.get("source")
    if not isinstance(source, str) or not source.strip():
        found.add(where.error("source", "must name the notice the schedule comes from"))
    holidays = _dates(where, "holidays", raw.get("holidays", []), year, found)
    workdays = _dates(where, "workdays", raw.get("workdays", []), year, found)
    for day in sorted(workdays):
        if day.weekday() < 5:
            found.add(
                where.error(
                    "workdays",
                    f"{day.isoformat()} is a {WEEKDAYS[day.weekday()]}; make-up working days are "
                    "weekend days",
                )
            )
    for day in sorted(holidays & workdays):
        found.add(where.error(f"{day.isoformat()} is listed in both holidays and workdays"))
    found.check()
    assert isinstance(calendar_id, str) and isinstance(year, int) and isinstance(source, str)
    return YearSchedule(calendar_id, year, source.strip(), holidays, workdays, origin)


def _dates(
    where: Where, key: str, values: Any, year: int | None, found: Problems
) -> frozenset[date]:
    """The list's dates; each one that is not a date of ``year`` is added to ``found``."""
    if not isinstance(values, list):
        found.add(where.error(key, "must be a list of YYYY-MM-DD dates"))
        return frozenset()
    days = set()
    for position, value in enumerate(values):
        try:
            day = value if isinstance(value, date) else date.fromisoformat(str(value))
        except ValueError:
            found.add(where.error(f"{key}[{position}]", f"{value!r} is not a YYYY-MM-DD date"))
            continue
        if year is not None and day.year != year:
            found.add(where.error(f"{key}[{position}]", f"{day.isoformat()} is not in {year}"))
            continue
        days.add(day)
    return frozenset(days)


def _parse_festivals(name: str, raw: Any) -> dict[int, dict[str, date]]:
    where = Where(CalendarError, name)
    years = raw.get("years") if isinstance(raw, dict) else None
    if not isinstance(years, dict):
        raise where.error("years", "must map each year to its festival dates")
    table: dict[int, dict[str, date]] = {}
    for year, dates in years.items():
        if not isinstance(dates, dict) or set(dates) != set(_FESTIVALS):
            raise where.error(f"years.{year}", f"needs exactly {', '.join(_FESTIVALS)}")
        table[int(year)] = {
            key: value if isinstance(value, date) else date.fromisoformat(str(value))
            for key, value in dates.items()
        }
    return table
