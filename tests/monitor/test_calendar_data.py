"""Cross-checks of the shipped working-day calendar data (monitor/calendars/data, SPEC §2).

The YAML files are parsed directly (the calendar code that consumes them is tested elsewhere)
and compared with three independent sources:

* the ``chinesecalendar`` package (``chinese_calendar.is_workday``),
* the ``holidays`` package (``holidays.China``: statutory holidays, in-lieu days and
  ``weekend_workdays``; its Chinese lunisolar tables for the festival dates),
* the official State Council notices, transcribed by hand below (``OFFICIAL_NOTICES``).
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache
from pathlib import Path
from typing import Any

import chinese_calendar
import holidays
import pytest
import yaml

DATA_DIR = Path(__file__).resolve().parents[2] / "monitor" / "calendars" / "data"
OFFICIAL_YEARS = tuple(range(2020, 2027))
FESTIVAL_YEARS = tuple(range(2020, 2100))
FESTIVAL_KEYS = (
    "chinese_new_years_eve",
    "spring_festival",
    "qingming",
    "dragon_boat",
    "mid_autumn",
)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
ONE_DAY = dt.timedelta(days=1)


# ---------------------------------------------------------------------------------------------
# Hand transcription of the State Council General Office notices (国务院办公厅关于YYYY年部分节假日
# 安排的通知; 2020 also 国务院办公厅关于延长2020年春节假期的通知). "MM-DD..MM-DD" is an inclusive
# span of days off; workdays are the make-up working days (调休上班) named by the notice.
# ---------------------------------------------------------------------------------------------
OFFICIAL_NOTICES: dict[int, dict[str, tuple[str, ...]]] = {
    2020: {
        "holidays": (
            "01-01",  # 元旦
            "01-24..02-02",  # 春节 1-24..1-30, extended to 2-2 (COVID-19 extension notice)
            "04-04..04-06",  # 清明
            "05-01..05-05",  # 劳动节
            "06-25..06-27",  # 端午
            "10-01..10-08",  # 国庆节、中秋节
        ),
        # 2-1 (Sat) was a make-up working day in the first notice; the extension cancelled it.
        "workdays": ("01-19", "04-26", "05-09", "06-28", "09-27", "10-10"),
    },
    2021: {
        "holidays": (
            "01-01..01-03",
            "02-11..02-17",
            "04-03..04-05",
            "05-01..05-05",
            "06-12..06-14",
            "09-19..09-21",
            "10-01..10-07",
        ),
        "workdays": ("02-07", "02-20", "04-25", "05-08", "09-18", "09-26", "10-09"),
    },
    2022: {
        "holidays": (
            "01-01..01-03",
            "01-31..02-06",
            "04-03..04-05",
            "04-30..05-04",
            "06-03..06-05",
            "09-10..09-12",
            "10-01..10-07",
            "12-31",  # 2023 notice: 元旦 2022-12-31..2023-01-02
        ),
        "workdays": ("01-29", "01-30", "04-02", "04-24", "05-07", "10-08", "10-09"),
    },
    2023: {
        "holidays": (
            "01-01..01-02",
            "01-21..01-27",
            "04-05",
            "04-29..05-03",
            "06-22..06-24",
            "09-29..10-06",  # 中秋节、国庆节
        ),
        "workdays": ("01-28", "01-29", "04-23", "05-06", "06-25", "10-07", "10-08"),
    },
    2024: {
        "holidays": (
            "01-01",  # 元旦 "与周末连休" (2023-12-30/31 are plain weekend days)
            "02-10..02-17",  # 除夕 2-9 only "encouraged", not a day off
            "04-04..04-06",
            "05-01..05-05",
            "06-10",  # 端午 "与周末连休"
            "09-15..09-17",
            "10-01..10-07",
        ),
        "workdays": ("02-04", "02-18", "04-07", "04-28", "05-11", "09-14", "09-29", "10-12"),
    },
    2025: {
        "holidays": (
            "01-01",
            "01-28..02-04",
            "04-04..04-06",
            "05-01..05-05",
            "05-31..06-02",
            "10-01..10-08",  # 国庆节、中秋节
        ),
        "workdays": ("01-26", "02-08", "04-27", "09-28", "10-11"),
    },
    2026: {
        "holidays": (
            "01-01..01-03",
            "02-15..02-23",
            "04-04..04-06",
            "05-01..05-05",
            "06-19..06-21",
            "09-25..09-27",
            "10-01..10-07",
        ),
        "workdays": ("01-04", "02-14", "02-28", "05-09", "09-20", "10-10"),
    },
}

# Festival dates checked by hand against published almanacs (万年历).
HAND_CHECKED_FESTIVALS: dict[int, dict[str, str]] = {
    2024: {"chinese_new_years_eve": "2024-02-09", "spring_festival": "2024-02-10"},
    2025: {"chinese_new_years_eve": "2025-01-28", "mid_autumn": "2025-10-06"},
    2026: {
        "spring_festival": "2026-02-17",
        "dragon_boat": "2026-06-19",
        "mid_autumn": "2026-09-25",
    },
    2027: {
        "chinese_new_years_eve": "2027-02-05",
        "spring_festival": "2027-02-06",
        "qingming": "2027-04-05",
        "dragon_boat": "2027-06-09",
        "mid_autumn": "2027-09-15",
    },
    2028: {
        "spring_festival": "2028-01-26",
        "dragon_boat": "2028-05-28",
        "mid_autumn": "2028-10-03",
    },
    2029: {
        "spring_festival": "2029-02-13",
        "dragon_boat": "2029-06-16",
        "mid_autumn": "2029-09-22",
    },
    2030: {
        "spring_festival": "2030-02-03",
        "dragon_boat": "2030-06-05",
        "mid_autumn": "2030-09-12",
    },
    2031: {"spring_festival": "2031-01-23", "mid_autumn": "2031-10-01"},
    2033: {"spring_festival": "2033-01-31", "mid_autumn": "2033-09-08"},
}


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------
def _expand(year: int, spec: str) -> list[dt.date]:
    first, _, last = spec.partition("..")
    start = dt.date.fromisoformat(f"{year}-{first}")
    end = dt.date.fromisoformat(f"{year}-{last or first}")
    return [start + ONE_DAY * i for i in range((end - start).days + 1)]


@cache
def _raw_year(year: int) -> dict[str, Any]:
    with (DATA_DIR / f"cn-{year}.yaml").open(encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    assert isinstance(doc, dict), f"cn-{year}.yaml: not a mapping"
    return doc


def _dates(year: int, field: str) -> list[dt.date]:
    values = _raw_year(year)[field]
    assert isinstance(values, list), f"cn-{year}.yaml: {field} is not a list"
    out = []
    for v in values:
        assert isinstance(v, str) and ISO_DATE.match(v), f"cn-{year}.yaml: {field}: bad {v!r}"
        out.append(dt.date.fromisoformat(v))
    return out


@cache
def _schedule(year: int) -> tuple[frozenset[dt.date], frozenset[dt.date]]:
    return frozenset(_dates(year, "holidays")), frozenset(_dates(year, "workdays"))


def is_working_day(d: dt.date) -> bool:
    """SPEC §2: a make-up working day, or Monday–Friday and not a holiday."""
    holidays_, workdays = _schedule(d.year)
    return d in workdays or (d.weekday() < 5 and d not in holidays_)


def _days_of(year: int) -> list[dt.date]:
    start = dt.date(year, 1, 1)
    return [start + ONE_DAY * i for i in range((dt.date(year + 1, 1, 1) - start).days)]


@cache
def _festivals_doc() -> dict[str, Any]:
    with (DATA_DIR / "cn-festivals.yaml").open(encoding="utf-8") as f:
        doc = yaml.safe_load(f)
    assert isinstance(doc, dict)
    return doc


def _festivals(year: int) -> dict[str, dt.date]:
    entry = _festivals_doc()["years"][year]
    assert isinstance(entry, dict) and set(entry) == set(FESTIVAL_KEYS), entry
    out = {}
    for key, value in entry.items():
        assert isinstance(value, str) and ISO_DATE.match(value), f"{year}.{key}: bad {value!r}"
        out[key] = dt.date.fromisoformat(value)
    return out


@cache
def _cn_holidays(year: int) -> holidays.HolidayBase:
    return holidays.country_holidays("CN", years=year, language="en_US")


def _holidays_named(year: int, name: str) -> list[dt.date]:
    """Dates holidays.China names `name` (not its observed / substituted days)."""
    return sorted(
        d
        for d, names in _cn_holidays(year).items()
        if d.year == year
        and any(n.strip().startswith(name) and "observed" not in n for n in names.split(";"))
    )


# ---------------------------------------------------------------------------------------------
# Year files: format
# ---------------------------------------------------------------------------------------------
def test_shipped_year_files_are_exactly_the_official_years() -> None:
    shipped = sorted(int(p.stem[3:]) for p in DATA_DIR.glob("cn-[0-9][0-9][0-9][0-9].yaml"))
    assert shipped == list(OFFICIAL_YEARS)


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_year_file_header(year: int) -> None:
    doc = _raw_year(year)
    assert set(doc) == {"calendar", "year", "source", "holidays", "workdays"}
    assert doc["calendar"] == "cn"
    assert doc["year"] == year
    assert isinstance(doc["source"], str)
    assert f"国务院办公厅关于{year}年部分节假日安排的通知" in doc["source"]
    if year == 2020:
        assert "国务院办公厅关于延长2020年春节假期的通知" in doc["source"]
    text = (DATA_DIR / f"cn-{year}.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Generated by scripts/gen_calendar_data.py")


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
@pytest.mark.parametrize("field", ["holidays", "workdays"])
def test_lists_sorted_unique_within_year(year: int, field: str) -> None:
    dates = _dates(year, field)
    assert dates, f"{field} empty"
    assert dates == sorted(dates), "not sorted"
    assert len(dates) == len(set(dates)), "duplicates"
    assert all(d.year == year for d in dates), [d for d in dates if d.year != year]


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_workdays_are_weekend_days_and_disjoint_from_holidays(year: int) -> None:
    holidays_, workdays = _schedule(year)
    assert [d for d in workdays if d.weekday() < 5] == []
    assert holidays_.isdisjoint(workdays)


# ---------------------------------------------------------------------------------------------
# Year files: content
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_matches_official_notice_transcription(year: int) -> None:
    notice = OFFICIAL_NOTICES[year]
    expected_holidays = {d for spec in notice["holidays"] for d in _expand(year, spec)}
    expected_workdays = {d for spec in notice["workdays"] for d in _expand(year, spec)}
    holidays_, workdays = _schedule(year)
    assert sorted(holidays_ ^ expected_holidays) == []
    assert sorted(workdays ^ expected_workdays) == []


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_every_day_agrees_with_chinesecalendar(year: int) -> None:
    mismatches = [
        (d.isoformat(), is_working_day(d))
        for d in _days_of(year)
        if is_working_day(d) != chinese_calendar.is_workday(d)
    ]
    assert mismatches == []


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_chinesecalendar_holidays_and_workdays_agree(year: int) -> None:
    """Our lists equal chinesecalendar's, except for the reviewed weekend-only differences."""
    holidays_, workdays = _schedule(year)
    cc_holidays = {d for d in chinese_calendar.constants.holidays if d.year == year}
    cc_workdays = {d for d in chinese_calendar.constants.workdays if d.year == year}
    assert workdays == cc_workdays
    differences = holidays_ ^ cc_holidays
    # chinesecalendar lists 2023-12-30/31 (2024 元旦 "与周末连休"), which no notice names.
    expected = {dt.date(2023, 12, 30), dt.date(2023, 12, 31)} if year == 2023 else set()
    assert differences == expected
    assert all(d.weekday() >= 5 for d in differences)


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_every_day_agrees_with_holidays_package(year: int) -> None:
    cn = _cn_holidays(year)
    mismatches = [
        (d.isoformat(), is_working_day(d))
        for d in _days_of(year)
        if is_working_day(d) != cn.is_working_day(d)
    ]
    assert mismatches == []


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_holidays_package_days_off_are_days_off(year: int) -> None:
    cn = _cn_holidays(year)
    reported = sorted(d for d in cn if d.year == year)
    assert reported, "holidays package reports nothing"
    assert [(d.isoformat(), cn[d]) for d in reported if is_working_day(d)] == []
    # Weekday days off of the package are listed in our holidays.
    holidays_, _ = _schedule(year)
    assert [d for d in reported if d.weekday() < 5 and d not in holidays_] == []


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_holidays_package_make_up_workdays_agree(year: int) -> None:
    cn = _cn_holidays(year)
    _, workdays = _schedule(year)
    # weekend_workdays may also carry days of other years (cross-year substitutions).
    assert {d for d in cn.weekend_workdays if d.year == year} == set(workdays)


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_statutory_days_are_days_off(year: int) -> None:
    """The statutory holidays of the 放假办法 in force are days off in every official year."""
    holidays_, _ = _schedule(year)
    f = _festivals(year)
    statutory = {
        dt.date(year, 1, 1),
        f["spring_festival"],
        f["spring_festival"] + ONE_DAY,
        f["spring_festival"] + 2 * ONE_DAY,
        f["qingming"],
        dt.date(year, 5, 1),
        f["dragon_boat"],
        f["mid_autumn"],
        dt.date(year, 10, 1),
        dt.date(year, 10, 2),
        dt.date(year, 10, 3),
    }
    if year >= 2025:  # 2024 revision: + 除夕, + 5-2
        statutory |= {f["chinese_new_years_eve"], dt.date(year, 5, 2)}
    assert sorted(statutory - holidays_) == []


