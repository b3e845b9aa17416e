"""``redline calendar check``: a year file read back day by day, with what looks wrong in it,
before an operator loads it. With ``--live``, also what it would do to the running system's open
cases (``monitor.calendarimpact``): the deadlines that move, the red lights corrected, the cases
turned red at once. It reads the running configuration and the read model, and changes nothing.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from monitor.calendar import CalendarError, load_calendars, read_year_file
from monitor.calendarcheck import Block, YearCheck, check_year, weekday_name
from monitor.calendarimpact import Apart, CaseMove, Impact, calendar_impact
from monitor.cli.common import env_settings, fail, without_password
from monitor.cli.config import progress
from monitor.config import DEFAULT_TIMEZONE
from monitor.configfile import FileError
from monitor.configrecord import sources
from monitor.timeutil import zone

if TYPE_CHECKING:
    from monitor.readmodel import ReadModel, View
    from monitor.settings import Settings

LISTED = 20  # cases listed per group, then "… and N more"
KAFKA_WAIT_S = 15.0  # for the running configuration; a broker away is said, not waited out
PAGE = 500  # open cases read per round trip

calendar_app = typer.Typer(
    help="Working-day calendars (工作日历): check a year file before loading it.",
    no_args_is_help=True,
)


@calendar_app.command("check")
def check_command(
    year_file: Annotated[
        Path, typer.Argument(help="the year file (YAML), e.g. cn-2027.yaml", dir_okay=False)
    ],
    live: Annotated[
        bool,
        typer.Option(
            "--live",
            help="also say what the file would do to the running system's open cases "
            "(REDLINE_* settings): deadlines that move, red lights corrected; changes nothing",
        ),
    ] = False,
) -> None:
    """Print every day off and make-up working day of a year file, and warn about doubts.

    Exit 0 when the file loads (warnings included), 2 with every error when it does not, or
    with --live when the running system cannot be read.
    """
    try:
        schedule = read_year_file(year_file)
    except CalendarError as exc:  # every problem of the file, a line each
        raise fail("\n".join(exc.problems)) from None
    check = check_year(schedule, load_calendars().festival_dates(schedule.year))
    typer.echo(check_text(year_file.name, check))
    if live:
        settings = env_settings()
        try:
            text = asyncio.run(_live(settings, year_file))
        except FileError as exc:  # the file over the running set, as `config apply` lays it
            raise fail("\n".join(exc.problems)) from None
        typer.echo("")
        typer.echo(text)


async def _live(settings: Settings, year_file: Path) -> str:
    """The impact of ``year_file`` on the running system, read as ``config apply`` would lay
    it over the running configuration; nothing is published or written."""
    from aiokafka.errors import KafkaError
    from redis.exceptions import RedisError

    from monitor import configlink
    from monitor.readmodel import ReadModel
    from monitor.redisclient import connect

    logging.getLogger("aiokafka").setLevel(logging.CRITICAL)  # what failed is said below, once
    try:
        record = await asyncio.wait_for(configlink.newest(settings), KAFKA_WAIT_S)
    except (KafkaError, OSError, TimeoutError) as exc:
        raise fail(
            f"Kafka {settings.kafka_bootstrap}: the running configuration "
            f"({settings.config_topic}) cannot be read: {exc or f'no answer in {KAFKA_WAIT_S:g} s'}"
        ) from None
    if record is None:
        raise fail("no configuration on the topic yet: the first worker or API publishes it")
    wanted, after = record.files.with_files(sources([year_file]))
    now = int(time.time())
    redis = connect(settings.redis_url, 5.0)
    try:
        read_model = ReadModel(redis, settings.read_model_prefix)
        views = await open_views(read_model)
        workers = [r for r in await read_model.config_reports() if r["process"] == "worker"]
    except (RedisError, OSError) as exc:
        raise fail(
            f"Redis {without_password(settings.redis_url)}: the open cases cannot be read: {exc}"
        ) from None
    finally:
        await redis.aclose()
    impact = calendar_impact(record.files.load(), after, now, views)
    notes = []
    if wanted.digest() == record.digest:
        notes.append(f"version {record.version} runs this file already")
    if not progress(workers, record.version)[1]:
        notes.append(
            f"not every worker has recomputed its cases under version {record.version} yet: "
            "a view counted under an older version may be predicted from its old deadlines"
        )
    return live_text(record.version, impact, notes)


async def open_views(read_model: ReadModel) -> list[View]:
    """Every open case's view, in deadline order."""
    views: list[View] = []
    cursor = None
    while True:
        page = await read_model.cases(limit=PAGE, cursor=cursor)
        views += page.items
        if page.cursor is None:
            return views
        cursor = page.cursor


def live_text(version: int, impact: Impact, notes: list[str]) -> str:
    """What ``calendar check --live`` adds: the impact on the open cases (pure)."""
    now = zone(DEFAULT_TIMEZONE).format(impact.now).replace("T", " ")
    lines = [
        f"live stack (configuration version {version}, {_number(impact.checked)} open "
        f"case{'' if impact.checked == 1 else 's'} at {now}):",
        *(f"  note: {note}" for note in notes),
    ]
    later = sum(1 for case in impact.moved if case.later)
    lines.append(
        f"  deadlines that move: {len(impact.moved)}"
        + (f" ({later} later, {len(impact.moved) - later} earlier)" if impact.moved else "")
    )
    lines += _listed([_move_line(case) for case in impact.moved])
    lines.append(f"  red lights corrected: {len(impact.corrected)}")
    lines += _listed([_move_line(case) for case in impact.corrected])
    lines.append(f"  turn red at once: {len(impact.turned_red)}")
    lines += _listed([_move_line(case) for case in impact.turned_red])
    reasons = impact.apart_by_reason()
    lines.append(
        f"  not predicted here (the recompute decides): {len(impact.apart)}"
        + (f" ({', '.join(f'{why}: {n}' for why, n in reasons.items())})" if reasons else "")
    )
    # a suspended case has no deadline to move: the others are the ones to look at after applying
    lines += _listed(
        [f"{case_id} ({why})" for case_id, why in impact.apart if why is not Apart.SUSPENDED]
    )
    return "\n".join(lines)


def _move_line(case: CaseMove) -> str:
    fmt = case.zone.format
    return f"{case.case_id} " + ", ".join(
        f"{move.what} {fmt(move.old)} → {fmt(move.new)} ({'later' if move.later else 'earlier'})"
        for move in case.moves
    )


def _listed(lines: list[str]) -> list[str]:
    shown = [f"    {line}" for line in lines[:LISTED]]
    if len(lines) > LISTED:
        shown.append(f"    … and {len(lines) - LISTED} more")
    return shown


def _number(count: int) -> str:
    """``1 234``: thousands apart, as the operators' reports write them."""
    return f"{count:,}".replace(",", " ")


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
