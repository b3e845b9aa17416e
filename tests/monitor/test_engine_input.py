"""What the engine does with its input (SPEC §1 idempotency, §4 event-time order) and when it
next needs waking (next_change)."""

from __future__ import annotations

import itertools
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from timeline import Story, at

from monitor.casetypes import SOURCE, Outcome
from monitor.config import Center, Config, ConfigFiles
from monitor.engine import Engine
from monitor.events import FieldError, parse_event
from monitor.timeutil import parse_instant

# -- duplicates and conflicts ---------------------------------------------------------------------


def test_duplicate_is_ignored(story: Story, engine: Engine) -> None:
    accepted = story.event("accepted", "2026-09-28 10:00")
    story.offer(accepted)
    engine.advance("CASE-1", at("2026-10-10 00:00"))  # yellow by now; changes taken
    before = story.view("2026-10-10 00:00")
    again = engine.offer(parse_event(dict(accepted)))
    assert again.outcome is Outcome.DUPLICATE
    assert (again.errors, again.changes) == ([], [])
    assert story.view("2026-10-10 00:00") == before


def test_duplicate_arriving_late_is_still_a_duplicate(story: Story, engine: Engine) -> None:
    accepted = story.event("accepted", "2026-09-28 10:00")
    story.offer(accepted)
    story.suspended("2026-09-29 10:00")
    story.resumed("2026-09-30 10:00")
    before = story.view("2026-10-01 10:00")
    assert engine.offer(parse_event(accepted)).outcome is Outcome.DUPLICATE
    assert story.view("2026-10-01 10:00") == before


def test_same_instant_written_with_another_offset_is_a_duplicate(
    story: Story, engine: Engine
) -> None:
    # Content is compared by meaning: 10:00 +08:00 and 02:00Z are the same occurred_at.
    accepted = story.event("accepted", "2026-09-28 10:00")
    story.offer(accepted)
    same = {**accepted, "occurred_at": "2026-09-28T02:00:00Z"}
    assert engine.offer(parse_event(same)).outcome is Outcome.DUPLICATE


def test_same_id_with_different_content_is_a_conflict(story: Story, engine: Engine) -> None:
    accepted = story.event("accepted", "2026-09-28 10:00")
    story.offer(accepted)
    before = story.view("2026-09-28 12:00")
    changed = {**accepted, "occurred_at": "2026-09-28T11:00:00+08:00"}
    result = engine.offer(parse_event(changed))
    assert result.outcome is Outcome.CONFLICT
    assert result.refused
    assert [e.field for e in result.errors] == ["event_id"]
    assert accepted["event_id"] in result.errors[0].rule
    assert "different content" in result.errors[0].rule
    assert story.view("2026-09-28 12:00") == before  # deadline still 10-11 00:00


def test_conflict_on_data_only(story: Story, engine: Engine) -> None:
    accepted = story.event("accepted", "2026-09-28 10:00")
    story.offer(accepted)
    changed = {**accepted, "data": {"promised": "3wd"}}
    assert engine.offer(parse_event(changed)).outcome is Outcome.CONFLICT
    assert story.view("2026-09-28 12:00")["deadline"] == "2026-10-11T00:00:00+08:00"


def test_same_event_id_from_another_source_is_another_event(config: Config) -> None:
    engine = Engine(with_sources(config, C1=["other-window-sys"]))  # it may write to C1's cases
    story = Story(engine)
    story.accepted("2026-09-28 10:00")
    other = Story(engine, source="other-window-sys")
    event = other.event(
        "suspended", "2026-09-29 10:00", {"reason": "hearing"}, event_id="CASE-1-1"
    )  # the id of the acceptance, another source
    assert engine.offer(parse_event(event)).outcome is Outcome.APPLIED
    assert story.light("2026-09-29 10:00") == "suspended"


def test_same_source_and_event_id_for_another_case_is_a_conflict(engine: Engine) -> None:
    # SPEC §1: event_id is "unique per source; the idempotency key" and "the same id with
    # different content is refused as a conflict". A different case_id is different content.
    first = Story(engine, case_id="CASE-1")
    first.accepted("2026-09-28 10:00")  # event_id CASE-1-1
    second = Story(engine, case_id="CASE-2")
    reused = second.event("accepted", "2026-09-28 10:00", event_id="CASE-1-1")
    result = engine.offer(parse_event(reused))
    assert result.outcome is Outcome.CONFLICT
    assert [e.field for e in result.errors] == ["event_id"]
    assert "CASE-2" not in engine.cases


