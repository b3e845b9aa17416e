"""``redline calendar check`` on the shipped year files and on broken copies of them."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from monitor.calendar import load_calendars, read_year_file
from monitor.calendarcheck import check_year
from monitor.calendarimpact import Apart, CaseMove, Impact, Move
from monitor.cli import app
from monitor.cli.calendar import check_text, live_text
from monitor.timeutil import DAY, parse_instant, zone

DATA = Path(__file__).resolve().parents[3] / "monitor" / "calendars" / "data"
runner = CliRunner()


def check(path: Path):  # type: ignore[no-untyped-def]
    return runner.invoke(app, ["calendar", "check", str(path)])


def copy_of(tmp_path: Path, year: int, **changes: object) -> Path:
    """The shipped year file with some of its fields replaced, as an operator's file."""
    raw = yaml.safe_load((DATA / f"cn-{year}.yaml").read_text("utf-8"))
    path = tmp_path / f"cn-{year}.yaml"
    path.write_text(yaml.safe_dump({**raw, **changes}, allow_unicode=True), "utf-8")
    return path


@pytest.mark.parametrize("year", range(2020, 2027))
def test_every_shipped_year_file_checks(year: int) -> None:
    result = check(DATA / f"cn-{year}.yaml")
    assert result.exit_code == 0, result.stderr
    warnings = 1 if year == 2020 else 0  # the 春节 extension, test_calendarcheck
    assert result.stdout.endswith(f", {warnings} warning{'' if warnings == 1 else 's'}\n")


def test_the_2026_file_reads_day_by_day() -> None:
    lines = check(DATA / "cn-2026.yaml").stdout.splitlines()
    assert lines[:7] == [
        "cn-2026.yaml: calendar cn, 2026: 国务院办公厅关于2026年部分节假日安排的通知",
        "",
        "days off (放假):",
        "  元旦: 3 days",
        "    2026-01-01 Thursday",
        "    2026-01-02 Friday",
        "    2026-01-03 Saturday",
    ]
    assert "  国庆节: 7 days" in lines
    workdays = lines.index("make-up working days (调休上班): 6")
    assert lines[workdays + 1 : workdays + 7] == [
        "  2026-01-04 Sunday",
        "  2026-02-14 Saturday",
        "  2026-02-28 Saturday",
        "  2026-05-09 Saturday",
        "  2026-09-20 Sunday",
        "  2026-10-10 Saturday",
    ]
    assert lines[-1] == "33 days off, 6 make-up working days, 0 warnings"


def test_doubts_are_warnings_one_line_each_and_exit_0(tmp_path: Path) -> None:
    shipped = read_year_file(DATA / "cn-2026.yaml")
    duanwu = {"2026-06-19", "2026-06-20", "2026-06-21"}
    holidays = sorted({d.isoformat() for d in shipped.holidays} - duanwu | {"2026-03-14"})
    result = check(copy_of(tmp_path, 2026, holidays=holidays))
    assert result.exit_code == 0, result.stderr
    warnings = [line for line in result.stdout.splitlines() if line.startswith("warning: ")]
    assert warnings == [
        "warning: 2026-03-14 Saturday: lone-weekend-holiday: a weekend day off with no weekday "
        "off beside it",
        "warning: 2026-06-19 Friday: festival-missing: 端午节: none of its statutory days is off",
        "warning: 2026: days-off-balance: 18 weekdays off minus 6 make-up days is 12; the 放假办法 "
        "gives 13 statutory days; check for a day off too many or a make-up day missing (or a "
        "special arrangement, as the 2020 春节 extension)",
    ]
    assert result.stdout.endswith(", 3 warnings\n")


def test_a_file_that_does_not_load_exits_2_with_every_error(tmp_path: Path) -> None:
    path = copy_of(
        tmp_path,
        2026,
        source=" ",
        holidays=["2026-01-01", "2025-12-31", "2026-02-30", "2026-10-10"],
        workdays=["2026-10-10", "2026-10-12"],
    )
    result = check(path)
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"redline: {path}: source: must name the notice the schedule comes from",
        f"redline: {path}: holidays[1]: 2025-12-31 is not in 2026",
        f"redline: {path}: holidays[2]: '2026-02-30' is not a YYYY-MM-DD date",
        f"redline: {path}: workdays: 2026-10-12 is a Monday; make-up working days are weekend days",
        f"redline: {path}: 2026-10-10 is listed in both holidays and workdays",
    ]


