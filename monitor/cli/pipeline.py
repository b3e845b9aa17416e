"""The stream pipeline's commands: ``worker`` and ``rebuild-readmodel`` (``simulate`` is defined
beside the load it produces, in streams/simulate/).

The pipeline's modules load inside each command, so that the engine's commands start without
faust or Kafka clients."""

from __future__ import annotations

from typing import Annotated

import typer

from monitor.cli.common import config_checks, env_settings, fail
from monitor.config import ConfigError
from monitor.configrecord import ConfigSet


def worker_command(
    loglevel: Annotated[
        str, typer.Option("--loglevel", help="critical|error|warn|info|debug")
    ] = "warn",
) -> None:
    """Run a stream worker (settings from REDLINE_* variables; see the operator guide)."""
    import asyncio

    from faust.worker import Worker

    from monitor import configlink
    from monitor.configfile import FileError
    from streams.app import create_app
    from streams.topics import TopicLayoutError, ensure_topics

    settings = env_settings()
    try:
        ConfigSet.read(settings.config_files()).load(config_checks())
    except ConfigError as exc:
        raise fail(str(exc)) from None
    try:
        created = asyncio.run(ensure_topics(settings))
        running = asyncio.run(configlink.running(settings))
    except TopicLayoutError as exc:
        raise fail(str(exc)) from None
    except FileError as exc:  # the newest version does not load here (a newer Redline's)
        raise fail(str(exc)) from None
    if created:
        typer.echo(f"redline: created topics {', '.join(created)}", err=True)
    typer.echo(
        f"redline: configuration version {running.version} ({running.how}, {running.applied_by})",
        err=True,
    )
    worker = Worker(create_app(settings, running), loglevel=loglevel, quiet=True)
    # faust's terminal spinner sets the root logger to DEBUG, so every debug call (aiokafka
    # logs each record it sends) built a log record: 8 % of a busy worker's time
    worker.spinner = None
    worker.execute_from_commandline()


def rebuild_readmodel_command() -> None:
    """Empty the Redis read model and rebuild it from the cases, alerts and audit topics."""
    import asyncio

    from streams.rebuild import rebuild_read_model

    done = asyncio.run(rebuild_read_model(env_settings()))
    typer.echo(
        f"deleted {done.deleted_keys} keys; projected {done.cases} case, {done.alerts} alert "
        f"and {done.audit} audit records in {done.seconds:.1f} s"
    )