# -- who may write to a case (monitor.writers) ----------------------------------------------------


def with_sources(config: Config, **sources: list[str]) -> Config:
    """``config`` with centres (C1, C2, …) whose centres file lists these sources."""
    centers = {
        code: Center(code, code, sources=frozenset(listed)) for code, listed in sources.items()
    }
    return replace(config, centers=centers)


def test_another_source_may_not_write_to_a_case_it_did_not_open(
    story: Story, engine: Engine
) -> None:
    story.accepted("2026-09-28 10:00")
    before = story.view("2026-09-29 10:00")
    intruder = Story(engine, source="other-window-sys")
    closing = intruder.event("completed", "2026-09-29 10:00", {"result": "approved"})
    result = engine.offer(parse_event(closing))
    assert (result.outcome, result.changes) == (None, [])
    assert result.errors == [
        FieldError(
            "source",
            "case 'CASE-1' was opened by source 'window-sys'; only that source and the sources "
            "the centres file lists for its centre 'C1' may write to it",
        )
    ]
    assert story.view("2026-09-29 10:00") == before  # still open, nothing recorded
    assert hash(("other-window-sys", closing["event_id"])) not in engine.event_ids
    story.completed("2026-09-30 10:00")  # the opener still may


def test_a_source_the_centres_file_lists_for_the_case_centre_may_write(config: Config) -> None:
    # the centre's front desk (综合窗口) opens, the department's approval system completes
    engine = Engine(with_sources(config, C1=["approval-sys"]))
    Story(engine, source="front-desk").accepted("2026-09-28 10:00")
    approval = Story(engine, source="approval-sys")
    approval.completed("2026-09-30 10:00")
    view = approval.view("2026-09-30 10:00")
    assert (view["status"], view["opened_by"]) == ("completed", "front-desk")
    assert [fact[SOURCE] for fact in engine.cases["CASE-1"].facts] == [
        "front-desk",
        "approval-sys",
    ]


def test_a_source_listed_for_another_centre_may_not_write(config: Config) -> None:
    engine = Engine(with_sources(config, C2=["approval-sys"]))
    Story(engine, source="front-desk").accepted("2026-09-28 10:00")  # a case of C1
    result = Story(engine, source="approval-sys").send_refused("resumed", "2026-09-29 10:00")
    assert [e.field for e in result.errors] == ["source"]


def test_the_opener_is_the_first_to_arrive_not_the_earliest_in_event_time(
    story: Story, engine: Engine
) -> None:
    story.accepted("2026-09-28 10:00")
    earlier = Story(engine, source="other-window-sys").event("submitted", "2026-09-27 10:00")
    result = engine.offer(parse_event(earlier))
    assert "opened by source 'window-sys'" in result.errors[0].rule
    assert story.view("2026-09-28 10:00")["opened_by"] == "window-sys"


def test_a_case_without_a_centre_takes_writes_from_its_opener_only(engine: Engine) -> None:
    # first heard of by its withdrawal: the case names no centre, so no centre's sources count
    Story(engine, source="window-sys").send("withdrawn", "2026-09-28 10:00")
    result = Story(engine, source="other-window-sys").send_refused("delivered", "2026-09-29 10:00")
    assert result.errors == [
        FieldError(
            "source",
            "case 'CASE-1' was opened by source 'window-sys'; only that source may write to it",
        )
    ]


def test_a_repeat_from_a_source_no_longer_listed_is_still_a_duplicate(config: Config) -> None:
    # the operators took approval-sys off C1's list: what it wrote stays, and a resend of it is
    # answered duplicate (idempotency), while anything new is refused
    engine = Engine(with_sources(config, C1=["approval-sys"]))
    Story(engine, source="front-desk").accepted("2026-09-28 10:00")
    approval = Story(engine, source="approval-sys")
    suspended = approval.event("suspended", "2026-09-29 10:00", {"reason": "hearing"})
    approval.offer(suspended)
    engine.reload(with_sources(config))
    assert engine.offer(parse_event(suspended)).outcome is Outcome.DUPLICATE
    assert approval.send_refused("resumed", "2026-09-30 10:00").errors[0].field == "source"


# -- configuration checks -------------------------------------------------------------------------


def test_item_missing_from_the_catalog_is_refused(engine: Engine) -> None:
    story = Story(engine, case_id="CASE-X", item="NO-SUCH-ITEM")
    result = engine.offer(parse_event(story.event("accepted", "2026-09-28 10:00")))
    assert result.outcome is None
    assert result.refused
    assert [e.field for e in result.errors] == ["item_code"]
    assert "NO-SUCH-ITEM" in result.errors[0].rule
    assert "catalog" in result.errors[0].rule
    assert "CASE-X" not in engine.cases


