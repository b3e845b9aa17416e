"""The ``redline`` command, assembled from its groups: the engine's offline commands, the
calendar check, the stream pipeline's, the terminal wall, and the HTTP API's.

This package is the composition root: the one place in ``monitor/`` that may import
``streams/`` and ``alerts/``."""

from __future__ import annotations

import typer

from monitor.cli import api, calendar, config, engine, pipeline, policy, watch
from streams.simulate import simulate_command  # defined beside the load it produces

app = typer.Typer(
    help="Redline — electronic supervision monitor (电子监察系统).",
    no_args_is_help=True,
    add_completion=False,
)

for name, command in (
    ("replay", engine.replay_command),
    ("validate", engine.validate_command),
    ("deadline", engine.deadline_command),
    ("schema", engine.schema_command),
    ("worker", pipeline.worker_command),
    ("simulate", simulate_command),
    ("rebuild-readmodel", pipeline.rebuild_readmodel_command),
    ("watch", watch.watch_command),
    ("api", api.api_command),
):
    app.command(name)(command)
app.add_typer(api.token_app, name="token")
app.add_typer(calendar.calendar_app, name="calendar")
app.add_typer(config.config_app, name="config")
app.add_typer(policy.policy_app, name="policy")


def main() -> None:
    """Console-script entry point."""
    app()
