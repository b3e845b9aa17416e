"""What the command groups share: failing with a message, the settings of ``REDLINE_*``
variables, the checks of a configuration beyond the core's, and a Redis URL fit for a
message."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:  # pydantic loads only for the commands that read settings
    from monitor.configrecord import SetCheck
    from monitor.settings import Settings


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print ``redline: message`` on stderr, each of its lines so; the exit to raise, with
    ``code``."""
    for line in message.splitlines() or [""]:
        typer.echo(f"redline: {line}", err=True)
    return typer.Exit(code)


def env_settings() -> Settings:
    """The settings of this process from ``REDLINE_*`` variables; exit 2 if they are wrong."""
    from monitor.settings import Settings, SettingsError

    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise fail(str(exc)) from None


def config_checks() -> tuple[SetCheck, ...]:
    """What a configuration set must pass besides the core's own rules: the escalation part of
    its policy file (SPEC §5.1), which the pure core does not import (alerts/ is above it)."""
    from alerts.policy import check_policy

    return (check_policy,)


def without_password(url: str) -> str:
    """The Redis URL without credentials, for messages."""
    scheme, sep, rest = url.partition("://")
    if sep and "@" in rest.split("/", 1)[0]:
        return f"{scheme}://{rest.split('@', 1)[1]}"
    return url
