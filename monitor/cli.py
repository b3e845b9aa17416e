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
    from streams.topics import TopicLayoutError, ensure_topics

    try:
        settings = Settings.from_env()
        settings.config_files().load()
    except (SettingsError, ConfigError) as exc:
        raise _fail(str(exc)) from None
    try:
        created = asyncio.run(ensure_topics(settings))
    except TopicLayoutError as exc:
        raise _fail(str(exc)) from None
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


# -- redline watch: the wall in a terminal ------------------------------------------------------

WATCH_RED_SHOWN = 5  # red cases listed, the most overdue first


@app.command("watch")
def watch_command(
    interval: Annotated[
        float, typer.Option("--interval", min=0.5, help="seconds between two views")
    ] = 5.0,
    once: Annotated[bool, typer.Option("--once", help="print one view and exit")] = False,
) -> None:
    """Print what the wall will show, from the Redis read model, every few seconds.

    Cases by light, the most overdue red cases, feed health and the ranking. Settings from
    REDLINE_* variables (REDLINE_REDIS_URL, REDLINE_READ_MODEL_PREFIX). Ctrl-C ends it.
    """
    import asyncio
    import contextlib

    from monitor.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a watch ends
        asyncio.run(_watch(settings.redis_url, settings.read_model_prefix, interval, once))


async def _watch(redis_url: str, prefix: str, interval: float, once: bool) -> None:
    """Render the read model until cancelled; with ``once``, a single view (exit 1 on error)."""
    import asyncio
    import time

    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from streams.readmodel import ReadModel

    where = f"{_without_password(redis_url)} (prefix {prefix})"
    redis = Redis.from_url(redis_url)
    read_model = ReadModel(redis, prefix)
    try:
        while True:
            now = int(time.time())
            try:
                totals = await read_model.totals()
                reds = await read_model.red_cases(limit=WATCH_RED_SHOWN)
                feeds = [
                    (h.source, h.accepted, h.duplicate, h.refused, h.lag_last_s)
                    for h in await read_model.sources()
                ]
                ranks = [
                    (r.department, r.completed, r.on_time_rate, r.breached, r.overdue_now)
                    for r in await read_model.department_ranking()
                ]
                text = _wall_text(now, where, totals, reds, feeds, ranks)
            except (RedisError, OSError) as exc:
                if once:
                    raise _fail(f"{where}: {exc}", code=1) from None
                text = f"redline watch: {where}: {exc} (trying again in {interval:g} s)"
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            if once:
                return
            await asyncio.sleep(interval)
            sys.stdout.write("\n")
    finally:
        await redis.aclose()


Feed = tuple[str, int, int, int, int | None]  # source, accepted, duplicate, refused, last lag
Rank = tuple[str, int, float | None, int, int]  # department, completed, on time, breached, red


def _wall_text(
    now: int,
    where: str,
    totals: dict[str, int],
    reds: list[dict[str, object]],
    feeds: list[Feed],
    ranks: list[Rank],
) -> str:
    """One view of the read model as text: lights, the most overdue red cases, feed health,
    and the departments' ranking (科室排名) over all time."""
    lines = [f"redline watch  {zone(DEFAULT_TIMEZONE).format(now)}  {where}"]
    lines.append("cases    " + "  ".join(f"{light} {count}" for light, count in totals.items()))
    if not any(totals.values()):
        lines.append("         no case in the read model yet (is a worker running?)")
    lines.append(f"red      {totals.get('red', 0)} open" + (", most overdue:" if reds else ""))
    for view in reds:
        lines.append(
            f"         {view['case_id']!s:<28} {view.get('center') or '-'!s:<14} "
            f"{view.get('department') or '-'!s:<12} overdue {_overdue(view, now)}"
        )
    lines.append("sources  " + _row("source", "accepted", "duplicate", "refused", "last lag"))
    for source, accepted, duplicate, refused, lag in feeds:
        row = _row(source, str(accepted), str(duplicate), str(refused), _lag(lag))
        lines.append("         " + row)
    if not feeds:
        lines.append("         no event received yet")
    if ranks:
        lines.append("ranking  department     completed  on time  breached  red now")
    for department, completed, rate, breached, red in ranks:
        on_time = "-" if rate is None else f"{rate:.0%}"
        lines.append(
            f"         {department or '-':<14} {completed:>9} {on_time:>8} {breached:>9} {red:>8}"
        )
    return "\n".join(lines)


def _row(source: str, accepted: str, duplicate: str, refused: str, lag: str) -> str:
    return f"{source:<24} {accepted:>9} {duplicate:>10} {refused:>8}  {lag}"


def _overdue(view: dict[str, object], now: int) -> str:
    """Natural time since the promised deadline, up to now or to the case's own time when that
    is later (a simulated feed runs ahead of the clock)."""
    deadline = view.get("deadline")
    if not isinstance(deadline, str):
        return "-"
    as_of = view.get("as_of")
    until = max(now, parse_instant(as_of)) if isinstance(as_of, str) else now
    return _span(until - parse_instant(deadline))


def _lag(seconds: int | None) -> str:
    """Arrival minus occurred_at; negative when the window system's clock is ahead."""
    if seconds is None:
        return "-"
    return _span(seconds) if seconds >= 0 else f"-{_span(-seconds)} (clock ahead)"


def _span(seconds: int) -> str:
    """A duration for people: ``2d 03h``, ``5h 07m``, ``12m 30s``, ``40s``."""
    seconds = max(seconds, 0)
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _without_password(url: str) -> str:
    """The Redis URL without credentials, for messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url
