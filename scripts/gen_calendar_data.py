#!/usr/bin/env python3
"""Generate the working-day calendar data that Redline ships (SPEC §2 "Calendars").

Writes, deterministically:

* ``monitor/calendars/data/cn-YYYY.yaml`` for every year in ``OFFICIAL_YEARS`` — the official
  schedule of that year (days off and make-up working days), taken from the ``chinesecalendar``
  package (``chinese_calendar.constants.holidays`` / ``.workdays``) with the reviewed
  corrections listed in ``HOLIDAY_CORRECTIONS`` applied;
* ``monitor/calendars/data/cn-festivals.yaml`` — for every year in ``FESTIVAL_YEARS`` the
  Gregorian dates of the lunisolar festivals and of Qingming, needed by the *provisional* rule
  (the statutory holidays of the 2024 《全国年节及纪念日放假办法》) for years without an official
  schedule; taken from the ``holidays`` package's Chinese lunisolar tables.

Usage (from the repository root)::

    .venv/bin/python scripts/gen_calendar_data.py            # (re)write the files
    .venv/bin/python scripts/gen_calendar_data.py --check    # exit 1 if a file is out of date

The output depends only on the installed versions of ``chinesecalendar`` and ``holidays``
(recorded in each file's header). After re-generating, review the diff against the State Council
notices; ``tests/monitor/test_calendar_data.py`` cross-checks the data.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Iterable
from importlib.metadata import version
from pathlib import Path

import chinese_calendar
from chinese_calendar import constants as cc_constants
from holidays.calendars.chinese import _ChineseLunisolar

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = REPO_ROOT / "monitor" / "calendars" / "data"

OFFICIAL_YEARS = range(2020, 2027)  # years with a published State Council schedule
FESTIVAL_YEARS = range(2020, 2100)  # 2020 … 2099

SCRIPT = "scripts/gen_calendar_data.py"


def notice_title(year: int) -> str:
    return f"国务院办公厅关于{year}年部分节假日安排的通知"


# `source` of each year file: the State Council General Office notice(s) the schedule comes from.
SOURCES: dict[int, str] = {y: notice_title(y) for y in OFFICIAL_YEARS}
# 2020: the Spring Festival holiday was extended to 2-2 because of COVID-19 (1-31, 2-1, 2-2 off;
# the make-up working Saturday 2-1 of the original notice was thereby cancelled).
SOURCES[2020] = f"{notice_title(2020)}；国务院办公厅关于延长2020年春节假期的通知"

# Reviewed differences between chinesecalendar and the official notices.
# date -> (action, reason); action "remove" drops a date from `holidays`.
HOLIDAY_CORRECTIONS: dict[dt.date, tuple[str, str]] = {
    # The 2024 notice says only "元旦：1月1日放假，与周末连休" — 12-30/12-31 are ordinary
    # weekend days, not days off named by any notice (chinesecalendar lists them; it does not
    # do the same for 2024 端午 "6月10日放假，与周末连休"). Weekend days, so the working-day
    # calendar is the same either way; we keep only the days the notices name.
    dt.date(2023, 12, 30): ("remove", "not named by the 2024 notice (元旦 与周末连休)"),
    dt.date(2023, 12, 31): ("remove", "not named by the 2024 notice (元旦 与周末连休)"),
}

# Dates that come from another year's notice (kept: they are official days off in this year).
CROSS_YEAR_NOTES: dict[dt.date, str] = {
    dt.date(2022, 12, 31): f"2023 元旦 2022-12-31..2023-01-02 ({notice_title(2023)})",
}

# Days added by the 2020 extension notice (chinesecalendar has them; asserted below).
EXTENSION_2020 = (dt.date(2020, 1, 31), dt.date(2020, 2, 1), dt.date(2020, 2, 2))

HOLIDAY_NAMES_ZH = {h.value: h.chinese for h in cc_constants.Holiday}
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class GenerationError(RuntimeError):
    pass


def _iso(d: dt.date) -> str:
    return d.isoformat()


def _spans(dates: Iterable[dt.date]) -> list[list[dt.date]]:
    """Group sorted dates into runs of consecutive days."""
    runs: list[list[dt.date]] = []
    for d in sorted(dates):
        if runs and d - runs[-1][-1] == dt.timedelta(days=1):
            runs[-1].append(d)
        else:
            runs.append([d])
    return runs


def year_schedule(year: int) -> tuple[dict[dt.date, str], dict[dt.date, str]]:
    """(holidays, workdays) of `year`: date -> chinesecalendar's festival name (English)."""
    holidays = {d: n for d, n in cc_constants.holidays.items() if d.year == year}
    workdays = {d: n for d, n in cc_constants.workdays.items() if d.year == year}
    if not holidays:
        raise GenerationError(f"chinesecalendar has no data for {year}")
    for d, (action, _reason) in HOLIDAY_CORRECTIONS.items():
        if d.year != year:
            continue
        if action != "remove":
            raise GenerationError(f"unknown correction {action!r} for {d}")
        if d not in holidays:
            raise GenerationError(f"correction for {d}: chinesecalendar no longer lists it")
        del holidays[d]
    if year == 2020:
        missing = [d for d in EXTENSION_2020 if d not in holidays]
        if missing:
            raise GenerationError(f"2020 Spring Festival extension days missing: {missing}")
    # Sanity checks of the SPEC invariants.
    overlap = holidays.keys() & workdays.keys()
    if overlap:
        raise GenerationError(f"{year}: dates both holiday and workday: {sorted(overlap)}")
    weekdays = [d for d in workdays if d.weekday() < 5]
    if weekdays:
        raise GenerationError(f"{year}: make-up workdays not on a weekend: {sorted(weekdays)}")
    return holidays, workdays


