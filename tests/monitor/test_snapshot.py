"""A case survives being written to bytes and read back (what a worker's table does)."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from typing import Any

from history_strategies import CONFIG, NOW_OFFSET, PROPERTY_SETTINGS, START_2025, histories
from hypothesis import given
from hypothesis import strategies as st

from monitor.casetypes import Command, SupervisorAction
from monitor.caseview import case_view
from monitor.config import Center
from monitor.engine import Engine
from monitor.events import parse_event
from monitor.snapshot import dump_case, load_case, next_change_of

NOW = START_2025 + 3 * 365 * 86_400 + NOW_OFFSET


@PROPERTY_SETTINGS
@given(events=histories(), seed=st.randoms(use_true_random=False))
def test_a_restored_case_is_the_same_case(
    events: list[dict[str, Any]], seed: random.Random
) -> None:
    if not events:
        return
    engine = Engine(CONFIG)
    shuffled = list(events)
    seed.shuffle(shuffled)  # arrival out of order leaves corrected alerts behind
    for raw in shuffled:
        engine.offer(parse_event(raw))
    case = engine.cases["P-1"]
    for alert_id in list(case.alerts)[:2]:  # a supervisor acknowledged one, cancelled another
        command = seed.choice([Command.ACKNOWLEDGE, Command.CANCEL])
        case.act(SupervisorAction(case.time, alert_id, command, "督办"))
    snapshot = dump_case(case)
    assert next_change_of(snapshot) == case.next_change()
    restored = load_case(snapshot, engine.rules)
    assert not restored.take_changes(), "restoring raises nothing anew"
    assert case_view(restored, NOW) == case_view(case, NOW)
    assert restored.next_change() == case.next_change()


def test_a_restored_case_keeps_the_catalog_item_it_was_measured_against(tmp_path: Any) -> None:
    from pathlib import Path

    from monitor.config import ConfigFiles

    item = (
        "items:\n  - code: K\n    name: k\n    department: d\n    promised: {}\n"
        "    statutory: 20wd\n"
    )
    path = Path(tmp_path) / "catalog.yaml"
    path.write_text(item.format("10wd"), "utf-8")
    engine = Engine(ConfigFiles(path).load())
    engine.offer(
        parse_event(
            {
                "type": "case.accepted",
                "source": "s",
                "center": "GZ",
                "item_code": "K",
                "event_id": "1",
                "case_id": "A",
                "occurred_at": "2026-11-02T10:00:00+08:00",
            }
        )
    )
    snapshot = dump_case(engine.cases["A"])
    path.write_text(item.format("3wd"), "utf-8")
    later = Engine(ConfigFiles(path).load())  # a worker restarted after a catalog edit
    restored = load_case(snapshot, later.rules)
    assert case_view(restored, 0)["deadline"] == "2026-11-17T00:00:00+08:00"  # still 10wd


def _accepted(source: str, event_id: str, at: str) -> dict[str, Any]:
    return {
        "type": "case.accepted",
        "source": source,
        "center": "GZ",
        "item_code": "FOOD-LICENSE",
        "event_id": event_id,
        "case_id": "A",
        "occurred_at": at,
    }


def test_a_restored_case_keeps_the_source_that_opened_it() -> None:
    # the first to arrive opened it, although a listed source's event happened earlier
    config = replace(CONFIG, centers={"GZ": Center("GZ", "GZ", sources=frozenset({"desk"}))})
    engine = Engine(config)
    engine.offer(parse_event(_accepted("approval", "1", "2026-11-02T10:00:00+08:00")))
    submitted = {**_accepted("desk", "2", "2026-11-02T09:00:00+08:00"), "type": "case.submitted"}
    assert not engine.offer(parse_event(submitted)).refused
    restored = load_case(dump_case(engine.cases["A"]), engine.rules)
    assert restored.opened_by == "approval"


def test_a_snapshot_from_before_the_opener_was_kept_still_loads() -> None:
    engine = Engine(CONFIG)
    engine.offer(parse_event(_accepted("window", "1", "2026-11-02T10:00:00+08:00")))
    snapshot = dump_case(engine.cases["A"])
    prefix, body = snapshot[:8], json.loads(snapshot[8:])
    del body["opened_by"]  # as version 1 wrote it
    restored = load_case(prefix + json.dumps(body).encode(), engine.rules)
    assert restored.opened_by == "window"  # the source of its earliest event stands in
    assert case_view(restored, NOW) == case_view(engine.cases["A"], NOW)
