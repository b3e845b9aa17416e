"""``redline simulate``: the command's options, checked, turned into a load and a sink, and run.

Prints the summary as one JSON line at the end; exits 2 on a bad option or configuration, 1 when
lines were not delivered."""

from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from monitor.config import ConfigError, ConfigFiles
from monitor.timeutil import InstantError, parse_instant
from streams.simulate.load import (
    DEFAULT_RATE,
    DEFAULT_TIME_SCALE,
    DEFAULTS,
    DEMO_CATALOG,
    DEMO_CENTERS,
    Load,
    Shares,
    world,
)
from streams.simulate.run import simulate
from streams.simulate.sinks import FileSink, HttpSink, KafkaSink, Sink


def _fail(message: str) -> typer.Exit:
    typer.echo(f"redline: {message}", err=True)
    return typer.Exit(2)


def _share(help: str) -> Any:
    """The option of a share (:class:`~streams.simulate.load.Shares`): a probability."""
    return typer.Option(min=0.0, max=1.0, help=help)


def simulate_command(
    bootstrap: Annotated[str, typer.Option(help="Kafka bootstrap servers")] = "127.0.0.1:9092",
    topic: Annotated[str, typer.Option(help="the events topic")] = "approval-events",
    rate: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="lines per second at most; 0: as fast as possible, without waiting for "
            "simulated time. Cases arrive at a pace that reaches it once their lives overlap "
            "(a few minutes at the default time scale)",
        ),
    ] = DEFAULT_RATE,
    cases: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="start this many cases, and end once their last line is sent (which waits "
            "for simulated time unless --rate is 0)",
        ),
    ] = None,
    duration: Annotated[
        float | None, typer.Option(min=0.0, help="stop after this many seconds")
    ] = None,
    late_share: Annotated[float, _share("accepted cases that go overdue")] = DEFAULTS.late,
    suspend_share: Annotated[float, _share("accepted cases suspended once")] = DEFAULTS.suspend,
    extend_share: Annotated[float, _share("accepted cases extended once")] = DEFAULTS.extend,
    out_of_order_share: Annotated[
        float, _share("cases sent shuffled within small windows")
    ] = DEFAULTS.out_of_order,
    duplicate_share: Annotated[float, _share("events resent verbatim")] = DEFAULTS.duplicate,
    malformed_share: Annotated[
        float,
        _share(
            "events followed by a malformed line (broken JSON, unknown type, missing field, "
            "oversized value, conflicting duplicate)"
        ),
    ] = DEFAULTS.malformed,
    seed: Annotated[int, typer.Option(help="the same seed and --start give the same lines")] = 1,
    time_scale: Annotated[
        float, typer.Option(help="simulated seconds per real second")
    ] = DEFAULT_TIME_SCALE,
    start: Annotated[
        str | None, typer.Option(help="first simulated instant (RFC 3339); default: now")
    ] = None,
    dry_run: Annotated[
        Path | None,
        typer.Option("--dry-run", help="write JSON Lines to FILE instead of Kafka", dir_okay=False),
    ] = None,
    api: Annotated[
        str | None,
        typer.Option(
            help="post to the HTTP API at this URL (e.g. http://127.0.0.1:8000) instead of "
            "producing to Kafka, in batches of 100, with the token of REDLINE_INGEST_TOKEN"
        ),
    ] = None,
    catalog: Annotated[
        Path, typer.Option(help="catalog YAML (事项目录)", exists=True, dir_okay=False)
    ] = DEMO_CATALOG,
    centers: Annotated[
        Path, typer.Option(help="centres YAML", exists=True, dir_okay=False)
    ] = DEMO_CENTERS,
) -> None:
    """Produce a realistic load of window systems (窗口系统) to the events topic, or to a file.

    Prints a summary as one JSON line at the end (also on Ctrl-C or SIGTERM).
    """
    if time_scale <= 0:
        raise _fail("--time-scale: must be more than 0")
    try:
        first = parse_instant(start) if start else int(time.time())
    except InstantError as exc:
        raise _fail(f"--start: {exc}") from None
    try:
        config = ConfigFiles(catalog, centers).load()
        world(config, DEFAULTS)  # refuses an empty catalog or centres file
    except ConfigError as exc:
        raise _fail(str(exc)) from None
    shares = Shares(
        late_share,
        suspend_share,
        extend_share,
        out_of_order_share,
        duplicate_share,
        malformed_share,
    )
    load = Load(config, first, seed, cases, shares, time_scale, rate)
    sink: Sink
    if dry_run:
        sink = FileSink(dry_run)
    elif api:
        token = os.environ.get("REDLINE_INGEST_TOKEN")
        if not token:
            raise _fail("--api: set REDLINE_INGEST_TOKEN to an integrator token")
        sink = HttpSink(api, token)
    else:
        sink = KafkaSink(bootstrap, topic)
    from aiokafka.errors import KafkaError

    try:
        result = asyncio.run(simulate(load, sink, duration, handle_signals=True))
    except (OSError, KafkaError) as exc:  # an unwritable file, an unreachable broker
        raise _fail(f"{sink.where}: {exc}") from None
    if isinstance(sink, HttpSink):
        result["answers"] = dict(sink.answers)
        result["refusals"] = dict(sink.refusals.most_common(10))
    typer.echo(json.dumps(result, ensure_ascii=False))
    if result["failed"]:
        error = getattr(sink, "error", None)
        typer.echo(f"redline: {result['failed']} lines not delivered: {error}", err=True)
        raise typer.Exit(1)
