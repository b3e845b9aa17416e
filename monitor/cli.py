"""The ``redline`` command: offline replay and checks for integrators and operators."""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar
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

if TYPE_CHECKING:  # the API's modules load only for the commands that use them
    from monitor.api.auth import Principal, TokenStore

T = TypeVar("T")

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
        str, typer.Option("--loglevel", help="critical|error|warn|info|debug")
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
    worker = Worker(create_app(settings), loglevel=loglevel, quiet=True)
    # faust's terminal spinner sets the root logger to DEBUG, so every debug call (aiokafka
    # logs each record it sends) built a log record: 8 % of a busy worker's time
    worker.spinner = None
    worker.execute_from_commandline()


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

    from monitor.readmodel import ReadModel

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


# -- redline api: the HTTP API ------------------------------------------------------------------

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


@app.command("api")
def api_command(
    host: Annotated[
        str | None, typer.Option("--host", help="address to listen on [REDLINE_API_HOST]")
    ] = None,
    port: Annotated[
        int | None,
        typer.Option("--port", min=1, max=65_535, help="port to listen on [REDLINE_API_PORT]"),
    ] = None,
    log_level: Annotated[
        str, typer.Option("--log-level", help="critical|error|warning|info|debug")
    ] = "info",
    access_log: Annotated[
        bool, typer.Option("--access-log/--no-access-log", help="one line per request")
    ] = True,
) -> None:
    """Serve the HTTP API (ingestion, queries, /wall, /metrics) with uvicorn.

    Settings from REDLINE_* variables (see the operator guide). The dev tokens come from
    REDLINE_INGEST_TOKEN (an integrator token for any source) and REDLINE_SUPERVISOR_TOKEN (a
    supervisor); each one that is unset is generated and printed here, once.
    """
    import logging

    import uvicorn
    from pydantic import SecretStr

    from monitor.api.app import create_app
    from monitor.api.auth import new_secret
    from monitor.settings import Settings, SettingsError

    if log_level.lower() not in LOG_LEVELS:
        raise _fail(f"--log-level: must be one of {', '.join(LOG_LEVELS)}")
    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    changes: dict[str, object] = {}
    if host is not None:
        changes["api_host"] = host
    if port is not None:
        changes["api_port"] = port
    for name, variable, what in (
        ("ingest_token", "REDLINE_INGEST_TOKEN", "a dev integrator token (any source)"),
        ("supervisor_token", "REDLINE_SUPERVISOR_TOKEN", "a dev supervisor token"),
    ):
        if getattr(settings, name) is None:
            secret = new_secret()
            changes[name] = SecretStr(secret)
            # to the terminal only, once; never through the logging system
            typer.echo(
                f"redline api: {variable} is not set; generated {what}:\n  {secret}", err=True
            )
    settings = settings.model_copy(update=changes)
    try:
        api = create_app(settings, access_log=access_log)
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        api,
        host=settings.api_host,
        port=settings.api_port,
        log_level=log_level.lower(),
        access_log=False,  # the app writes its own, without query strings (tokens)
        timeout_graceful_shutdown=10,  # open SSE streams would hold a stop forever
    )


# -- redline token: API tokens ------------------------------------------------------------------

token_app = typer.Typer(
    help="API tokens: create (the secret is shown once), list, revoke.", no_args_is_help=True
)
app.add_typer(token_app, name="token")


@token_app.command("create")
def token_create_command(
    name: Annotated[str, typer.Option("--name", help="who holds it, e.g. 'gz window system'")],
    kind: Annotated[str, typer.Option("--kind", help="integrator | person")],
    role: Annotated[
        str | None, typer.Option("--role", help="person tokens: viewer | supervisor | admin")
    ] = None,
    source: Annotated[
        str | None, typer.Option("--source", help="integrator tokens: the source it sends as")
    ] = None,
    center: Annotated[
        list[str] | None,
        typer.Option("--center", help="a centre it is bound to; repeat for several (default all)"),
    ] = None,
    rate: Annotated[
        float | None,
        typer.Option("--rate", help="requests per second (default REDLINE_API_RATE_PER_S)"),
    ] = None,
) -> None:
    """Create a token. The secret goes to stdout, alone, once: only its hash is kept."""
    import asyncio

    from monitor.api.auth import Role, TokenError

    try:
        role_value = None if role is None else Role(role)
    except ValueError:
        raise _fail("--role: must be viewer, supervisor or admin") from None
    if kind == "integrator" and source is None:
        raise _fail("--source: an integrator token is bound to its window system's source")

    async def create(store: TokenStore) -> tuple[Principal, str]:
        return await store.create(name, kind, role_value, source, center, rate)

    try:
        principal, secret = asyncio.run(_with_tokens(create))
    except TokenError as exc:
        raise _fail(f"--{str(exc).replace('centers:', 'center:')}") from None
    typer.echo(f"created {_describe_token(principal)}", err=True)
    typer.echo("the secret follows, shown this once: keep it in your secret store", err=True)
    typer.echo(secret)


@token_app.command("list")
def token_list_command() -> None:
    """List the tokens (revoked ones too): never a secret nor its hash."""
    import asyncio

    async def listing(store: TokenStore) -> list[Principal]:
        return await store.list()

    found = asyncio.run(_with_tokens(listing))
    if not found:
        typer.echo("no token yet: create one with `redline token create`")
    for principal in found:
        typer.echo(_describe_token(principal))


@token_app.command("revoke")
def token_revoke_command(
    token_id: Annotated[str, typer.Argument(help="the token's id (tok_…), from `token list`")],
) -> None:
    """Revoke a token: it is refused (401) from the next request on."""
    import asyncio

    async def revoke(store: TokenStore) -> bool:
        return await store.revoke(token_id)

    if not asyncio.run(_with_tokens(revoke)):
        raise _fail(f"no live token {token_id!r} (see `redline token list`)", code=1)
    typer.echo(f"revoked {token_id}")


async def _with_tokens(work: Callable[[TokenStore], Awaitable[T]]) -> T:
    """Run ``work`` with the token store of REDLINE_REDIS_URL and REDLINE_AUTH_PREFIX."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from monitor.api.auth import TokenStore
    from monitor.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise _fail(str(exc)) from None
    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    try:
        return await work(TokenStore(redis, settings.auth_prefix))
    except (RedisError, OSError) as exc:
        raise _fail(f"{_without_password(settings.redis_url)}: {exc}", code=1) from None
    finally:
        await redis.aclose()


def _describe_token(principal: Principal) -> str:
    """One line per token: id, kind, name, rights, state."""
    if principal.kind == "person":
        rights = f"role {principal.role}"
    else:
        rights = f"source {principal.source or '(any)'}"
    centres = (
        "all centres"
        if principal.centers is None
        else "centres " + ",".join(sorted(principal.centers))
    )
    rate = "" if principal.rate_per_s is None else f", {principal.rate_per_s:g} req/s"
    state = "live"
    if principal.revoked_at is not None:
        state = "revoked " + zone(DEFAULT_TIMEZONE).format(principal.revoked_at)
    created = (
        "" if principal.created_at is None else zone(DEFAULT_TIMEZONE).format(principal.created_at)
    )
    return (
        f"{principal.token_id}  {principal.kind:<10}  {principal.name!r}  {rights}, {centres}"
        f"{rate}  created {created}  {state}"
    )
