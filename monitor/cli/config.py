"""``redline config apply FILES…`` and ``redline config show``: the one way to change the
configuration of a running system, and what it runs.

``apply`` lays the files over the running configuration (a catalog, centres or policy file
replaces the running one; a calendar year file replaces its calendar's year or adds it),
validates the whole set, and prints every problem of every file at once (exit 2, nothing
published, nothing changes anywhere) or publishes it as the next version on ``redline-config``.
Then it waits until every worker reports running it and has recomputed its open cases, printing
the progress.
"""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.cli.common import config_checks, env_settings, fail
from monitor.config import Config, ConfigError
from monitor.configfile import FileError, Source
from monitor.configrecord import ConfigRecord, ConfigSet, calendar_years, sources
from monitor.settings import Settings

config_app = typer.Typer(
    help="The running configuration: apply files to a live system, show what runs.",
    no_args_is_help=True,
)

POLL_S = 0.5
NO_CATALOG = Source("(no catalog given)", "items: []\n")  # --whole without one: refused


@config_app.command("apply")
def apply_command(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="catalog, centres, policy and calendar year files (YAML), in any order",
            dir_okay=False,
        ),
    ],
    wait: Annotated[
        float,
        typer.Option(help="seconds to wait for every worker to run it (0: do not wait)"),
    ] = 120.0,
    whole: Annotated[
        bool,
        typer.Option(
            "--whole",
            help="FILES are the whole configuration: a running file of a role not given (a "
            "calendar year file, the centres or the policy) is dropped; a catalog is needed",
        ),
    ] = False,
) -> None:
    """Validate FILES over the running configuration and apply them as its next version.

    Exit 0 when applied (and, unless --wait 0, running everywhere), 2 with every problem when
    a file is wrong (nothing applied), 1 when workers did not all take it within --wait.
    """
    settings = env_settings()
    try:
        asyncio.run(_apply(settings, files, wait, whole))
    except FileError as exc:
        raise fail(_problems(exc)) from None


def _problems(exc: FileError) -> str:
    count = len(exc.problems)
    head = "nothing applied: " + ("1 problem" if count == 1 else f"{count} problems")
    return "\n".join([head, *(f"  {problem}" for problem in exc.problems)])


async def _apply(settings: Settings, paths: list[Path], wait: float, whole: bool) -> None:
    from monitor import configlink

    given = sources(paths)
    running = await configlink.running(settings)
    base = ConfigSet(catalog=NO_CATALOG) if whole else running.files
    wanted, config = base.with_files(given, config_checks())  # or every problem of every file
    if wanted.catalog is NO_CATALOG:
        raise ConfigError("--whole: give the catalog file too (items:), it has no default")
    if wanted.digest() == running.files.digest():
        typer.echo(f"nothing to apply: version {running.version} runs these files already")
        return
    before = running.files.load()
    record = await configlink.publish(
        settings,
        ConfigRecord(wanted, configlink.operator(), int(time.time()), "apply"),
    )
    typer.echo(f"applied as version {record.version} ({record.digest[:19]}…)")
    for line in changes(before, config):
        typer.echo(f"  {line}")
    if wait > 0 and not await _await_workers(settings, record.version, wait):
        raise typer.Exit(1)


def changes(before: Config, after: Config, this_year: int | None = None) -> list[str]:
    """What the new version changes that a person would check: calendar years that became
    official or changed, centres and items added or removed (pure)."""
    year = this_year or time.gmtime().tm_year
    lines = []
    old, new = calendar_years(before, year), calendar_years(after, year)
    for calendar_id, years in new.items():
        was = old.get(calendar_id, {"official": {}, "provisional": []})
        for when, source in years["official"].items():
            if when not in was["official"]:
                lines.append(f"calendar {calendar_id} {when}: provisional → official ({source})")
            elif was["official"][when] != source:
                lines.append(f"calendar {calendar_id} {when}: now {source}")
        for when in was["official"]:
            if when not in years["official"]:
                lines.append(f"calendar {calendar_id} {when}: official → provisional")
    for what, old_codes, new_codes in (
        ("centre", set(before.centers), set(after.centers)),
        ("item", set(before.catalog), set(after.catalog)),
    ):
        lines += [f"{what} {code} added" for code in sorted(new_codes - old_codes)]
        lines += [f"{what} {code} removed" for code in sorted(old_codes - new_codes)]
    if before.policy != after.policy:
        lines.append("policy: yellow thresholds changed")
    return lines


