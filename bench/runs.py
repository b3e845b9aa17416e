"""A run of the pipeline of its own, for a benchmark or a test: topics, consumer group and
prefixes that no other run shares, and their clean-up."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient

from monitor.settings import Settings

# the app ids isolated_settings handed out in this process: a test session (tests/conftest.py)
# and the pipeline benchmark delete their topics at the end, so that a developer's broker does
# not pile up partitions
RUNS: set[str] = set()


def isolated_settings(
    kafka_bootstrap: str, redis_url: str, data_dir: Path = Path(".run/worker")
) -> Settings:
    """Every topic, the consumer group and the read-model prefix of their own, 4 partitions.
    Topic names come from every ``*_topic`` setting, so a topic added later is isolated too."""
    run = uuid.uuid4().hex[:8]
    RUNS.add(f"w{run}")
    topics = {
        name: f"w{run}-{name.removesuffix('_topic')}"
        for name in Settings.model_fields
        if name.endswith("_topic")
    }
    return Settings(
        kafka_bootstrap=kafka_bootstrap,
        redis_url=redis_url,
        partitions=4,
        app_id=f"w{run}",
        read_model_prefix=f"test:{run}:",
        data_dir=data_dir,
        **topics,
    )


def api_settings(settings: Settings, **changes: object) -> Settings:
    """The pipeline's isolated settings plus the API's own prefixes (outside the read model's,
    which flush() deletes) and limits loose enough for a test module's traffic."""
    run = settings.app_id
    values: dict[str, object] = {
        "auth_prefix": f"test-auth:{run}:",
        "ingest_prefix": f"test-ingest:{run}:",
        "api_rate_per_s": 1_000.0,
        "api_body_timeout_s": 3.0,
        "api_header_timeout_s": 3.0,
    }
    values.update(changes)
    return settings.model_copy(update=values)


async def delete_topics(kafka_bootstrap: str, app_ids: Iterable[str]) -> int:
    """Delete every topic of these runs (named after their app ids, faust's own too); the
    number deleted."""
    prefixes = tuple(app_ids)
    if not prefixes:
        return 0
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        names = [name for name in await admin.list_topics() if name.startswith(prefixes)]
        if names:
            await admin.delete_topics(names)
        return len(names)
    finally:
        await admin.close()


async def forget_run(settings: Settings) -> None:
    """Nothing of the run stays in Redis: its read model, tokens and idempotency keys."""
    from redis.asyncio import Redis

    from monitor.readmodel import ReadModel

    redis = Redis.from_url(settings.redis_url)
    try:
        await ReadModel(redis, settings.read_model_prefix).flush()
        for prefix in (settings.auth_prefix, settings.ingest_prefix):
            async for key in redis.scan_iter(match=prefix + "*", count=1000):
                await redis.unlink(key)
    finally:
        await redis.aclose()


async def viewer_token(settings: Settings) -> str:
    """A new viewer token of the run (for the wall's stream and the reads)."""
    from redis.asyncio import Redis

    from monitor.api.auth import Role, TokenStore

    redis = Redis.from_url(settings.redis_url)
    try:
        _, secret = await TokenStore(redis, settings.auth_prefix).create(
            "bench viewer", "person", Role.VIEWER
        )
        return secret
    finally:
        await redis.aclose()
