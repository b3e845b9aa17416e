"""``redline watch``: what the wall will show, from the Redis read model, in a terminal."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from monitor.cli.common import env_settings, fail, without_password
from monitor.cli.terminal_wall import wall_text

WATCH_RED_SHOWN = 5  # red cases listed, the most overdue first


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

    settings = env_settings()
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C is how a watch ends
        asyncio.run(_watch(settings.redis_url, settings.read_model_prefix, interval, once))


async def _watch(redis_url: str, prefix: str, interval: float, once: bool) -> None:
    """Render the read model until cancelled; with ``once``, a single view (exit 1 on error)."""
    import asyncio
    import time

    from redis.asyncio import Redis
    from redis.exceptions import RedisError

    from monitor.readmodel import ReadModel

    where = f"{without_password(redis_url)} (prefix {prefix})"
    redis = Redis.from_url(redis_url)
    read_model = ReadModel(redis, prefix)
    try:
        while True:
            now = int(time.time())
            try:
                text = wall_text(
                    now,
                    where,
                    await read_model.totals(),
                    await read_model.red_cases(limit=WATCH_RED_SHOWN),
                    await read_model.sources(),
                    await read_model.department_ranking(),
                    await read_model.config_reports(),
                )
            except (RedisError, OSError) as exc:
                if once:
                    raise fail(f"{where}: {exc}", code=1) from None
                text = f"redline watch: {where}: {exc} (trying again in {interval:g} s)"
            sys.stdout.write(text + "\n")
            sys.stdout.flush()
            if once:
                return
            await asyncio.sleep(interval)
            sys.stdout.write("\n")
    finally:
        await redis.aclose()
