"""`redline simulate --api`: the demo load of window systems through the real API."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from conftest import ApiStack
from redis.asyncio import Redis

from bench.processes import REDLINE
from monitor.readmodel import ReadModel
from tests.stack import eventually

pytestmark = pytest.mark.integration


def simulate(api_stack: ApiStack, *options: str, token: str | None = None) -> tuple[int, str, str]:
    env = {**os.environ, "REDLINE_INGEST_TOKEN": token or api_stack.ingest_token}
    done = subprocess.run(
        [REDLINE, "simulate", "--api", api_stack.base_url, *options],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return done.returncode, done.stdout, done.stderr


async def test_the_load_goes_through_the_api_and_its_refusals_are_answers(
    api_stack: ApiStack, redis_url: str
) -> None:
    status, out, err = simulate(
        api_stack,
        *("--cases", "30", "--rate", "0", "--malformed-share", "0.2", "--seed", "7"),
        *("--duplicate-share", "0.1", "--start", "2026-11-01T09:00:00+08:00"),
    )
    assert status == 0, err
    summary = json.loads(out.splitlines()[-1])
    answers = summary["answers"]
    assert summary["failed"] == 0 and summary["sink"].endswith("/v1/events"), summary
    assert answers["accepted"] == summary["events"], json.dumps(summary)  # all valid ones
    assert answers["refused"] >= summary["malformed"] > 0  # broken lines: refused, not failed
    assert answers.get("duplicate", 0) >= summary["duplicates"] > 0

    redis = Redis.from_url(redis_url)
    try:
        model = ReadModel(redis, api_stack.settings.read_model_prefix)

        async def every_case_in_the_read_model() -> int | None:
            found = 0
            for source in await model.sources():
                found += source.accepted
            return found if found >= summary["events"] else None

        assert await eventually(every_case_in_the_read_model, timeout=90) >= summary["events"]
    finally:
        await redis.aclose()


def test_without_a_valid_token_nothing_is_delivered_and_the_run_fails(
    api_stack: ApiStack,
) -> None:
    status, out, err = simulate(api_stack, "--cases", "3", "--rate", "0", token="rl_wrong")
    assert status == 1
    assert json.loads(out.splitlines()[-1])["failed"] > 0
    assert "HTTP 401" in err and "rl_wrong" not in err
