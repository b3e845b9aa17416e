"""The read model's tests on the real Redis: a client for the module, a read model of its own
prefix for each test (flushed at the end)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from monitor.readmodel import ReadModel


@pytest.fixture(scope="module")
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    client = Redis.from_url(redis_url)
    yield client
    await client.aclose()


@pytest.fixture
async def model(redis: Redis) -> AsyncIterator[ReadModel]:
    read_model = ReadModel(redis, prefix=f"test:{uuid.uuid4().hex}:")
    yield read_model
    await read_model.flush()
    await redis.delete(read_model.key("rebuilding"))
