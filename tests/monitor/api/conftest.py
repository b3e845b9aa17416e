"""The API on the real stack: Kafka, Redis, a `redline worker` and a `redline api` process.

``api_stack`` (module scope) gives each test module topics, a consumer group, a read-model
prefix and token and idempotency prefixes of its own, a worker, and an API on a free loopback
port with three tokens: the dev integrator token (any source), the dev supervisor token and a
viewer token. ``http`` is an ``httpx.AsyncClient`` on that API; ``yuexiu`` a viewer token
bound to one centre.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from apistack import ApiStack
from readkit import read_model_whole, token_store
from redis.asyncio import Redis

from bench.processes import ApiProcess, WorkerProcess, dev_secret
from bench.runs import api_settings, forget_run, isolated_settings
from monitor.api.auth import Role, TokenStore
from monitor.readmodel import ReadModel
from streams.topics import ensure_topics

__all__ = ["ApiStack"]  # the fixture's type, for the test modules


@pytest.fixture(scope="module")
async def api_stack(
    kafka_bootstrap: str, redis_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ApiStack]:
    """A worker and an API of this module's own, ready (``/readyz`` answered 200)."""
    data = tmp_path_factory.mktemp("api-stack")
    settings = api_settings(isolated_settings(kafka_bootstrap, redis_url, data / "worker"))
    await ensure_topics(settings)
    worker = WorkerProcess(settings, data / "worker")
    ingest, supervisor = dev_secret(), dev_secret()
    api = ApiProcess(settings, data, ingest, supervisor)
    redis = Redis.from_url(redis_url)
    try:
        _, viewer = await TokenStore(redis, settings.auth_prefix).create(
            "test viewer", "person", Role.VIEWER
        )
        await api.wait_until(200, "/readyz")
        await read_model_whole(api.base_url)  # the worker's guard made it so
        yield ApiStack(api.base_url, settings, ingest, supervisor, viewer, api.log_path)
    finally:
        api.stop()
        worker.stop()
        await redis.aclose()
        await forget_run(settings)


@pytest.fixture
async def http(api_stack: ApiStack) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the module's API (no token: pass ``headers=api_stack.auth(token)``)."""
    async with httpx.AsyncClient(base_url=api_stack.base_url, timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
async def yuexiu(api_stack: ApiStack) -> str:
    """A viewer token bound to GZ-YUEXIU: the wall of one centre."""
    async with token_store(api_stack) as store:
        _, token = await store.create("越秀 wall", "person", Role.VIEWER, centers=["GZ-YUEXIU"])
    return token


@pytest.fixture(scope="module")
async def read_model(api_stack: ApiStack) -> AsyncIterator[ReadModel]:
    """The read model the module's worker writes and its API reads."""
    redis = Redis.from_url(api_stack.settings.redis_url)
    yield ReadModel(redis, api_stack.settings.read_model_prefix)
    await redis.aclose()
