"""Events as an integrator sends them over HTTP, and what reached Kafka, for the API tests."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiokafka import AIOKafkaConsumer

from monitor.settings import Settings
from monitor.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
OPENING = {"center": "GZ-TIANHE", "item_code": "FOOD-LICENSE"}
SPEC_ACCEPTED = "2026-09-28T10:00:00+08:00"  # + 5wd: deadline 2026-10-11T00:00:00+08:00


def event(
    case_id: str, n: int, kind: str, at: int | str, source: str = "win-api", **fields: Any
) -> dict[str, Any]:
    """One event of a case as a JSON object; ``at`` in epoch seconds or RFC 3339."""
    return {
        "event_id": f"{case_id}-{n}",
        "type": f"case.{kind}",
        "case_id": case_id,
        "occurred_at": at if isinstance(at, str) else SHANGHAI.format(at),
        "source": source,
        **fields,
    }


def now() -> int:
    """The wall clock, in epoch seconds."""
    return int(time.time())


async def produced(
    settings: Settings, wanted: set[str], timeout: float = 30
) -> list[tuple[bytes, dict[str, Any]]]:
    """Every record of the events topic whose event_id is in ``wanted``, read from the start
    until each wanted id was seen once (or the timeout: then the list says what came)."""
    consumer = AIOKafkaConsumer(
        settings.events_topic,
        bootstrap_servers=settings.kafka_bootstrap,
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    found: list[tuple[bytes, dict[str, Any]]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    try:
        while asyncio.get_running_loop().time() < deadline:
            batches = await consumer.getmany(timeout_ms=500)
            for messages in batches.values():
                for message in messages:
                    value = json.loads(message.value)
                    if value.get("event_id") in wanted:
                        found.append((message.key, value))
            if {value["event_id"] for _, value in found} >= wanted and not batches:
                break  # every wanted id seen, and the topic read to its end
    finally:
        await consumer.stop()
    return found
