"""The Kafka topics Redline uses, created explicitly at start with the right layout.

Auto-created topics get the broker's default partition count, and faust refuses a table whose
changelog and source topics differ — so every topic is declared here and created before any
worker or producer touches it.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from monitor.configlink import MAX_RECORD_BYTES
from monitor.settings import Settings

DAY_MS = 86_400_000


@dataclass(frozen=True, slots=True)
class TopicSpec:
    """One topic's layout."""

    name: str
    partitions: int
    compacted: bool = False  # state (latest value per key) rather than a log
    retention_days: int | None = None  # None: the broker's default
    max_message_bytes: int | None = None  # None: the broker's default (1 MiB)

    def configs(self) -> dict[str, str]:
        configs = {"cleanup.policy": "compact" if self.compacted else "delete"}
        if self.retention_days is not None:
            configs["retention.ms"] = str(self.retention_days * DAY_MS)
        if self.max_message_bytes is not None:
            configs["max.message.bytes"] = str(self.max_message_bytes)
        return configs


def topic_specs(settings: Settings) -> list[TopicSpec]:
    """Every topic; all but the configuration's co-partitioned: a case's events, ticks and state
    share one partition number."""
    partitions = settings.partitions
    return [
        TopicSpec(settings.events_topic, partitions, retention_days=30),
        TopicSpec(settings.dlq_topic, partitions, retention_days=30),
        TopicSpec(settings.ticks_topic, partitions, retention_days=1),
        TopicSpec(settings.alerts_topic, partitions, compacted=True),
        TopicSpec(settings.cases_topic, partitions, compacted=True),
        TopicSpec(settings.commands_topic, partitions),
        TopicSpec(settings.audit_topic, partitions, compacted=True),
        # not co-partitioned: one partition, so that versions are offsets, in order
        TopicSpec(settings.config_topic, 1, compacted=True, max_message_bytes=MAX_RECORD_BYTES),
    ]


class TopicLayoutError(RuntimeError):
    """A topic exists with a layout the pipeline cannot work with."""


async def ensure_topics(settings: Settings) -> list[str]:
    """Create the missing topics; check the existing ones. Returns the names created."""
    specs = topic_specs(settings)
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        existing = await _partition_counts(admin, [spec.name for spec in specs])
        _check(existing, specs)
        missing = [spec for spec in specs if spec.name not in existing]
        if not missing:
            return []
        response = await admin.create_topics(
            [
                NewTopic(
                    name=spec.name,
                    num_partitions=spec.partitions,
                    replication_factor=settings.replication,
                    topic_configs=spec.configs(),
                )
                for spec in missing
            ]
        )
        created, raced = _created(response.topic_errors)
        if raced:  # created meanwhile (or not yet in the metadata): its layout must match too
            _check(await settled_counts(admin, raced), specs)
        return [spec.name for spec in missing if spec.name in created]
    finally:
        await admin.close()


TOPIC_ALREADY_EXISTS = 36


def _created(errors: list[tuple[object, ...]]) -> tuple[set[str], list[str]]:
    """Names created, and names that already existed; any other error is raised."""
    created: set[str] = set()
    raced: list[str] = []
    for topic, code, *message in errors:
        name = str(topic)
        if code == 0:
            created.add(name)
        elif code == TOPIC_ALREADY_EXISTS:
            raced.append(name)
        else:
            detail = f": {message[0]}" if message and message[0] else ""
            raise TopicLayoutError(
                f"creating topic {name!r} failed with Kafka error {code}{detail}"
            )
    return created, raced


def _check(counts: dict[str, int], specs: list[TopicSpec]) -> None:
    for spec in specs:
        found = counts.get(spec.name)
        if found is not None and found != spec.partitions:
            raise TopicLayoutError(
                f"topic {spec.name!r} has {found} partitions, REDLINE_PARTITIONS says "
                f"{spec.partitions}: co-partitioned topics must match (see the operator guide)"
            )


async def settled_counts(admin: AIOKafkaAdminClient, names: list[str]) -> dict[str, int]:
    """Partition counts of topics known to exist, once the broker's metadata lists them all
    (a topic created a moment ago can be described without its partitions for a while)."""
    counts: dict[str, int] = {}
    for attempt in range(_METADATA_ATTEMPTS):
        counts = await _partition_counts(admin, names, known=names)
        if len(counts) == len(names):
            return counts
        await asyncio.sleep(0.05 * (attempt + 1))  # the broker's metadata, not a test's wait
    missing = sorted(set(names) - set(counts))
    raise TopicLayoutError(f"topics {missing} exist but the broker does not describe them")


_METADATA_ATTEMPTS = 40  # about 40 s in all


async def _partition_counts(
    admin: AIOKafkaAdminClient, names: list[str], known: list[str] | None = None
) -> dict[str, int]:
    """Partition counts of those topics that exist (``known``: names known to exist)."""
    present = set(known) if known is not None else set(await admin.list_topics())
    wanted = [name for name in names if name in present]
    if not wanted:
        return {}
    described = await admin.describe_topics(wanted)
    return {topic["topic"]: len(topic["partitions"]) for topic in described if topic["partitions"]}
