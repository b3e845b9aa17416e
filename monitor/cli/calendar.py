"""``redline calendar check``: a year file read back day by day, with what looks wrong in it,
before an operator loads it. Offline: it does not say which open cases the file would move."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from monitor.calendar import CalendarError, load_calendars, read_year_file
from monitor.calendarcheck import Block, YearCheck, check_year, weekday_name
from monitor.cli.common import fail

calendar_app = typer.Typer(
    help="Working-day calendars (工作日历): check a year file before loading it.",
    no_args_is_help=True,
)


@calendar_app.command("check")
def check_command(
    year_file: Annotated[
        Path, typer.Argument(help="the year file (YAML), e.g. cn-2027.yaml", dir_okay=False)
    ],
) -> None:
    """Print every day off and make-up working day of a year file, and warn about doubts.

    Exit 0 when the file loads (warnings included), 2 with every error when it does not.
    """
    try:
        schedule = read_year_file(year_file)
    except CalendarError as exc:  # every problem of the file, a line each
        raise fail("\n".join(exc.problems)) from None
    check = check_year(schedule, load_calendars().festival_dates(schedule.year))
    typer.echo(check_text(year_file.name, check))


def check_text(name: str, check: YearCheck) -> str:
    """What ``calendar check`` prints for a year file that loads (pure)."""
    schedule = check.schedule
    lines = [f"{name}: calendar {schedule.calendar}, {schedule.year}: {schedule.source}", ""]
    lines.append("days off (放假):")
    for block in check.blocks:
        lines += [f"  {_block_title(block)}", *(f"    {weekday_name(d)}" for d in block.days_off)]
    lines.append(f"make-up working days (调休上班): {len(schedule.workdays)}")
    lines += [f"  {weekday_name(day)}" for day in sorted(schedule.workdays)]
    lines.append("")
    for doubt in check.doubts:
        subject = weekday_name(doubt.day) if doubt.day else str(schedule.year)
        lines.append(f"warning: {subject}: {doubt.rule}: {doubt.detail}")
    if check.unchecked:
        lines.append(
            f"note: no lunar festival dates for {schedule.year}: "
            f"{', '.join(check.unchecked)} and the days-off balance not checked"
        )
    warnings = len(check.doubts)
    lines.append(
        f"{len(schedule.holidays)} days off, {len(schedule.workdays)} make-up working days, "
        f"{warnings} warning{'' if warnings == 1 else 's'}"
    )
    return "\n".join(lines)


def _block_title(block: Block) -> str:
    count = len(block.days_off)
    named = "、".join(block.festivals) or "(no statutory holiday)"
    return f"{named}: {count} day{'' if count == 1 else 's'}"