def test_unknown_center_gets_the_defaults(engine: Engine) -> None:
    # SPEC §2: events from a centre missing from the file are accepted with Asia/Shanghai and
    # the cn calendar.
    story = Story(engine, center="NOT-IN-CENTRES-FILE")
    story.accepted("2026-09-28 10:00")
    assert story.view("2026-09-28 10:00")["deadline"] == "2026-10-11T00:00:00+08:00"


# -- out-of-order arrival: events are applied in occurred_at order --------------------------------

STORY: list[tuple[str, str, dict[str, Any] | None]] = [
    ("accepted", "2026-09-28 10:00", None),
    ("step_started", "2026-09-29 09:00", {"step": "review", "limit": "3wd"}),
    ("suspended", "2026-09-30 10:00", {"reason": "supplement", "expected": "5wd"}),
    ("resumed", "2026-10-09 10:00", None),
    ("step_completed", "2026-10-12 10:00", {"step": "review"}),
    ("extended", "2026-10-12 11:00", {"by": "2wd", "approved_by": "局长"}),
    ("completed", "2026-10-14 16:00", {"result": "approved"}),
]
NOW = "2026-10-20 09:00"


def _events(config: Config) -> list[dict[str, Any]]:
    story = Story(Engine(config))  # only builds the events
    return [story.event(kind, when, data) for kind, when, data in STORY]


def _replayed(config: Config, events: list[dict[str, Any]]) -> dict[str, Any]:
    engine = Engine(config)
    for event in events:
        assert engine.offer(parse_event(event)).outcome is Outcome.APPLIED
    view = engine.view("CASE-1", at(NOW))
    # An alert raised while history was incomplete and taken back is kept, as `corrected`
    # (SPEC §4); everything else must match the in-order view exactly.
    view["alerts"] = [a for a in view["alerts"] if a["resolution"] != "corrected"]
    return view


def test_in_order_story_is_what_the_rules_say(config: Config) -> None:
    view = _replayed(config, _events(config))
    # T5 (5wd). Removed by the suspension 9-30 10:00 .. 10-09 10:00: 14 h (9-30) + 24 h (10-8)
    # + 10 h (10-9) = 48 h = 2wd, so 24:00 of 10-10 -> 24:00 of 10-13; the 2wd extension
    # -> 24:00 of 10-15.
    assert view["deadline"] == "2026-10-16T00:00:00+08:00"
    assert (view["status"], view["on_time"]) == ("completed", True)
    # Step 3wd from 9-29 09:00 runs from 9-30 00:00: 10 h before the pause, 14 h of 10-9,
    # 10-10 -> 48 h; due 24:00 of 10-12; completed 10-12 10:00: in time.
    # Suspension expected 5wd from 9-30: 10-8 (1), 10-9 (2), ...; resumed 10-9: in time.
    # Warning: used by 10-12 11:00 = 24 h (9-29) + 10 h (9-30) + 14 h (10-9) + 24 h (10-10)
    # + 11 h (10-12) = 83 h, under the 4wd = 96 h threshold. After the extension the budget is
    # 7wd = 168 h and yellow comes at 0.8 × 168 = 134.4 h: + 13 h (rest of 10-12) = 96 h,
    # + 24 h (10-13) = 120 h, + 14.4 h of 10-14 -> 10-14 14:24. Completed at 16:00.
    kinds = [(a["kind"], a["fired_at"]) for a in view["alerts"]]
    assert kinds == [("deadline_warning", "2026-10-14T14:24:00+08:00")]
    assert view["alerts"][0]["resolution"] == "completed"


@pytest.mark.parametrize("seed", range(40))
def test_shuffled_arrival_gives_the_in_order_view(config: Config, seed: int) -> None:
    events = _events(config)
    expected = _replayed(config, events)
    shuffled = events[:]
    random.Random(seed).shuffle(shuffled)
    assert _replayed(config, shuffled) == expected


def test_every_arrival_order_of_a_short_story(config: Config) -> None:
    events = _events(config)[:4]  # accepted, step_started, suspended, resumed
    expected = _replayed(config, events)
    for order in itertools.permutations(events):
        assert _replayed(config, list(order)) == expected, [e["type"] for e in order]


