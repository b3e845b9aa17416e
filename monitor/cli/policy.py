"""``redline policy test``: who the policy would tell about an alert, at each level and when,
before an operator applies it (offline: the files given, or the ones the settings name)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from alerts.policy import Channel, EscalationPolicy, Receiver, parse_policy
from alerts.waits import CentreTime
from monitor.alert import KIND_RULES, AlertKind, Severity
from monitor.cli.common import env_settings, fail
from monitor.config import Config, ConfigError, ConfigFiles
from monitor.configfile import source_of
from monitor.timeutil import InstantError, parse_instant, zone

policy_app = typer.Typer(
    help="The escalation policy (升级策略): who is told about an alert, when.",
    no_args_is_help=True,
)
HANDLER = "handler"


@policy_app.command("test")
def test_command(
    center: Annotated[str, typer.Option("--center", help="the case's centre code")],
    department: Annotated[str, typer.Option("--department", help="the case's department")],
    item: Annotated[str, typer.Option("--item", help="the case's item code")],
    kind: Annotated[AlertKind, typer.Option("--kind", help="the alert kind (SPEC §4)")],
    at: Annotated[
        str, typer.Option("--at", help="when it fires (RFC 3339)")
    ] = "2026-12-07T10:00:00+08:00",
    policy: Annotated[
        Path | None, typer.Option("--policy", help="policy YAML", exists=True, dir_okay=False)
    ] = None,
    catalog: Annotated[
        Path | None, typer.Option("--catalog", help="catalog YAML", exists=True, dir_okay=False)
    ] = None,
    centers: Annotated[
        Path | None, typer.Option("--centres", help="centres YAML", exists=True, dir_okay=False)
    ] = None,
) -> None:
    """Print the route an alert takes and who is told at each level, and when (exit 2 on a
    policy or configuration that does not load)."""
    settings = env_settings()
    files = ConfigFiles(
        catalog or settings.catalog,
        centers or settings.centres,
        settings.calendars,
        policy or settings.policy,
    )
    try:
        fired = parse_instant(at)
    except InstantError as exc:
        raise fail(f"--at: {exc}") from None
    try:
        config = files.load()
        path = files.policy
        escalation = (
            parse_policy(source_of(path, ConfigError), config)
            if path is not None
            else EscalationPolicy()
        )
    except ConfigError as exc:
        raise fail("\n".join(exc.problems)) from None
    typer.echo(route_text(escalation, config, center, department, item, kind, fired))


def route_text(
    policy: EscalationPolicy,
    config: Config,
    center: str,
    department: str,
    item: str,
    kind: AlertKind,
    fired: int,
) -> str:
    """What ``policy test`` prints (pure)."""
    rule = KIND_RULES[kind]
    severity = rule.severity
    route = policy.route_for(center, department, item, kind.value, severity.value)
    site = config.center(center)
    local = zone(site.timezone)
    head = (
        f"a {severity.value} {kind.value} alert at {local.format(fired)} "
        f"({center}, {department}, {item})"
    )
    if route is None:
        return f"{head}\n  no route matches: nobody is told"
    timings = route.timings
    lines = [
        head,
        f"  route {route.entry}: escalate after {timings.escalate_after}, repeat every "
        f"{timings.repeat_every}, acknowledgement timeout {timings.ack_timeout}",
    ]
    time = CentreTime.of(config, center)
    level, when = rule.first_level, fired
    while level <= 3:
        receivers = route.levels.get(level, ())
        condition = "" if when == fired else ", if not acknowledged by then"
        named = "; ".join(_receiver(policy, policy.receivers[r]) for r in receivers) or "nobody"
        lines.append(f"  level {level} at {local.format(when)}{condition}: {named}")
        if severity is not Severity.RED:
            lines.append("  a yellow alert stays at its first level")
            break
        level, when = level + 1, time.after(when, timings.escalate_after)
    lines.append(
        f"  repeated every {timings.repeat_every} at the current level while not acknowledged; "
        f"once acknowledged, the next level {timings.ack_timeout} later if still open"
    )
    return "\n".join(lines)


def _receiver(policy: EscalationPolicy, receiver: Receiver) -> str:
    whom = [
        "the case's handler" if person == HANDLER else _person(policy, person)
        for person in (*receiver.to, *receiver.mention)
    ]
    held = f", {receiver.window} only" if receiver.window else ""
    told = f" to {', '.join(whom)}" if whom else ""
    channel = receiver.channel.value if receiver.channel is not Channel.WEBHOOK else "webhook"
    return f"{receiver.id} ({channel}{told}{held})"


def _person(policy: EscalationPolicy, person: str) -> str:
    found = policy.people.get(person)
    return f"{found.name} ({person})" if found else person
