"""The ``redline`` command: offline replay and checks for integrators and operators."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfoNotFoundError

import typer

from monitor.calendar import CalendarError, OutOfCalendar, load_calendars
from monitor.clock import Clock, Timelines
from monitor.config import DEFAULT_CALENDAR, DEFAULT_TIMEZONE, ConfigError, ConfigFiles
from monitor.engine import Engine
from monitor.events import dumps_schema
from monitor.limits import LimitError, parse_limit
from monitor.process import tune_gc
from monitor.replay import dumps_case, replay, validate_lines
from monitor.timeutil import InstantError, parse_instant, zone

app = typer.Typer(
    help="Redline — electronic supervision monitor (电子监察系统).",
    no_args_is_help=True,
    add_completion=False,
)

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
CentresOpt = Annotated[
    Path | None, typer.Option("--centres", help="centres YAML", exists=True, dir_okay=False)
]
PolicyOpt = Annotated[
    Path | None,
    typer.Option("--policy", help="policy YAML (thresholds)", exists=True, dir_okay=False),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"redline: {message}", err=True)
    return typer.Exit(code)


def _instant(text: str, option: str) -> int:
    try:
        return parse_instant(text)
    except InstantError as exc:
        raise _fail(f"{option}: {exc}") from None


def _engine(
    catalog: Path, calendars: list[Path] | None, centres: Path | None, policy: Path | None
) -> Engine:
    try:
        return Engine(ConfigFiles(catalog, centres, tuple(calendars or ()), policy).load())
    except ConfigError as exc:
        raise _fail(str(exc)) from None


@app.command("replay")
def replay_command(
    events: Annotated[
        Path, typer.Argument(help="events, one JSON object per line", exists=True, dir_okay=False)
    ],
    now: Annotated[str, typer.Option("--now", help="evaluate at this RFC 3339 instant")],
    catalog: CatalogOpt,
    calendar: CalendarOpt = None,
    centres: CentresOpt = None,
    policy: PolicyOpt = None,
) -> None:
    """Replay a feed offline and print one JSON line per case, sorted by case_id.

    Invalid lines are reported on stderr with their number and reason; the valid ones are still
    replayed, and the exit status is then 2.
    """
    at = _instant(now, "--now")
    engine = _engine(catalog, calendar, centres, policy)
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


@app.command("validate")
def validate_command(
    events: Annotated[
        Path, typer.Argument(help="events, one JSON object per line", exists=True, dir_okay=False)
    ],
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


@app.command("deadline")
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
        raise _fail(f"--limit: {exc}") from None
    try:
        calendars = load_calendars(calendar or ())
    except CalendarError as exc:
        raise _fail(str(exc)) from None
    try:
        tz = zone(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise _fail(f"--timezone: {timezone!r} is not a tz database name") from None
    if not calendars.known(calendar_id):
        raise _fail(
            f"--calendar-id: {calendar_id!r} is not a known calendar id; known: "
            f"{', '.join(calendars.ids())}"
        )
    timelines = Timelines(tz, calendars.get(calendar_id))
    try:
        clock = Clock(timelines[budget.unit], budget, at)
        deadline = clock.deadline
    except OutOfCalendar as exc:
        raise _fail(str(exc)) from None
    assert deadline is not None
    typer.echo(tz.format(deadline))
    if clock.provisional(deadline):
        typer.echo("note: depends on a year without an official schedule (provisional)", err=True)


@app.command("schema")
def schema_command() -> None:
    """Print the JSON Schema of one event (SPEC §1)."""
    sys.stdout.write(dumps_schema())


def main() -> None:
    """Console-script entry point."""
    app()


@app.command("worker")
def worker_command(
    loglevel: Annotated[
        str, typer.Option("--loglevel", help="crit|error|warn|info|debug")
    ] = "warn",
) -> None:
    """Run a stream worker (settings from REDLINE_* variables; see the operator guide)."""
    import asyncio

    from faust.worker import Worker

    from monitor.settings import Settings, SettingsError
    from streams.app import create_app
    from streams.topics import ensure_topics

    try:
        settings = Settings.from_env()
        settings.config_files().load()
    except (SettingsError, ConfigError) as exc:
        raise _fail(str(exc)) from None
    created = asyncio.run(ensure_topics(settings))
    if created:
        typer.echo(f"redline: created topics {', '.join(created)}", err=True)
    Worker(create_app(settings), loglevel=loglevel, quiet=True).execute_from_commandline()


def _register_simulate() -> None:
    """``redline simulate``, defined beside the load it produces (streams/simulate.py)."""
    from streams.simulate import simulate_command

    app.command("simulate")(simulate_command)


_register_simulate()


@app.command("rebuild-readmodel")
def rebuild_readmodel_command() -> None:
    """Empty the Redis read model and rebuild it from the cases and alerts topics."""
    import asyncio

    from monitor.settings import Settings, SettingsError
    from streams.rebuild import rebuild_read_model

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    done = asyncio.run(rebuild_read_model(settings))
    typer.echo(
        f"deleted {done.deleted_keys} keys; projected {done.cases} case records and "
        f"{done.alerts} alert records"
    )