def test_reversed_arrival(config: Config) -> None:
    events = _events(config)
    assert _replayed(config, events[::-1]) == _replayed(config, events)


# -- next_change ----------------------------------------------------------------------------------


def test_next_change_walks_the_thresholds(story: Story, engine: Engine) -> None:
    story.accepted("2026-09-28 10:00")  # T5
    assert engine.next_change("CASE-1") == at("2026-10-10 00:00")  # yellow (4wd used)
    changes = engine.advance("CASE-1", at("2026-10-10 00:00"))
    assert [a.kind.value for a in changes] == ["deadline_warning"]
    assert engine.next_change("CASE-1") == at("2026-10-11 00:00")  # promised deadline
    changes = engine.advance("CASE-1", at("2026-10-11 00:00"))
    assert {a.kind.value for a in changes} == {"deadline_warning", "deadline_overdue"}
    assert engine.next_change("CASE-1") == at("2026-10-17 00:00")  # statutory deadline
    engine.advance("CASE-1", at("2026-10-17 00:00"))
    assert engine.next_change("CASE-1") is None


def test_next_change_of_a_submitted_case_is_the_intake_deadline(
    story: Story, engine: Engine
) -> None:
    story.submitted("2026-09-21 10:00")  # intake 5wd -> 24:00 of 9-29
    assert engine.next_change("CASE-1") == at("2026-09-30 00:00")


def test_next_change_while_suspended(story: Story, engine: Engine) -> None:
    story.accepted("2026-09-28 10:00")
    story.suspended("2026-09-29 10:00", reason="hearing")
    assert engine.next_change("CASE-1") is None  # nothing runs, no expected end
    story.resumed("2026-09-30 10:00")
    # 1wd removed: yellow moves from 24:00 of 10-9 to 24:00 of 10-10.
    assert engine.next_change("CASE-1") == at("2026-10-11 00:00")


def test_next_change_is_the_suspension_expected_end(story: Story, engine: Engine) -> None:
    story.accepted("2026-09-28 10:00")
    story.suspended("2026-09-29 10:00", reason="hearing", expected="1wd")  # -> 24:00 of 9-30
    assert engine.next_change("CASE-1") == at("2026-10-01 00:00")


def test_next_change_of_a_closed_case_is_none(story: Story, engine: Engine) -> None:
    story.accepted("2026-09-28 10:00")
    story.completed("2026-09-29 10:00")
    assert engine.next_change("CASE-1") is None


def test_reload_gives_new_cases_the_new_catalog_while_open_ones_keep_theirs(
    tmp_path: Path,
) -> None:
    item = (
        "items:\n  - code: K\n    name: k\n    department: d\n    promised: {}\n"
        "    statutory: 20wd\n"
    )
    path = tmp_path / "catalog.yaml"
    path.write_text(item.format("10wd"), "utf-8")
    engine = Engine(ConfigFiles(path).load())
    opening = {
        "type": "case.accepted",
        "source": "s",
        "center": "GZ",
        "item_code": "K",
        "occurred_at": "2026-11-02T10:00:00+08:00",
    }
    engine.offer(parse_event({**opening, "event_id": "1", "case_id": "OLD"}))
    path.write_text(item.format("3wd"), "utf-8")
    engine.reload(ConfigFiles(path).load())  # the open case is recomputed with its own item
    engine.offer(parse_event({**opening, "event_id": "2", "case_id": "NEW"}))
    now = parse_instant("2026-11-02T12:00:00+08:00")
    # Mon 11-02 accepted, start day not counted: 10wd = 11-03..11-06, 11-09..11-13, 11-16
    # -> 11-17 00:00; 3wd = 11-03..11-05 -> 11-06 00:00
    assert engine.view("OLD", now)["deadline"] == "2026-11-17T00:00:00+08:00"
    assert engine.view("NEW", now)["deadline"] == "2026-11-06T00:00:00+08:00"


def test_a_hash_collision_in_the_event_id_index_is_not_a_conflict(engine: Engine) -> None:
    first = {
        "type": "case.accepted",
        "source": "s",
        "center": "GZ",
        "item_code": "T10",
        "occurred_at": "2026-11-02T10:00:00+08:00",
        "event_id": "1",
        "case_id": "A",
    }
    engine.offer(parse_event(first))
    second = {**first, "event_id": "2", "case_id": "B"}
    engine.event_ids[hash(("s", "2"))] = "A"  # as if ("s", "2") hashed like ("s", "1")
    result = engine.offer(parse_event(second))
    assert not result.refused and engine.view("B", 0)["status"] == "open"
