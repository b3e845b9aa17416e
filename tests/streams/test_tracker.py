"""The worker's logic without Kafka: events and ticks in, state and outputs out."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from monitor.casetypes import Command
from monitor.config import ConfigFiles
from monitor.engine import Engine
from monitor.records import AuditRecord, SupervisorCommand
from monitor.timeutil import parse_instant
from streams.tracker import REASON_HEADER, Inbound, Tracker

DATA = Path(__file__).resolve().parents[2] / "monitor" / "data"
CONFIG = ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml").load()
ARRIVED = parse_instant("2026-09-28T10:00:05+08:00")


def event(n: int, kind: str, at: str, case_id: str = "C-1", **fields: Any) -> bytes:
    body = {
        "event_id": f"e{n}",
        "type": f"case.{kind}",
        "case_id": case_id,
        "occurred_at": at,
        "source": "win-1",
        **fields,
    }
    return json.dumps(body, ensure_ascii=False).encode()


ACCEPTED = event(
    1,
    "accepted",
    "2026-09-28T10:00:00+08:00",
    center="GZ-TIANHE",
    item_code="FOOD-LICENSE",
    data={"promised": "5wd"},
)


@pytest.fixture
def tracker() -> Tracker:
    return Tracker(Engine(CONFIG), {})


def test_an_event_is_stored_published_and_armed(tracker: Tracker) -> None:
    out = tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    assert "C-1" in tracker.store and not out.dead
    ((key, value),) = out.cases
    view = json.loads(value)
    assert key == b"C-1" and view["light"] == "green" and view["version"][0] == 1
    # SPEC example: 5wd from 9-28 -> 10-11 00:00; the warning at 4wd comes first (10-10 00:00)
    assert out.arm == [("C-1", parse_instant("2026-10-10T00:00:00+08:00"))]
    (feed,) = out.feed
    assert (feed.source, feed.outcome, feed.arrived_at - feed.occurred_at) == (
        "win-1",
        "accepted",
        5,
    )


def test_a_duplicate_changes_nothing_and_is_counted(tracker: Tracker) -> None:
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    snapshot = tracker.store["C-1"]
    out = tracker.on_event(b"C-1", ACCEPTED, ARRIVED + 60)
    assert not out.cases and not out.alerts and out.feed[0].outcome == "duplicate"
    assert tracker.store["C-1"] == snapshot


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (b"{not json", "(body)"),
        (event(2, "approved", "2026-09-28T10:00:00+08:00"), "type"),
        (
            event(3, "accepted", "2026-09-28T10:00:00+08:00", center="GZ", item_code="NOPE"),
            "item_code",
        ),
        (ACCEPTED.replace(b'"e1"', b'"' + b"x" * 200 + b'"'), "event_id"),
    ],
)
def test_bad_input_becomes_a_dead_letter_with_its_bytes_and_reasons(
    tracker: Tracker, value: bytes, field: str
) -> None:
    out = tracker.on_event(b"C-1", value, ARRIVED)
    (dead,) = out.dead
    assert dead.value == value and dead.key == b"C-1"
    reasons = json.loads(dict(dead.headers())[REASON_HEADER])
    assert field in [reason["field"] for reason in reasons]
    assert out.feed[0].outcome == "refused" and not out.cases


def test_an_event_under_another_case_key_is_refused(tracker: Tracker) -> None:
    out = tracker.on_event(b"C-2", ACCEPTED, ARRIVED)
    assert out.dead[0].errors[0].field == "(key)" and "C-1" not in tracker.store


def test_a_conflicting_resend_is_refused(tracker: Tracker) -> None:
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    changed = ACCEPTED.replace(b'"5wd"', b'"6wd"')
    out = tracker.on_event(b"C-1", changed, ARRIVED)
    assert out.dead[0].errors[0].field == "event_id"


def test_an_event_from_a_source_that_did_not_open_the_case_is_a_dead_letter(
    tracker: Tracker,
) -> None:
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    tracker.on_event(
        b"C-1",
        event(2, "suspended", "2026-09-29T10:00:00+08:00", data={"reason": "hearing"}),
        ARRIVED,
    )
    tracker.forget_all()  # the case comes back from its snapshot, opener included
    snapshot = tracker.store["C-1"]
    closing = event(3, "completed", "2026-09-30T10:00:00+08:00", source="win-other")
    out = tracker.on_event(b"C-1", closing, ARRIVED)
    (dead,) = out.dead
    assert dead.value == closing
    assert json.loads(dict(dead.headers())[REASON_HEADER]) == [
        {
            "field": "source",
            "rule": "case 'C-1' was opened by source 'win-1'; only that source and the sources "
            "the centres file lists for its centre 'GZ-TIANHE' may write to it",
        }
    ]
    (feed,) = out.feed
    assert (feed.source, feed.outcome) == ("win-other", "refused")
    assert not out.cases and tracker.store["C-1"] == snapshot


def test_ticks_fire_the_thresholds_at_their_instants(tracker: Tracker) -> None:
    out = tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    ((_, warning_at),) = out.arm
    out = tracker.on_tick("C-1", warning_at)
    assert [json.loads(v)["kind"] for _, v in out.alerts] == ["deadline_warning"]
    ((_, red_at),) = out.arm
    assert red_at == parse_instant("2026-10-11T00:00:00+08:00")
    out = tracker.on_tick("C-1", red_at)
    kinds = {json.loads(v)["kind"]: json.loads(v) for _, v in out.alerts}
    assert kinds["deadline_overdue"]["fired_at"] == "2026-10-11T00:00:00+08:00"
    assert kinds["deadline_overdue"]["center"] == "GZ-TIANHE"
    assert kinds["deadline_warning"]["resolution"] == "superseded"
    assert json.loads(out.cases[0][1])["light"] == "red"


def test_a_restarted_worker_carries_on_from_its_store(tracker: Tracker) -> None:
    out = tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    ((_, warning_at),) = out.arm
    restarted = Tracker(Engine(CONFIG), tracker.store)  # same table, empty memory
    out = restarted.on_tick("C-1", parse_instant("2026-10-11T00:00:00+08:00"))
    assert sorted(json.loads(v)["kind"] for _, v in out.alerts) == [
        "deadline_overdue",
        "deadline_warning",
    ]
    assert warning_at < parse_instant("2026-10-11T00:00:00+08:00")


def test_a_closed_case_leaves_memory_but_not_the_store(tracker: Tracker) -> None:
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    out = tracker.on_event(b"C-1", event(2, "completed", "2026-09-29T10:00:00+08:00"), ARRIVED)
    assert out.arm == [("C-1", None)] and "C-1" not in tracker.engine.cases
    late = tracker.on_event(
        b"C-1",
        event(3, "step_started", "2026-09-28T11:00:00+08:00", data={"step": "审查"}),
        ARRIVED,
    )
    assert json.loads(late.cases[0][1])["status"] == "completed"  # reloaded and replayed


def test_an_unknown_center_is_reported_in_the_feed(tracker: Tracker) -> None:
    value = event(
        1, "accepted", "2026-09-28T10:00:00+08:00", center="XX-NEW", item_code="FOOD-LICENSE"
    )
    out = tracker.on_event(b"C-1", value, ARRIVED)
    assert out.feed[0].unknown_center == "XX-NEW" and not out.dead


def test_the_view_carries_the_timeline_and_the_clocks(tracker: Tracker) -> None:
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    late = event(  # arrives second, happened first
        0, "submitted", "2026-09-28T09:00:00+08:00", center="GZ-TIANHE", item_code="FOOD-LICENSE"
    )
    view = json.loads(tracker.on_event(b"C-1", late, ARRIVED).cases[0][1])
    assert [(e["type"], e["at"]) for e in view["timeline"]] == [
        ("case.submitted", "2026-09-28T09:00:00+08:00"),
        ("case.accepted", "2026-09-28T10:00:00+08:00"),
    ]
    assert view["timeline"][1]["data"] == {"promised": "5wd"}
    promised = view["clocks"]["promised"]
    assert promised["deadline"] == view["deadline"] == "2026-10-11T00:00:00+08:00"
    assert promised["running"] and promised["remaining_s"] == view["remaining_s"]
    assert promised["budget_s"] == 5 * 86_400 and promised["unit"] == "wd"
    assert "statutory" in view["clocks"] and "intake" not in view["clocks"]


def command(command: str, alert_id: str, at: str, note: str = "", case_id: str = "C-1") -> bytes:
    return SupervisorCommand(
        case_id, alert_id, Command(command), parse_instant(at), "li.supervisor", note
    ).encode()[1]


def test_a_supervisor_acknowledges_then_cancels_an_alert(tracker: Tracker) -> None:
    out = tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    ((_, warning_at),) = out.arm
    ((alert_id, _),) = tracker.on_tick("C-1", warning_at).alerts
    out = tracker.on_command(b"C-1", command("ack", alert_id.decode(), "2026-10-10T09:00:00+08:00"))
    (record,) = (json.loads(v) for _, v in out.alerts)
    assert record["status"] == "acknowledged" and not out.dead
    assert json.loads(out.cases[0][1])["version"][0] == 2  # one event, one action
    out = tracker.on_command(
        b"C-1", command("cancel", alert_id.decode(), "2026-10-10T09:05:00+08:00", "误报")
    )
    (record,) = (json.loads(v) for _, v in out.alerts)
    assert (record["status"], record["resolution"]) == ("resolved", "cancelled")


def test_each_applied_decision_has_one_audit_record_and_a_refused_one_none(
    tracker: Tracker,
) -> None:
    ((_, warning_at),) = tracker.on_event(b"C-1", ACCEPTED, ARRIVED).arm
    out = tracker.on_tick("C-1", warning_at)
    ((alert_id, _),) = out.alerts
    ack = command("ack", alert_id.decode(), "2026-10-10T09:00:00+08:00", "已电话督办")
    (audit,) = tracker.on_command(b"C-1", ack).audit
    entry = AuditRecord.decode(audit[1])
    assert audit[0] == entry.id.encode() == SupervisorCommand.decode(ack).audit_id.encode()
    assert (entry.command, entry.note, entry.by) == (
        Command.ACKNOWLEDGE,
        "已电话督办",
        "li.supervisor",
    )
    assert entry.kind == json.loads(out.alerts[0][1])["kind"] and entry.case_id == "C-1"
    refused = command("cancel", "no-such-alert", "2026-10-10T09:05:00+08:00", "误报")
    out = tracker.on_command(b"C-1", refused)
    assert out.dead and not out.audit


@pytest.mark.parametrize(
    ("value", "field"),
    [
        (b"[]", "(json)"),
        (b'{"case_id": "C-1", "alert_id": "x", "command": "delete", "at": 1}', "command"),
        (command("ack", "no-such-alert", "2026-10-10T09:00:00+08:00"), "alert_id"),
        (command("ack", "a", "2026-10-10T09:00:00+08:00", case_id="C-404"), "case_id"),
    ],
)
def test_a_command_that_cannot_apply_becomes_a_dead_letter(
    tracker: Tracker, value: bytes, field: str
) -> None:
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    out = tracker.on_command(b"C-1", value)
    (dead,) = out.dead
    assert dead.value == value and dead.errors[0].field == field and not out.cases


def test_a_batch_publishes_each_case_once_with_the_latest_state_of_each_alert(
    tracker: Tracker,
) -> None:
    red_at = parse_instant("2026-10-11T00:00:00+08:00")
    other = event(
        5, "accepted", "2026-09-28T11:00:00+08:00", "C-2", center="GZ-TIANHE", item_code="BIZ-REG"
    )
    out = tracker.on_batch(
        [
            (Inbound.EVENT, b"C-1", ACCEPTED),
            (Inbound.EVENT, b"C-2", other),
            (Inbound.EVENT, b"C-1", b"{broken"),
            (Inbound.TICK, b"C-1", str(red_at).encode()),  # warning fires, then is superseded
        ],
        ARRIVED,
    )
    assert [key for key, _ in out.cases] == [b"C-1", b"C-2"]
    c1 = json.loads(out.cases[0][1])
    assert c1["light"] == "red" and c1["version"] == [1, red_at, 0]
    alerts = {json.loads(v)["kind"]: json.loads(v)["status"] for _, v in out.alerts}
    assert alerts == {"deadline_warning": "resolved", "deadline_overdue": "firing"}
    assert len(out.alerts) == 2 and len(out.dead) == 1 and not out.touched
    assert [case_id for case_id, _ in out.arm] == ["C-1", "C-2"]
    assert sorted(tracker.store) == ["C-1", "C-2"]


def test_a_case_that_arrives_overdue_is_red_at_once_with_each_alert_at_its_instant(
    tracker: Tracker,
) -> None:
    red_at = parse_instant("2026-10-11T00:00:00+08:00")
    out = tracker.on_event(b"C-1", ACCEPTED, red_at + 3600)  # arrives an hour after its deadline
    assert json.loads(out.cases[0][1])["light"] == "red"
    fired = {json.loads(v)["kind"]: json.loads(v)["fired_at"] for _, v in out.alerts}
    assert fired == {
        "deadline_warning": "2026-10-10T00:00:00+08:00",
        "deadline_overdue": "2026-10-11T00:00:00+08:00",
    }
    assert tracker.engine.cases["C-1"].time == red_at  # not the arrival: a threshold's instant
    ((_, next_at),) = out.arm
    assert next_at is not None and next_at > red_at


def test_memory_holds_at_most_the_cached_cases_and_forgotten_ones_come_back_from_the_store() -> (
    None
):
    tracker = Tracker(Engine(CONFIG), {}, cached_cases=100)
    for n in range(150):
        value = event(
            n,
            "accepted",
            "2026-09-28T10:00:00+08:00",
            f"C-{n}",
            center="GZ-TIANHE",
            item_code="FOOD-LICENSE",
        )
        tracker.on_event(f"C-{n}".encode(), value, ARRIVED)
    assert len(tracker.engine.cases) == 100 and "C-0" not in tracker.engine.cases
    assert len(tracker.engine.event_ids) == 100  # the forgotten cases' ids went with them
    # the oldest case, forgotten, is read back from the store when its deadline comes
    out = tracker.on_tick("C-0", parse_instant("2026-12-31T00:00:00+08:00"))
    assert json.loads(out.cases[0][1])["light"] == "red"
    assert "C-0" in tracker.engine.cases and len(tracker.engine.cases) == 100


def test_an_event_read_again_after_a_rebalance_is_not_counted_or_dead_lettered_again(
    tracker: Tracker,
) -> None:
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    out = tracker.on_batch([(Inbound.EVENT_AGAIN, b"C-1", ACCEPTED)], ARRIVED + 5)
    assert not out.feed and not out.cases and not out.dead
    broken = tracker.on_batch([(Inbound.EVENT_AGAIN, b"C-1", b"{broken")], ARRIVED + 5)
    assert not broken.dead and not broken.feed  # its dead letter was sent the first time
    again = tracker.on_batch([(Inbound.EVENT, b"C-1", ACCEPTED)], ARRIVED + 5)  # a resend
    assert [f.outcome for f in again.feed] == ["duplicate"]


# -- a configuration switch -------------------------------------------------------------------

NATIONAL_DAY_WORKED = """\
calendar: cn
year: 2026
source: 测试：国庆节后三天改为上班
holidays: ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04"]
workdays: ["2026-09-20", "2026-10-10"]
"""


def switched(tracker: Tracker, tmp_path: Path, version: int = 2) -> bool:
    year = tmp_path / "cn-2026.yaml"
    year.write_text(NATIONAL_DAY_WORKED, "utf-8")
    config = ConfigFiles(DATA / "catalog.yaml", DATA / "centres.yaml", (year,)).load()
    return tracker.switch(config, version)


def test_a_case_loaded_after_a_switch_publishes_its_corrections_with_the_next_event(
    tracker: Tracker, tmp_path: Path
) -> None:
    red_at = parse_instant("2026-10-11T00:00:00+08:00")
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    tracker.on_tick("C-1", red_at)  # red under the shipped calendar
    assert switched(tracker, tmp_path) and not tracker.engine.cases  # held cases dropped
    handler = event(2, "step_started", "2026-10-11T09:00:00+08:00", data={"step": "review"})
    out = tracker.on_event(b"C-1", handler, red_at + 9 * 3600)
    assert not out.dead, out.dead
    (view,) = [json.loads(value) for _, value in out.cases]
    # 10-05..10-07 are working days now: 5wd from 9-28 ends 10-08 00:00, long passed
    assert view["deadline"] == "2026-10-08T00:00:00+08:00" and view["version"][2] == 2
    fired = {json.loads(v)["kind"]: json.loads(v)["fired_at"] for _, v in out.alerts}
    assert fired["deadline_overdue"] == "2026-10-08T00:00:00+08:00"  # its own instant


def test_recompute_republishes_every_case_not_yet_counted_anew_and_re_arms_it(
    tracker: Tracker, tmp_path: Path
) -> None:
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    assert switched(tracker, tmp_path, version=7)
    out = tracker.recompute(["C-1", "NO-SUCH-CASE"], ARRIVED + 60)
    ((_, value),) = out.cases
    view = json.loads(value)
    assert view["deadline"] == "2026-10-08T00:00:00+08:00" and view["version"][2] == 7
    assert out.arm == [("C-1", parse_instant("2026-10-07T00:00:00+08:00"))]  # the new warning
    # a case already loaded since the switch is counted anew already: not again
    assert not tracker.recompute(["C-1"], ARRIVED + 120).cases


def test_a_snapshot_loaded_under_its_own_configuration_changes_nothing(tracker: Tracker) -> None:
    tracker.on_event(b"C-1", ACCEPTED, ARRIVED)
    tracker.on_tick("C-1", parse_instant("2026-10-10T00:00:00+08:00"))  # the warning fired
    tracker.forget_all()
    out = tracker.on_batch([], ARRIVED)
    assert not out.cases
    again = tracker.on_tick("C-1", parse_instant("2026-10-10T00:00:00+08:00"))
    assert not again.alerts  # nothing corrected or fired again by the reload
