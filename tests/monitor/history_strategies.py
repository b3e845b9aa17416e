"""Generated case histories for property tests: plausible lives, violations included."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from monitor.config import ConfigFiles
from monitor.timeutil import zone

CATALOG = Path(__file__).resolve().parents[2] / "monitor" / "data" / "catalog.yaml"
SHANGHAI = zone("Asia/Shanghai")
START_2025 = 1_735_660_800  # 2025-01-01T00:00:00+08:00

# whole histories -------------------------------------------------------------------------

ITEMS = ["FOOD-LICENSE", "BIZ-REG", "ID-CARD", "PRINT-SEAL", "SOCIAL-CARD"]
OPS = [
    "suspend",
    "resume",
    "extend",
    "step_start",
    "step_done",
    "materials",
    "correction",
    "resubmit",
    "deliver",
    "complete",
    "withdraw",
    "reject",
]


@st.composite
def histories(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A plausible case history — opening, then a random walk of events, violations included."""
    t = draw(st.integers(START_2025, START_2025 + 2 * 365 * 86_400))
    item = draw(st.sampled_from(ITEMS))
    events: list[dict[str, Any]] = []

    def add(kind: str, **fields: Any) -> None:
        events.append(
            {
                "event_id": f"e{len(events)}",
                "type": f"case.{kind}",
                "case_id": "P-1",
                "occurred_at": SHANGHAI.format(t),
                "source": "prop",
                **fields,
            }
        )

    opening = {"center": "GZ", "item_code": item}
    if draw(st.booleans()):
        add("submitted", **opening)
        t += draw(st.integers(0, 12 * 86_400))
    if draw(st.booleans()):
        data: dict[str, Any] = {}
        if draw(st.booleans()):
            data = {"mode": "tolerance", "materials_due": f"{draw(st.integers(0, 5))}wd"}
        add("accepted", **opening, data=data)
    for _ in range(draw(st.integers(0, 8))):
        t += draw(st.integers(0, 6 * 86_400))
        op = draw(st.sampled_from(OPS))
        if op == "suspend":
            reason = draw(st.sampled_from(["supplement", "inspection", "other"]))
            data = {"reason": reason}
            if draw(st.booleans()):
                data["expected"] = f"{draw(st.integers(0, 3))}wd"
            add("suspended", data=data)
        elif op == "resume":
            add("resumed")
        elif op == "extend":
            add("extended", data={"by": f"{draw(st.integers(1, 8))}wd", "approved_by": "x"})
        elif op == "step_start":
            add(
                "step_started",
                data={
                    "step": draw(st.sampled_from(["审查", "勘验"])),
                    "limit": f"{draw(st.integers(0, 3))}wd",
                },
            )
        elif op == "step_done":
            add("step_completed", data={"step": draw(st.sampled_from(["审查", "勘验"]))})
        elif op == "materials":
            add("materials_completed")
        elif op == "correction":
            add("correction_requested")
        elif op == "resubmit":
            add("submitted", **opening)
        elif op == "deliver":
            add("delivered")
        elif op == "reject":
            add("rejected", data={"reason": draw(st.sampled_from(["", "材料不符"]))})
        else:
            add(op.replace("complete", "completed").replace("withdraw", "withdrawn"))
    return events


CONFIG = ConfigFiles(CATALOG).load()  # shared: the calendar index is built once


NOW_OFFSET = 90 * 86_400
# REDLINE_PROPERTY_EXAMPLES=2000 for a deeper hunt than the default CI run
EXAMPLES = int(os.environ.get("REDLINE_PROPERTY_EXAMPLES", "150"))
PROPERTY_SETTINGS = settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
