"""`redline watch --once` against the real Redis: the read model as the terminal shows it.

The views come from the sample feed through the real engine, written under a prefix of this
test's own, then read back by the command in a process of its own, as an operator runs it.
"""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from redis.asyncio import Redis

from monitor.config import ConfigFiles
from monitor.engine import Engine
from monitor.readmodel import FeedRecord, ReadModel
from monitor.replay import replay
from monitor.timeutil import parse_instant

REDLINE = str(Path(sys.executable).parent / "redline")
DATA = Path(__file__).resolve().parents[2] / "monitor" / "data"
NOW = parse_instant("2026-10-12T09:00:00+08:00")


async def write_sample(redis_url: str, prefix: str) -> None:
    """The sample feed's nine cases as of NOW, and one source's feed health."""
    engine = Engine(
        ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml", (), DATA / "policy.yaml").load()
    )
    with (DATA / "sample-events.jsonl").open("rb") as feed:
        replay(feed, engine)
    redis = Redis.from_url(redis_url)
    read_model = ReadModel(redis, prefix)
    try:
        for view in engine.views(NOW):
            await read_model.write_case(view, (1, NOW))
        await read_model.record_events(
            [
                FeedRecord("win-gz", NOW - 90, NOW, "accepted"),
                FeedRecord("win-gz", None, NOW, "refused", "type: unknown"),
            ]
        )
    finally:
        await redis.aclose()


async def flush(redis_url: str, prefix: str) -> None:
    redis = Redis.from_url(redis_url)
    try:
        await ReadModel(redis, prefix).flush()
    finally:
        await redis.aclose()


def watch_once(**env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [REDLINE, "watch", "--once"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.integration
def test_watch_once_shows_lights_the_most_overdue_red_cases_and_feed_health(
    redis_url: str,
) -> None:
    prefix = f"test:watch:{uuid.uuid4().hex[:8]}:"
    asyncio.run(write_sample(redis_url, prefix))
    try:
        result = watch_once(REDLINE_REDIS_URL=redis_url, REDLINE_READ_MODEL_PREFIX=prefix)
    finally:
        asyncio.run(flush(redis_url, prefix))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "cases    green 2  yellow 0  red 3  suspended 1  closed 3" in out
    assert "red      3 open, most overdue:" in out
    # by deadline: 2026-0005 (09-24), 2026-0006 (10-09), 2026-0002 (10-11)
    reds = re.findall(r"^\s+(2026-\d{4})\s+GZ-TIANHE\s+market\s+超期 \d+天(?:\d+小时)?$", out, re.M)
    assert reds == ["2026-0005", "2026-0006", "2026-0002"]
    assert re.search(r"^\s+win-gz\s+1\s+0\s+1\s+1m 30s$", out, re.M), out
    assert re.search(r"^\s+market\s+1\s+100%\s+3\s+3$", out, re.M), out


@pytest.mark.integration
def test_watch_once_on_an_empty_read_model_says_so(redis_url: str) -> None:
    prefix = f"test:watch:{uuid.uuid4().hex[:8]}:"
    result = watch_once(REDLINE_REDIS_URL=redis_url, REDLINE_READ_MODEL_PREFIX=prefix)
    assert result.returncode == 0, result.stderr
    assert "no case in the read model yet" in result.stdout
    assert "no event received yet" in result.stdout


def test_watch_once_without_redis_fails_without_showing_the_password() -> None:
    result = watch_once(REDLINE_REDIS_URL="redis://:s3cret@127.0.0.1:1/0")
    assert result.returncode == 1
    assert result.stderr.startswith("redline: redis://127.0.0.1:1/0 (prefix redline:rm:): ")
    assert "s3cret" not in result.stdout + result.stderr
