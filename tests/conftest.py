"""The real local services for tests marked `integration`.

Each service is installed and started through scripts/services/<name>.sh when its status says
it is not running, and stopped at the end of the session only if this session started it, so a stack
that a developer started by hand (`make services-start`) stays up.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from redis.asyncio import Redis

from bench.runs import RUNS, delete_topics

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts" / "services"
SERVICES = ("kafka", "redis", "prometheus")


@dataclass(frozen=True)
class Endpoints:
    """Where the local services answer (ports as the service scripts read them)."""

    kafka_bootstrap: str
    redis_url: str
    prometheus_url: str


def _port(service: str, default: int) -> int:
    return int(os.environ.get(f"REDLINE_{service.upper()}_PORT", default))


def _service(name: str, action: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", str(SCRIPTS / f"{name}.sh"), action],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


@pytest.fixture(scope="session")
def services() -> Iterator[Endpoints]:
    """Starts the services that are not running; stops those it started when the session ends."""
    started: list[str] = []
    try:
        for name in SERVICES:
            if _service(name, "status").returncode == 0:
                continue
            if _service(name, "answering").returncode == 0:
                continue  # started elsewhere (another checkout): reuse it, and leave it running
            # install is quick when there is nothing to do, and makes `make clean` harmless.
            result = _service(name, "install")
            if result.returncode == 0:
                result = _service(name, "start")
            if result.returncode != 0:
                pytest.fail(
                    f"could not start {name}:\n{result.stdout}{result.stderr}", pytrace=False
                )
            started.append(name)
        endpoints = Endpoints(
            kafka_bootstrap=f"127.0.0.1:{_port('kafka', 9092)}",
            redis_url=f"redis://127.0.0.1:{_port('redis', 6379)}/0",
            prometheus_url=f"http://127.0.0.1:{_port('prometheus', 9090)}",
        )
        yield endpoints
        # the session's own topics: on a broker that keeps its data, thousands of partitions
        # left behind made new topics slow to appear in metadata, and tests time out
        asyncio.run(delete_topics(endpoints.kafka_bootstrap, RUNS))
    finally:
        for name in reversed(started):
            _service(name, "stop")


@pytest.fixture(autouse=True)
def _services_for_integration_tests(request: pytest.FixtureRequest) -> None:
    """Brings the services up for every test marked `integration`, whatever fixtures it uses."""
    if request.node.get_closest_marker("integration") is not None:
        request.getfixturevalue("services")


@pytest.fixture(scope="session")
def kafka_bootstrap(services: Endpoints) -> str:
    """bootstrap_servers for Kafka clients, e.g. "127.0.0.1:9092"."""
    return services.kafka_bootstrap


@pytest.fixture(scope="session")
def redis_url(services: Endpoints) -> str:
    """URL for redis.asyncio.Redis.from_url, e.g. "redis://127.0.0.1:6379/0"."""
    return services.redis_url


@pytest.fixture
async def redis(redis_url: str) -> AsyncIterator[Redis]:
    """A client of the test Redis, closed after the test."""
    client = Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def key_prefix() -> str:
    """A Redis key prefix of this test alone, so that tests sharing the Redis never meet."""
    return f"redline:test:{secrets.token_hex(4)}:"


@pytest.fixture(scope="session")
def prometheus_url(services: Endpoints) -> str:
    """Base URL of the Prometheus HTTP API, e.g. "http://127.0.0.1:9090"."""
    return services.prometheus_url