@pytest.mark.parametrize(
    ("text", "error"),
    [
        (None, "cannot be read: No such file or directory"),
        ("holidays: [\n", "not valid YAML: "),
        ("- 2027-01-01\n", "must be a YAML mapping with calendar, year, source"),
    ],
)
def test_a_file_that_cannot_be_read_exits_2(tmp_path: Path, text: str | None, error: str) -> None:
    path = tmp_path / "cn-2027.yaml"
    if text is not None:
        path.write_text(text, "utf-8")
    result = check(path)
    assert result.exit_code == 2
    assert result.stderr.startswith(f"redline: {path}: {error}")


def test_a_year_beyond_the_lunar_table_says_what_it_did_not_check(tmp_path: Path) -> None:
    fixed_only = "2150-01-01, 2150-05-01, 2150-05-02, 2150-10-01, 2150-10-02, 2150-10-03"
    path = tmp_path / "cn-2150.yaml"
    path.write_text(f"year: 2150\nsource: 通知\nholidays: [{fixed_only}]\n", "utf-8")
    result = check(path)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines()[-2:] == [
        "note: no lunar festival dates for 2150: 春节, 清明节, 端午节, 中秋节 and the days-off "
        "balance not checked",
        "6 days off, 0 make-up working days, 0 warnings",
    ]


def test_the_text_is_what_the_command_prints() -> None:
    schedule = read_year_file(DATA / "cn-2024.yaml")
    text = check_text("cn-2024.yaml", check_year(schedule, load_calendars().festival_dates(2024)))
    assert check(DATA / "cn-2024.yaml").stdout == text + "\n"


def test_redline_help_lists_the_calendar_group() -> None:
    listed = runner.invoke(app, ["--help"]).stdout
    assert "│ calendar           Working-day calendars (工作日历): check a year file" in listed
    assert "│ check  Print every day off" in runner.invoke(app, ["calendar", "--help"]).stdout


def test_the_operator_guide_shows_the_output_as_printed() -> None:
    guide = (DATA.parents[2] / "docs" / "operator-guide.md").read_text("utf-8")
    command = "$ .venv/bin/redline calendar check monitor/calendars/data/cn-2026.yaml\n"
    shown = guide.split(command, 1)[1].split("```", 1)[0]
    assert shown == check(DATA / "cn-2026.yaml").stdout


# -- --live: the text, and a stack that cannot be reached ------------------------------------


def a_move(case_id: str, old: int, new: int) -> CaseMove:
    return CaseMove(case_id, zone("Asia/Shanghai"), True, (Move("deadline", old, new),))


def test_the_live_text_counts_each_group_and_lists_twenty_of_each() -> None:
    now = parse_instant("2026-12-04T00:00:00+08:00")
    moved = tuple(a_move(f"C-{n:03}", now + DAY, now + 2 * DAY) for n in range(21))
    corrected = a_move("C-RED", now - DAY, now + DAY)
    apart = (("C-OLD", Apart.PAST_DAY), ("C-PAUSED", Apart.SUSPENDED))
    impact = Impact(now, 24, (*moved, corrected), apart)
    lines = live_text(6, impact, ["version 6 runs this file already"]).splitlines()
    assert lines[:4] == [
        "live stack (configuration version 6, 24 open cases at 2026-12-04 00:00:00+08:00):",
        "  note: version 6 runs this file already",
        "  deadlines that move: 22 (22 later, 0 earlier)",
        "    C-000 deadline 2026-12-05T00:00:00+08:00 → 2026-12-06T00:00:00+08:00 (later)",
    ]
    assert lines[23:] == [
        "    … and 2 more",
        "  red lights corrected: 1",
        "    C-RED deadline 2026-12-03T00:00:00+08:00 → 2026-12-05T00:00:00+08:00 (later)",
        "  turn red at once: 0",
        "  not predicted here (the recompute decides): 2 (suspended: 1, a changed day before "
        "now: 1)",
        "    C-OLD (a changed day before now)",
    ]


def test_live_with_kafka_away_says_what_failed_with_exit_2() -> None:
    result = runner.invoke(
        app,
        ["calendar", "check", "--live", str(DATA / "cn-2026.yaml")],
        env={"REDLINE_KAFKA_BOOTSTRAP": "127.0.0.1:1"},
    )
    assert result.exit_code == 2
    assert result.stdout.endswith("0 warnings\n")  # the offline check comes first
    assert result.stderr.startswith(
        "redline: Kafka 127.0.0.1:1: the running configuration (redline-config) cannot be read: "
    )
