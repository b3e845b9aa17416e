"""Realistic case histories for benchmarks: the shapes a service centre's feed really has."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from typing import Any

from monitor.timeutil import DAY, HOUR, zone
from streams.simulate.lives import FixedPace, Pace, Phase, Shape
from streams.simulate.lives import case_history as shaped_history

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

# Waits in seconds, whatever the item: the engine's cost does not depend on deadlines being met.
GAPS = {
    Phase.ACCEPT: (600, DAY),
    Phase.STEP_START: (HOUR, 3 * DAY),
    Phase.STEP_RUN: (HOUR, 4 * DAY),
    Phase.SUSPENSION: (HOUR, 5 * DAY),
    Phase.AFTER_RESUME: (600, DAY),
    Phase.EXTEND: (HOUR, DAY),
    Phase.END: (HOUR, 6 * DAY),
}


def _pace(rng: random.Random, item: str, center: str) -> Pace:
    return FixedPace(rng, GAPS, complete_share=0.7)


BENCH_SHAPE = Shape(
    items=ITEMS,
    centers=[f"C{index:02d}" for index in range(40)],
    pace=_pace,
    zone=lambda center: SHANGHAI,
    steps=lambda item: [("审查", "3wd")],
    suspend_reasons=["supplement", "inspection", "expert_review"],
    expected=lambda reason: "5wd",
    extension=lambda item: "5wd",
    suspend_share=0.3,
    extend_share=0.1,
)


def case_history(rng: random.Random, case_id: str, start: int) -> list[dict[str, Any]]:
    """One case: submitted, accepted, a step or two, sometimes a suspension or an extension,
    then completed (or left open). About 6 events on average."""
    return shaped_history(rng, case_id, start, BENCH_SHAPE)


def feed(cases: int, seed: int = 7) -> Iterator[dict[str, Any]]:
    """Events of ``cases`` cases, interleaved roughly in time order, as a live feed would be."""
    rng = random.Random(seed)
    histories = [
        case_history(rng, f"B{index:07d}", START + rng.randrange(300 * DAY))
        for index in range(cases)
    ]
    merged = sorted(
        (event for history in histories for event in history), key=lambda e: e["occurred_at"]
    )
    yield from merged


def feed_bytes(cases: int, seed: int = 7, live_until: int | None = None) -> list[bytes]:
    """The same feed as JSON bytes, the form events arrive in.

    As generated, the feed is a backlog: its histories start in 2026, so by the time a worker
    reads them most deadlines have passed (every case fires its thresholds on arrival, and its
    later events arrive behind its clock and replay it). With ``live_until`` (an instant) the
    same events, in the same order, occur one second apart up to that instant, as a live feed
    reported as it happens would: the window systems' steady state."""
    events = list(feed(cases, seed))
    if live_until is not None:
        first = live_until - len(events) + 1
        for index, event in enumerate(events):
            event["occurred_at"] = SHANGHAI.format(first + index)
    return [json.dumps(event, ensure_ascii=False).encode() for event in events]