def _span_label(span: list[dt.date], names: dict[dt.date, str]) -> str:
    festivals: list[str] = []
    for d in span:
        zh = HOLIDAY_NAMES_ZH.get(names[d], names[d])
        if zh not in festivals:
            festivals.append(zh)
    # chinesecalendar names each day after one festival only; name the lunisolar festivals a
    # span contains too (e.g. 2020: 中秋 10-1 falls inside 国庆节 10-1..10-8).
    lunar = festival_dates(span[0].year)
    for key, zh in (("spring_festival", "春节"), ("dragon_boat", "端午"), ("mid_autumn", "中秋")):
        if lunar[key] in span and zh not in festivals:
            festivals.append(zh)
    label = "、".join(festivals)
    if len(span) == 1:
        return f"{label} {span[0].isoformat()} ({WEEKDAYS_ZH[span[0].weekday()]})"
    return f"{label} {span[0].isoformat()}..{span[-1].isoformat()} ({len(span)} 天)"


def render_year(year: int) -> str:
    holidays, workdays = year_schedule(year)
    lines = [
        f"# Generated by {SCRIPT} — do not edit by hand; re-run the script.",
        f"# Source data: chinesecalendar {version('chinesecalendar')} "
        "(chinese_calendar.constants.holidays / .workdays),",
        "# reviewed against the State Council notices named in `source`.",
    ]
    for d, (_action, reason) in sorted(HOLIDAY_CORRECTIONS.items()):
        if d.year == year:
            lines.append(f"# Correction: {d.isoformat()} removed from holidays — {reason}.")
    lines += [
        "calendar: cn",
        f"year: {year}",
        f"source: {SOURCES[year]}",
        "# Days off (放假), weekend days inside a holiday span included.",
        "holidays:",
    ]
    for span in _spans(holidays):
        label = _span_label(span, holidays)
        notes = [CROSS_YEAR_NOTES[d] for d in span if d in CROSS_YEAR_NOTES]
        if year == 2020 and set(EXTENSION_2020) <= set(span):
            notes.append(
                "含延长假期 2020-01-31..2020-02-02 (国务院办公厅关于延长2020年春节假期的通知)"
            )
        lines.append(f"  # {label}" + (f"; {'; '.join(notes)}" if notes else ""))
        lines += [f'  - "{_iso(d)}"' for d in span]
    lines.append("# Make-up working days (调休上班) on weekends.")
    if workdays:
        lines.append("workdays:")
        for d in sorted(workdays):
            zh = HOLIDAY_NAMES_ZH.get(workdays[d], workdays[d])
            lines.append(f'  - "{_iso(d)}"  # {WEEKDAYS_ZH[d.weekday()]}，{zh}调休上班')
    else:
        lines.append("workdays: []")
    return "\n".join(lines) + "\n"


