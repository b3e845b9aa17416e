"""Realistic case histories for benchmarks: the shapes a service centre's feed really has."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

from monitor.timeutil import zone

SHANGHAI = zone("Asia/Shanghai")
ITEMS = [
    "FOOD-LICENSE",
    "BIZ-REG",
    "BUILD-PERMIT",
    "DRUG-RETAIL",
    "ID-CARD",
    "SOCIAL-CARD",
    "PRINT-SEAL",
    "ENV-ASSESS",
]
START = 1_767_225_600  # 2026-01-01T00:00:00+08:00


def case_history(rng: random.Random, case_id: str, start: int) -> list[dict[str, Any]]:
    """One case: submitted, accepted, a step or two, sometimes a suspension or an extension,
    then completed (or left open). About 6 events on average."""
    t = start
    item = rng.choice(ITEMS)
    center = f"C{rng.randrange(40):02d}"
    events: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        events.append(
            {
                "event_id": f"{case_id}-{len(events)}",
                "type": f"case.{kind}",
                "case_id": case_id,
                "occurred_at": SHANGHAI.format(t),
                "source": f"win-{center}",
                **fields,
            }
        )

    add("submitted", center=center, item_code=item, handler=f"h{rng.randrange(500)}")
    t += rng.randrange(600, 86_400)
    add("accepted", center=center, item_code=item)
    t += rng.randrange(3600, 3 * 86_400)
    add("step_started", data={"step": "审查", "limit": "3wd"})
    t += rng.randrange(3600, 4 * 86_400)
    if rng.random() < 0.3:
        add(
            "suspended",
            data={
                "reason": rng.choice(["supplement", "inspection", "expert_review"]),
                "expected": "5wd",
            },
        )
        t += rng.randrange(3600, 5 * 86_400)
        add("resumed")
        t += rng.randrange(600, 86_400)
    add("step_completed", data={"step": "审查"})
    if rng.random() < 0.1:
        t += rng.randrange(3600, 86_400)
        add("extended", data={"by": "5wd", "approved_by": "chief"})
    if rng.random() < 0.7:
        t += rng.randrange(3600, 6 * 86_400)
        add("completed", data={"result": "approved"})
    return events


def feed(cases: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Events of ``cases`` cases, interleaved roughly in time order, as a live feed would be."""
    rng = random.Random(seed)
    histories = [
        case_history(rng, f"B{index:07d}", START + rng.randrange(300 * 86_400))
        for index in range(cases)
    ]
    merged = sorted(
        (event for history in histories for event in history), key=lambda e: e["occurred_at"]
    )
    yield from merged


def feed_bytes(cases: int, seed: int = 7) -> list[bytes]:
    """The same feed as JSON bytes, the form events arrive in."""
    return [json.dumps(event, ensure_ascii=False).encode() for event in feed(cases, seed)]