def test_2020_spring_festival_extension() -> None:
    holidays_, workdays = _schedule(2020)
    assert {dt.date(2020, 1, 31), dt.date(2020, 2, 1), dt.date(2020, 2, 2)} <= holidays_
    assert dt.date(2020, 2, 1) not in workdays  # make-up Saturday cancelled by the extension
    assert is_working_day(dt.date(2020, 2, 3))


def test_spec_worked_example_2026() -> None:
    """SPEC §3: accepted 2026-09-28 with 5wd → 9-29, 9-30, 10-8, 10-9 and Saturday 10-10."""
    days: list[dt.date] = []
    d = dt.date(2026, 9, 28)
    while len(days) < 5:
        d += ONE_DAY
        if is_working_day(d):
            days.append(d)
    assert days == [
        dt.date(2026, 9, 29),
        dt.date(2026, 9, 30),
        dt.date(2026, 10, 8),
        dt.date(2026, 10, 9),
        dt.date(2026, 10, 10),
    ]
    assert dt.date(2026, 10, 10).weekday() == 5  # the make-up Saturday
    assert not is_working_day(dt.date(2026, 10, 11))


# ---------------------------------------------------------------------------------------------
# Festivals table
# ---------------------------------------------------------------------------------------------
def test_festivals_header() -> None:
    doc = _festivals_doc()
    assert set(doc) == {"calendar", "source", "years"}
    assert doc["calendar"] == "cn"
    assert isinstance(doc["source"], str) and doc["source"]
    assert list(doc["years"]) == list(FESTIVAL_YEARS)  # every year, in order, int keys
    text = (DATA_DIR / "cn-festivals.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Generated by scripts/gen_calendar_data.py")


