"""The HTTP API's commands: ``api`` serves it, ``token`` creates, lists and revokes its
tokens. The API's modules load only inside these commands."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer

from monitor.cli.common import env_settings, fail, without_password
from monitor.config import DEFAULT_TIMEZONE, ConfigError
from monitor.timeutil import zone

if TYPE_CHECKING:  # types only: monitor.api loads inside the commands
    from monitor.api.auth import Principal, TokenStore

T = TypeVar("T")

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")


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
    from monitor.api.protocol import HeaderTimeoutProtocol

    if log_level.lower() not in LOG_LEVELS:
        raise fail(f"--log-level: must be one of {', '.join(LOG_LEVELS)}")
    settings = env_settings()
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
        raise fail(str(exc)) from None
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    uvicorn.run(
        api,
        host=settings.api_host,
        port=settings.api_port,
        log_level=log_level.lower(),
        access_log=False,  # the app writes its own, without query strings (tokens)
        # X-Forwarded-For from the configured proxies only; uvicorn's default believes any
        # loopback client, which could then claim any address
        proxy_headers=bool(settings.trusted_proxies()),
        forwarded_allow_ips=settings.trusted_proxies(),
        timeout_graceful_shutdown=10,  # open SSE streams would hold a stop forever
        http=HeaderTimeoutProtocol.within(settings.api_header_timeout_s),  # slow headers cut
    )


token_app = typer.Typer(
    help="API tokens: create (the secret is shown once), list, revoke.", no_args_is_help=True
)


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
        raise fail("--role: must be viewer, supervisor or admin") from None
    if kind == "integrator" and source is None:
        raise fail("--source: an integrator token is bound to its window system's source")

    async def create(store: TokenStore) -> tuple[Principal, str]:
        return await store.create(name, kind, role_value, source, center, rate)

    try:
        principal, secret = asyncio.run(_with_tokens(create))
    except TokenError as exc:
        raise fail(f"--{str(exc).replace('centers:', 'center:')}") from None
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
        raise fail(f"no live token {token_id!r} (see `redline token list`)", code=1)
    typer.echo(f"revoked {token_id}")


async def _with_tokens(work: Callable[[TokenStore], Awaitable[T]]) -> T:
    """Run ``work`` with the token store of REDLINE_REDIS_URL and REDLINE_AUTH_PREFIX."""
    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from monitor.api.auth import TokenStore

    settings = env_settings()
    redis = Redis.from_url(settings.redis_url, socket_connect_timeout=5)
    try:
        return await work(TokenStore(redis, settings.auth_prefix))
    except (RedisError, OSError) as exc:
        raise fail(f"{without_password(settings.redis_url)}: {exc}", code=1) from None
    finally:
        await redis.aclose()


def _describe_token(principal: Principal) -> str:
    """One line per token: id, kind, name, rights, state."""
    if principal.kind == "person":
        rights = f"role {principal.role}"
    else:
        rights = f"source {principal.source or '(any)'}"
    centers = (
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
        f"{principal.token_id}  {principal.kind:<10}  {principal.name!r}  {rights}, {centers}"
        f"{rate}  created {created}  {state}"
    )
