"""Topics are created explicitly, co-partitioned, and a mismatched layout is refused."""

from __future__ import annotations

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from bench.runs import isolated_settings
from monitor.settings import Settings
from streams.topics import TopicLayoutError, ensure_topics, settled_counts, topic_specs

pytestmark = pytest.mark.integration


def unique_settings(kafka_bootstrap: str, partitions: int = 4) -> Settings:
    return isolated_settings(kafka_bootstrap, "redis://unused").model_copy(
        update={"partitions": partitions}
    )


async def describe(bootstrap: str, names: list[str]) -> dict[str, int]:
    """Partition counts, once the broker describes every topic (right after creation it may
    describe one without partitions: a bare describe_topics made this test flaky)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return await settled_counts(admin, names)
    finally:
        await admin.close()


async def test_every_topic_is_created_with_the_partition_count(kafka_bootstrap: str) -> None:
    settings = unique_settings(kafka_bootstrap)
    names = [spec.name for spec in topic_specs(settings)]
    run = settings.events_topic.split("-")[0]
    assert all(name.startswith(run) for name in names)  # no shared topic touched by a test
    assert sorted(await ensure_topics(settings)) == sorted(names)
    # the configuration's topic has one partition: its offsets are the versions, in order
    wanted = {name: 1 if name == settings.config_topic else 4 for name in names}
    assert await describe(kafka_bootstrap, names) == wanted
    assert await ensure_topics(settings) == []  # a second start creates nothing


async def test_a_topic_with_another_partition_count_is_refused(kafka_bootstrap: str) -> None:
    settings = unique_settings(kafka_bootstrap, partitions=4)
    await ensure_topics(settings)
    grown = settings.model_copy(update={"partitions": 6})
    with pytest.raises(TopicLayoutError, match="has 4 partitions, REDLINE_PARTITIONS says 6"):
        await ensure_topics(grown)


def test_state_topics_are_compacted_and_logs_are_not() -> None:
    specs = {spec.name: spec for spec in topic_specs(Settings())}
    assert specs["redline-cases"].configs()["cleanup.policy"] == "compact"
    assert specs["redline-alerts"].configs()["cleanup.policy"] == "compact"
    assert specs["approval-events"].configs() == {
        "cleanup.policy": "delete",
        "retention.ms": str(30 * 86_400_000),
    }