FESTIVAL_KEYS = (
    "chinese_new_years_eve",
    "spring_festival",
    "qingming",
    "dragon_boat",
    "mid_autumn",
)


def festival_dates(year: int) -> dict[str, dt.date]:
    lunisolar = _ChineseLunisolar()
    spring, _ = lunisolar.lunar_new_year_date(year)
    qingming, _ = lunisolar.qingming_date(year)
    dragon, _ = lunisolar.dragon_boat_date(year)
    mid_autumn, _ = lunisolar.mid_autumn_date(year)
    if spring is None or dragon is None or mid_autumn is None:
        raise GenerationError(f"holidays' lunisolar tables do not cover {year}")
    dates = {
        # 除夕 = last day of the 12th lunar month (the 29th or the 30th) = the day before 正月初一.
        "chinese_new_years_eve": spring - dt.timedelta(days=1),
        "spring_festival": spring,
        "qingming": qingming,
        "dragon_boat": dragon,
        "mid_autumn": mid_autumn,
    }
    # Cross-check Qingming with chinesecalendar's solar-term computation.
    terms = chinese_calendar.get_solar_terms(dt.date(year, 4, 1), dt.date(year, 4, 10))
    cc_qingming = [d for d, name in terms if name == "清明"]
    if cc_qingming != [qingming]:
        raise GenerationError(f"{year}: Qingming {qingming} vs chinesecalendar {cc_qingming}")
    for key, d in dates.items():
        if d.year != year:
            raise GenerationError(f"{year}: {key} {d} outside the year")
    return dates


def render_festivals() -> str:
    lines = [
        f"# Generated by {SCRIPT} — do not edit by hand; re-run the script.",
        f"# Source data: holidays {version('holidays')} "
        "(holidays.calendars.chinese._ChineseLunisolar tables);",
        "# Qingming cross-checked with chinesecalendar "
        f"{version('chinesecalendar')} (get_solar_terms).",
        "# Used by the provisional rule (2024《全国年节及纪念日放假办法》, effective 2025):",
        "#   元旦 1-1; 春节 除夕 + 正月初一..初三; 清明 1 day; 劳动节 5-1, 5-2;",
        "#   端午 (五月初五) 1 day; 中秋 (八月十五) 1 day; 国庆 10-1..10-3.",
        "# chinese_new_years_eve (除夕) = last day of the 12th lunar month = the day before"
        " spring_festival.",
        "calendar: cn",
        "source: 农历日期与清明节气"
        " (generated from the holidays package's Chinese lunisolar tables)",
        "years:",
    ]
    for year in FESTIVAL_YEARS:
        dates = festival_dates(year)
        fields = ", ".join(f'{k}: "{_iso(dates[k])}"' for k in FESTIVAL_KEYS)
        lines.append(f"  {year}: {{{fields}}}")
    return "\n".join(lines) + "\n"


def outputs() -> dict[Path, str]:
    files = {DATA_DIR / f"cn-{year}.yaml": render_year(year) for year in OFFICIAL_YEARS}
    files[DATA_DIR / "cn-festivals.yaml"] = render_festivals()
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="do not write; exit 1 if a file differs"
    )
    args = parser.parse_args(argv)
    stale = []
    for path, text in outputs().items():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
    verb = "out of date" if args.check else "written"
    for path in stale:
        print(f"{verb}: {path.relative_to(REPO_ROOT)}")
    if not stale:
        print("calendar data up to date")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