@pytest.mark.parametrize("year", FESTIVAL_YEARS)
def test_festivals_shape(year: int) -> None:
    f = _festivals(year)
    assert all(d.year == year for d in f.values()), f
    assert f["chinese_new_years_eve"] == f["spring_festival"] - ONE_DAY
    assert dt.date(year, 1, 21) <= f["spring_festival"] <= dt.date(year, 2, 20)
    assert f["qingming"] in {dt.date(year, 4, d) for d in (4, 5, 6)}
    # 端午 = 五月初五 and 中秋 = 八月十五: 4 (+ at most one leap) lunar months apart minus 10 days
    # → 98 or 99 days (or ~128 with a leap month in between).
    gap = (f["mid_autumn"] - f["dragon_boat"]).days
    assert 95 <= gap <= 130, gap
    # 春节 → 端午: 4 lunar months + 4 days (+ a leap month) → 122..155 days.
    gap = (f["dragon_boat"] - f["spring_festival"]).days
    assert 120 <= gap <= 155, gap


@pytest.mark.parametrize("year", FESTIVAL_YEARS)
def test_festivals_agree_with_holidays_package(year: int) -> None:
    f = _festivals(year)
    # Public API: the festivals holidays.China names in that year.
    assert _holidays_named(year, "Chinese New Year (Spring Festival)")[0] == f["spring_festival"]
    assert _holidays_named(year, "Tomb-Sweeping Day") == [f["qingming"]]
    assert _holidays_named(year, "Dragon Boat Festival") == [f["dragon_boat"]]
    assert _holidays_named(year, "Mid-Autumn Festival") == [f["mid_autumn"]]
    if year >= 2025:  # holidays.China has 除夕 as a holiday from the 2024 revision on
        assert _holidays_named(year, "Chinese New Year's Eve") == [f["chinese_new_years_eve"]]


@pytest.mark.parametrize("year", FESTIVAL_YEARS)
def test_qingming_agrees_with_chinesecalendar_solar_terms(year: int) -> None:
    terms = chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10))
    assert [d for d, name in terms if name == "清明"] == [_festivals(year)["qingming"]]


@pytest.mark.parametrize("year", sorted(HAND_CHECKED_FESTIVALS))
def test_festivals_hand_checked(year: int) -> None:
    f = _festivals(year)
    expected = HAND_CHECKED_FESTIVALS[year]
    assert {k: f[k].isoformat() for k in expected} == expected


@pytest.mark.parametrize("year", OFFICIAL_YEARS)
def test_festivals_inside_official_holidays(year: int) -> None:
    holidays_, _ = _schedule(year)
    f = _festivals(year)
    keys = ["spring_festival", "qingming", "dragon_boat", "mid_autumn"]
    if year >= 2025:  # 除夕 statutory since the 2024 revision (in 2024, 2-9 was a working day)
        keys.append("chinese_new_years_eve")
    assert {k: f[k].isoformat() for k in keys if f[k] not in holidays_} == {}
    if year == 2024:
        assert is_working_day(f["chinese_new_years_eve"])