async def _await_workers(settings: Settings, version: int, wait: float) -> bool:
    """Print each worker's progress until all run ``version`` and finished recomputing."""
    from monitor.readmodel import ReadModel
    from monitor.redisclient import connect

    redis = connect(settings.redis_url, 5.0)
    read_model = ReadModel(redis, settings.read_model_prefix)
    deadline = time.monotonic() + wait
    shown = ""
    try:
        while True:
            workers = [r for r in await read_model.config_reports() if r["process"] == "worker"]
            line, done = progress(workers, version)
            if line != shown:
                typer.echo(line)
                shown = line
            if done:
                return True
            if time.monotonic() >= deadline:
                typer.echo(
                    f"not every worker runs version {version} after {wait:g} s: see "
                    "`redline config show` and the workers' logs",
                    err=True,
                )
                return False
            await asyncio.sleep(POLL_S)
    finally:
        await redis.aclose()


def progress(workers: list[dict[str, Any]], version: int) -> tuple[str, bool]:
    """One line on the workers' switch to ``version``, and whether it is complete (pure)."""
    if not workers:
        return "no worker reports: it will run the new version when it starts", True
    running = [w for w in workers if w["version"] >= version]
    recompute = [w.get("recompute") or {} for w in running]
    mine = [r for r in recompute if r.get("version", 0) >= version]
    cases = sum(r.get("cases", 0) for r in mine)
    done = sum(r.get("done", 0) for r in mine)
    busy = [r for r in mine if not r.get("finished")] + [w for w in running if w.get("pending")]
    line = f"workers running version {version}: {len(running)} of {len(workers)}"
    if mine:
        seconds = max(r.get("seconds", 0) for r in mine)
        line += f"; open cases recomputed {done} of {cases} ({seconds:.1f} s)"
    return line, len(running) == len(workers) and not busy


@config_app.command("show")
def show_command() -> None:
    """The newest configuration version on the topic, its calendar years, and each worker's."""
    settings = env_settings()
    asyncio.run(_show(settings))


async def _show(settings: Settings) -> None:
    from monitor import configlink
    from monitor.readmodel import ReadModel
    from monitor.redisclient import connect

    record = await configlink.newest(settings)
    if record is None:
        raise fail("no configuration on the topic yet: the first worker or API publishes it")
    summary = record.summary(record.files.load(), time.gmtime().tm_year)
    typer.echo(
        f"version {record.version} ({record.how}, applied by {record.applied_by} at "
        f"{time.strftime('%Y-%m-%d %H:%M:%S', time.gmtime(record.applied_at))} UTC)"
    )
    typer.echo(f"  digest {record.digest}")
    for role, names in summary["files"].items():
        if names:
            typer.echo(f"  {role}: {', '.join(names) if isinstance(names, list) else names}")
    for calendar_id, years in summary["calendars"].items():
        official = ", ".join(f"{y} ({s})" for y, s in years["official"].items()) or "none"
        provisional = ", ".join(map(str, years["provisional"])) or "none"
        typer.echo(f"  calendar {calendar_id}: official {official}; provisional {provisional}")
    redis = connect(settings.redis_url, 5.0)
    try:
        reports = await ReadModel(redis, settings.read_model_prefix).config_reports()
    finally:
        await redis.aclose()
    for report in reports:
        recompute = report.get("recompute") or {}
        typer.echo(
            f"  {report['process']} {report['id']}: version {report['version']}"
            + (
                f", recomputed {recompute['done']} of {recompute['cases']} open cases"
                f" in {recompute['seconds']:.1f} s"
                if recompute
                else ""
            )
        )
