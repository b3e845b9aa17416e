"""The engine's commands, offline and without services: ``replay``, ``validate``,
``deadline`` and ``schema``."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfoNotFoundError

import typer

from monitor.calendar import CalendarError, OutOfCalendar, load_calendars
from monitor.cli.common import config_checks, fail
from monitor.clock import Clock, Timelines
from monitor.config import DEFAULT_CALENDAR, DEFAULT_TIMEZONE, ConfigError, ConfigFiles
from monitor.configrecord import ConfigSet
from monitor.engine import Engine
from monitor.events import dumps_schema
from monitor.gctuning import tune_gc
from monitor.limits import LimitError, parse_limit
from monitor.replay import dumps_case, replay, validate_lines
from monitor.timeutil import InstantError, parse_instant, zone

CatalogOpt = Annotated[
    Path, typer.Option("--catalog", help="catalog YAML (事项目录)", exists=True, dir_okay=False)
]
CalendarOpt = Annotated[
    list[Path] | None,
    typer.Option(
        "--calendar",
        help="extra calendar year file (YAML); repeat for several",
        exists=True,
        dir_okay=False,
    ),
]
CentersOpt = Annotated[
    Path | None, typer.Option("--centres", help="centres YAML", exists=True, dir_okay=False)
]
PolicyOpt = Annotated[
    Path | None,
    typer.Option(
        "--policy", help="policy YAML (thresholds, escalation)", exists=True, dir_okay=False
    ),
]
EventsArg = Annotated[
    Path, typer.Argument(help="events, one JSON object per line", exists=True, dir_okay=False)
]


def _instant(text: str, option: str) -> int:
    try:
        return parse_instant(text)
    except InstantError as exc:
        raise fail(f"{option}: {exc}") from None


def _engine(
    catalog: Path, calendars: list[Path] | None, centers: Path | None, policy: Path | None
) -> Engine:
    files = ConfigFiles(catalog, centers, tuple(calendars or ()), policy)
    try:
        return Engine(ConfigSet.read(files).load(config_checks()))
    except ConfigError as exc:
        raise fail(str(exc)) from None


def replay_command(
    events: EventsArg,
    now: Annotated[str, typer.Option("--now", help="evaluate at this RFC 3339 instant")],
    catalog: CatalogOpt,
    calendar: CalendarOpt = None,
    centers: CentersOpt = None,
    policy: PolicyOpt = None,
) -> None:
    """Replay a feed offline and print one JSON line per case, sorted by case_id.

    Invalid lines are reported on stderr with their number and reason; the valid ones are still
    replayed, and the exit status is then 2.
    """
    at = _instant(now, "--now")
    engine = _engine(catalog, calendar, centers, policy)
    tune_gc()
    with events.open("rb") as feed:
        report = replay(feed, engine)
    out = sys.stdout
    for view in engine.views(at):
        out.write(dumps_case(view) + "\n")
    for number in report.duplicates:
        typer.echo(f"line {number}: duplicate of an earlier event (ignored)", err=True)
    for problem in report.problems:
        typer.echo(str(problem), err=True)
    if report.problems:
        raise typer.Exit(2)


def validate_command(
    events: EventsArg,
    catalog: Annotated[
        Path | None,
        typer.Option("--catalog", help="also check item codes", exists=True, dir_okay=False),
    ] = None,
) -> None:
    """Check a feed against the event contract; report every invalid line with its reason."""
    engine = _engine(catalog, None, None, None) if catalog else None
    with events.open("rb") as feed:
        report = validate_lines(feed, engine)
    for problem in report.problems:
        typer.echo(str(problem))
    typer.echo(f"{report.applied} valid, {len(report.problems)} invalid")
    if report.problems:
        raise typer.Exit(2)


def deadline_command(
    start: Annotated[str, typer.Option("--start", help="start instant (RFC 3339)")],
    limit: Annotated[str, typer.Option("--limit", help='e.g. "5wd", "30d", "48h"')],
    calendar: CalendarOpt = None,
    timezone: Annotated[str, typer.Option("--timezone")] = DEFAULT_TIMEZONE,
    calendar_id: Annotated[str, typer.Option("--calendar-id")] = DEFAULT_CALENDAR,
) -> None:
    """Print the deadline of one limit started at an instant (the start day is not counted)."""
    at = _instant(start, "--start")
    try:
        budget = parse_limit(limit)
    except LimitError as exc:
        raise fail(f"--limit: {exc}") from None
    try:
        calendars = load_calendars(calendar or ())
    except CalendarError as exc:
        raise fail(str(exc)) from None
    try:
        tz = zone(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"--timezone: {timezone!r} is not a tz database name") from None
    if not calendars.known(calendar_id):
        raise fail(
            f"--calendar-id: {calendar_id!r} is not a known calendar id; known: "
            f"{', '.join(calendars.ids())}"
        )
    timelines = Timelines(tz, calendars.get(calendar_id))
    try:
        clock = Clock(timelines[budget.unit], budget, at)
        deadline = clock.deadline
    except OutOfCalendar as exc:
        raise fail(str(exc)) from None
    assert deadline is not None
    typer.echo(tz.format(deadline))
    if clock.provisional(deadline):
        typer.echo("note: depends on a year without an official schedule (provisional)", err=True)


def schema_command() -> None:
    """Print the JSON Schema of one event (SPEC §1)."""
    sys.stdout.write(dumps_schema())
