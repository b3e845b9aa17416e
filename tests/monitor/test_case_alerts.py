"""Every alert kind of SPEC §4 and every resolution reason, as timelines.

Each test pins kind, severity, first level, fired_at (event time: the deadline instant or the
offending event's occurred_at), status, resolved_at and resolution. Instants are counted by hand
(see test_clock.py for the 2026 days that matter).
"""

from __future__ import annotations

from typing import Any

import pytest
from timeline import Story, at, firing

from monitor.casetypes import Command, SupervisorAction
from monitor.engine import Engine

FIRING = ("firing", None, None)


def rule(alert: dict[str, Any]) -> tuple[str, str, int, str]:
    """(kind, severity, first level, fired_at)."""
    return alert["kind"], alert["severity"], alert["level"], alert["fired_at"]


def resolved(when: str, why: str) -> tuple[str, str, str]:
    return "resolved", f"{when}+08:00", why


# -- deadline_warning / deadline_overdue ----------------------------------------------------------


def test_warning_then_overdue_supersedes_it(story: Story) -> None:
    story.accepted("2026-09-28 10:00")  # T5: yellow 24:00 of 10-9, deadline 24:00 of 10-10
    assert story.kinds("2026-10-09 23:59:59") == []
    warning = story.alert("2026-10-10 00:00", "deadline_warning")
    assert rule(warning) == ("deadline_warning", "yellow", 1, "2026-10-10T00:00:00+08:00")
    assert firing(warning) == FIRING
    warning = story.alert("2026-10-11 00:00", "deadline_warning")
    assert firing(warning) == resolved("2026-10-11T00:00:00", "superseded")
    overdue = story.alert("2026-10-11 00:00", "deadline_overdue")
    assert rule(overdue) == ("deadline_overdue", "red", 2, "2026-10-11T00:00:00+08:00")
    assert firing(overdue) == FIRING


def test_warning_resolved_by_completion(story: Story) -> None:
    story.accepted("2026-09-28 10:00")
    story.completed("2026-10-10 15:00")  # yellow since 00:00, done before 24:00
    warning = story.alert("2026-10-12 09:00", "deadline_warning")
    assert firing(warning) == resolved("2026-10-10T15:00:00", "completed")
    assert "deadline_overdue" not in story.kinds("2026-10-12 09:00")


def test_overdue_resolved_by_completion(engine: Engine) -> None:
    story = Story(engine, item="ONE")
    story.accepted("2026-06-01 10:00")  # deadline 24:00 of 6-02
    story.completed("2026-06-03 12:00")
    overdue = story.alert("2026-06-04 09:00", "deadline_overdue")
    assert rule(overdue) == ("deadline_overdue", "red", 2, "2026-06-03T00:00:00+08:00")
    assert firing(overdue) == resolved("2026-06-03T12:00:00", "completed")
    assert story.view("2026-06-04 09:00")["breached"] is True


def test_warning_resolved_by_withdrawal(story: Story) -> None:
    story.accepted("2026-09-28 10:00")
    story.send("withdrawn", "2026-10-10 09:00", {"reason": "申请人撤回"})
    warning = story.alert("2026-10-12 09:00", "deadline_warning")
    assert firing(warning) == resolved("2026-10-10T09:00:00", "withdrawn")


def test_extension_resolves_the_warning_and_a_new_one_follows(story: Story) -> None:
    story.accepted("2026-09-28 10:00")  # T5, extension_max 5wd
    story.view("2026-10-10 00:00")  # yellow
    story.extended("2026-10-10 12:00", "5wd")
    # budget 10wd, yellow from 8wd; used 4.5wd (9-29, 9-30, 10-8, 10-9 + 12 h of 10-10).
    view = story.view("2026-10-10 12:00")
    assert view["light"] == "green"
    first = view["alerts"][0]
    assert rule(first)[0] == "deadline_warning"
    assert firing(first) == resolved("2026-10-10T12:00:00", "extended")
    # 8wd used: 9-29, 9-30, 10-8, 10-9, 10-10, 10-12, 10-13, 10-14 -> 24:00 of 10-14.
    warnings = story.alerts("2026-10-15 00:00", "deadline_warning")
    assert [(w["fired_at"], w["status"]) for w in warnings] == [
        ("2026-10-10T00:00:00+08:00", "resolved"),
        ("2026-10-15T00:00:00+08:00", "firing"),
    ]
    assert "late_extension" not in story.kinds("2026-10-15 00:00")


# -- statutory_overdue ----------------------------------------------------------------------------


def test_statutory_overdue_resolved_by_completion(story: Story) -> None:
    story.accepted("2026-09-28 10:00")  # statutory 10wd -> 24:00 of 10-16
    assert "statutory_overdue" not in story.kinds("2026-10-16 23:59:59")
    statutory = story.alert("2026-10-17 00:00", "statutory_overdue")
    assert rule(statutory) == ("statutory_overdue", "red", 3, "2026-10-17T00:00:00+08:00")
    assert firing(statutory) == FIRING
    story.completed("2026-10-19 09:00")
    view = story.view("2026-10-19 09:00")
    for alert in view["alerts"]:  # warning superseded earlier; overdue and statutory: completed
        if alert["kind"] in ("deadline_overdue", "statutory_overdue"):
            assert firing(alert) == resolved("2026-10-19T09:00:00", "completed")


def test_statutory_overdue_resolved_by_extension(engine: Engine) -> None:
    story = Story(engine, item="NOCAP")  # 5wd / 10wd, no cap
    story.accepted("2026-09-28 10:00")
    story.extended("2026-10-19 10:00", "3wd")
    alerts = story.alerts("2026-10-19 10:00")
    statutory = [a for a in alerts if a["kind"] == "statutory_overdue"]
    assert firing(statutory[0]) == resolved("2026-10-19T10:00:00", "extended")
    # promised 8wd still passed (10wd + 10 h used): the overdue stays, and the grant is late.
    overdue = [a for a in alerts if a["kind"] == "deadline_overdue"]
    assert firing(overdue[0]) == FIRING
    late = [a for a in alerts if a["kind"] == "late_extension"]
    assert rule(late[0]) == ("late_extension", "red", 2, "2026-10-19T10:00:00+08:00")
    # statutory 13wd: + 10-19, 10-20, 10-21 -> a new statutory overdue at 24:00 of 10-21.
    statutory = story.alerts("2026-10-22 00:00", "statutory_overdue")
    assert [(a["fired_at"], a["status"]) for a in statutory] == [
        ("2026-10-17T00:00:00+08:00", "resolved"),
        ("2026-10-22T00:00:00+08:00", "firing"),
    ]


# -- intake_overdue -------------------------------------------------------------------------------


def test_intake_overdue_resolved_by_acceptance(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-09-21 10:00")  # intake 5wd -> 24:00 of 9-29
    intake = story.alert("2026-09-30 00:00", "intake_overdue")
    assert rule(intake) == ("intake_overdue", "red", 2, "2026-09-30T00:00:00+08:00")
    assert firing(intake) == FIRING
    story.accepted("2026-10-09 12:00")
    intake = story.alert("2026-10-09 12:00", "intake_overdue")
    assert firing(intake) == resolved("2026-10-09T12:00:00", "accepted")


def test_intake_overdue_resolved_by_rejection(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-09-21 10:00")
    story.view("2026-10-08 09:00")  # deemed accepted at 9-30 00:00
    story.send("rejected", "2026-10-09 12:00", {"reason": "材料不符合法定形式"})
    view = story.view("2026-10-09 12:00")
    assert view["status"] == "rejected"
    intake = story.alert("2026-10-09 12:00", "intake_overdue")
    assert firing(intake) == resolved("2026-10-09T12:00:00", "rejected")
    # The SPEC is silent on 不予受理 after a *deemed* acceptance; the engine treats it as an
    # event impossible in the case's state and also raises a procedure violation.
    assert "procedure_violation" in story.kinds("2026-10-09 12:00")


# -- step_overdue ---------------------------------------------------------------------------------


def test_step_overdue_resolved_by_step_completion(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.send("step_started", "2026-06-01 14:00", {"step": "review", "limit": "2wd"})
    # 6-01 not counted: 6-02 (1), 6-03 (2) -> 24:00 of 6-03.
    assert story.kinds("2026-06-03 23:59:59") == []
    step = story.alert("2026-06-04 00:00", "step_overdue")
    assert rule(step) == ("step_overdue", "yellow", 1, "2026-06-04T00:00:00+08:00")
    assert firing(step) == FIRING
    story.send("step_completed", "2026-06-04 09:00", {"step": "review"})
    step = story.alert("2026-06-04 09:00", "step_overdue")
    assert firing(step) == resolved("2026-06-04T09:00:00", "completed")


def test_step_hour_limit_and_case_end(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.send("step_started", "2026-06-02 09:00", {"step": "site-visit", "limit": "4h"})
    story.send("step_started", "2026-06-02 09:00", {"step": "no-limit"})
    assert story.kinds("2026-06-02 12:59:59") == []
    step = story.alert("2026-06-02 13:00", "step_overdue")  # 09:00 + 4 h
    assert step["fired_at"] == "2026-06-02T13:00:00+08:00"
    story.completed("2026-06-05 10:00")
    step = story.alert("2026-06-05 10:00", "step_overdue")  # a step without limit never fires
    assert firing(step) == resolved("2026-06-05T10:00:00", "completed")


# -- materials_overdue ----------------------------------------------------------------------------


def test_materials_overdue_resolved_by_materials_completed(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00", mode="tolerance", materials_due="3wd")
    # 6-02 (1), 6-03 (2), 6-04 (3) -> 24:00 of 6-04.
    assert story.kinds("2026-06-04 23:59:59") == []
    materials = story.alert("2026-06-05 00:00", "materials_overdue")
    assert rule(materials) == ("materials_overdue", "yellow", 1, "2026-06-05T00:00:00+08:00")
    assert firing(materials) == FIRING
    story.send("materials_completed", "2026-06-08 09:00")
    materials = story.alert("2026-06-08 09:00", "materials_overdue")
    assert firing(materials) == resolved("2026-06-08T09:00:00", "completed")


def test_materials_clock_pauses_with_the_case(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00", mode="tolerance", materials_due="3wd")
    story.suspended("2026-06-02 10:00", reason="expert_review")
    story.resumed("2026-06-03 10:00")
    # 24 h of running time removed: 24:00 of 6-04 -> 24:00 of Fri 6-05.
    assert story.kinds("2026-06-05 23:59:59") == []
    materials = story.alert("2026-06-06 00:00", "materials_overdue")
    assert materials["fired_at"] == "2026-06-06T00:00:00+08:00"


def test_materials_completed_in_time_raises_nothing(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00", mode="tolerance", materials_due="3wd")
    story.send("materials_completed", "2026-06-04 17:00")
    assert story.kinds("2026-06-10 09:00") == []


# -- suspension_overdue, non_statutory_suspension, repeated_correction ----------------------------


def test_suspension_overdue_resolved_by_resumption(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.suspended("2026-06-02 10:00", reason="inspection", expected="2wd")
    # The expected clock runs while suspended: 6-03 (1), 6-04 (2) -> 24:00 of 6-04.
    assert story.kinds("2026-06-04 23:59:59") == []
    late = story.alert("2026-06-05 00:00", "suspension_overdue")
    assert rule(late) == ("suspension_overdue", "yellow", 2, "2026-06-05T00:00:00+08:00")
    assert firing(late) == FIRING
    story.resumed("2026-06-08 09:00")
    late = story.alert("2026-06-08 09:00", "suspension_overdue")
    assert firing(late) == resolved("2026-06-08T09:00:00", "resumed")


def test_suspension_overdue_in_hours_resolved_by_case_end(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.suspended("2026-06-02 10:00", reason="quarantine", expected="48h")
    late = story.alert("2026-06-04 10:00", "suspension_overdue")  # 10:00 + 48 h
    assert late["fired_at"] == "2026-06-04T10:00:00+08:00"
    story.send("withdrawn", "2026-06-05 11:00")
    late = story.alert("2026-06-05 11:00", "suspension_overdue")
    assert firing(late) == resolved("2026-06-05T11:00:00", "withdrawn")


def test_non_statutory_suspension_stays_firing_after_the_case_ends(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.suspended("2026-06-02 10:00", reason="other")
    alert = story.alert("2026-06-02 10:00", "non_statutory_suspension")
    assert rule(alert) == ("non_statutory_suspension", "yellow", 2, "2026-06-02T10:00:00+08:00")
    story.resumed("2026-06-03 10:00")
    story.completed("2026-06-04 10:00")
    assert firing(story.alert("2026-06-05 10:00", "non_statutory_suspension")) == FIRING


@pytest.mark.parametrize(
    "reason",
    [
        "supplement",
        "hearing",
        "tendering",
        "auction",
        "inspection",
        "testing",
        "quarantine",
        "appraisal",
        "expert_review",
    ],
)
def test_statutory_reasons_raise_no_alert(engine: Engine, reason: str) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.suspended("2026-06-02 10:00", reason=reason)
    assert story.kinds("2026-06-02 10:00") == []


def test_repeated_correction_on_the_second_supplement(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.suspended("2026-06-02 10:00", reason="supplement")
    story.resumed("2026-06-03 10:00")
    assert story.kinds("2026-06-03 10:00") == []
    story.suspended("2026-06-04 10:00", reason="testing")  # not a 补正: no alert
    story.resumed("2026-06-04 12:00")
    story.suspended("2026-06-05 10:00", reason="supplement")
    alert = story.alert("2026-06-05 10:00", "repeated_correction")
    assert rule(alert) == ("repeated_correction", "yellow", 2, "2026-06-05T10:00:00+08:00")
    story.resumed("2026-06-08 10:00")
    story.completed("2026-06-09 10:00")
    assert firing(story.alert("2026-06-09 10:00", "repeated_correction")) == FIRING


# -- rejection_without_reason ---------------------------------------------------------------------


@pytest.mark.parametrize("data", [None, {}, {"reason": ""}, {"reason": "   "}])
def test_rejection_without_reason(engine: Engine, data: dict[str, str] | None) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-06-01 10:00")
    story.send("rejected", "2026-06-01 15:00", data)
    alert = story.alert("2026-06-02 10:00", "rejection_without_reason")
    assert rule(alert) == ("rejection_without_reason", "red", 2, "2026-06-01T15:00:00+08:00")
    assert firing(alert) == FIRING  # the case has ended; the violation still fires
    assert story.view("2026-06-02 10:00")["status"] == "rejected"


def test_rejection_with_a_reason_raises_nothing(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-06-01 10:00")
    story.send("rejected", "2026-06-01 15:00", {"reason": "不属于本机关职权范围"})
    assert story.kinds("2026-06-02 10:00") == []


# -- extension_exceeds_statutory, late_extension --------------------------------------------------


def test_extension_exceeds_statutory(engine: Engine) -> None:
    story = Story(engine, item="T10")  # extension_max 10wd
    story.accepted("2026-09-28 10:00")
    story.extended("2026-10-12 10:00", "5wd")
    assert story.kinds("2026-10-12 10:00") == []
    story.extended("2026-10-13 10:00", "5wd")  # exactly the cap: allowed
    assert story.kinds("2026-10-13 10:00") == []
    story.extended("2026-10-14 10:00", "1wd")  # 11wd > 10wd
    alert = story.alert("2026-10-14 10:00", "extension_exceeds_statutory")
    assert rule(alert) == ("extension_exceeds_statutory", "red", 3, "2026-10-14T10:00:00+08:00")
    story.completed("2026-10-15 10:00")
    assert firing(story.alert("2026-10-16 10:00", "extension_exceeds_statutory")) == FIRING


def test_late_extension_resolves_the_overdue_and_starts_a_new_countdown(
    engine: Engine,
) -> None:
    story = Story(engine, item="ONE")  # 1wd / 2wd, no cap
    story.accepted("2026-06-01 10:00")  # deadline 24:00 of 6-02
    story.extended("2026-06-03 10:00", "2wd")
    view = story.view("2026-06-03 10:00")
    late = next(a for a in view["alerts"] if a["kind"] == "late_extension")
    assert rule(late) == ("late_extension", "red", 2, "2026-06-03T10:00:00+08:00")
    overdue = next(a for a in view["alerts"] if a["kind"] == "deadline_overdue")
    assert overdue["fired_at"] == "2026-06-03T00:00:00+08:00"
    assert firing(overdue) == resolved("2026-06-03T10:00:00", "extended")
    # budget 3wd: 6-02, 6-03, 6-04 -> 24:00 of 6-04; used 1wd + 10 h < 2.4wd -> green.
    assert view["deadline"] == "2026-06-05T00:00:00+08:00"
    assert view["light"] == "green"
    # statutory 2wd + 2wd: 6-02..6-05 -> 24:00 of 6-05.
    assert view["statutory_deadline"] == "2026-06-06T00:00:00+08:00"
    # yellow again at 2.4wd = 6-02, 6-03 + 9 h 36 min of 6-04; red again at 24:00 of 6-04.
    assert story.light("2026-06-04 09:35:59") == "green"
    assert story.light("2026-06-04 09:36:00") == "yellow"
    story.completed("2026-06-05 12:00")
    view = story.view("2026-06-05 12:00")
    fired = [(a["kind"], a["fired_at"]) for a in view["alerts"]]
    assert ("deadline_overdue", "2026-06-05T00:00:00+08:00") in fired
    late = next(a for a in view["alerts"] if a["kind"] == "late_extension")
    assert firing(late) == FIRING  # a violation: stays after the case ends


def test_extension_one_second_before_the_deadline_is_not_late(engine: Engine) -> None:
    story = Story(engine, item="ONE")
    story.accepted("2026-06-01 10:00")
    story.extended("2026-06-02 23:59:59", "1wd")
    assert "late_extension" not in story.kinds("2026-06-03 00:00")


# -- corrected: a late event shows an alert should not have fired ---------------------------------


def test_suspension_reported_after_the_overdue_fired_corrects_it(engine: Engine) -> None:
    story = Story(engine, item="ONE")
    story.accepted("2026-06-01 10:00")
    view = story.view("2026-06-03 10:00")  # yellow at 6-02 19:12, red at 6-03 00:00
    assert view["light"] == "red"
    # The window reports, late, that the case was suspended on 6-02 at 12:00: 12 h used, so
    # it never reached 19 h 12 min (yellow) nor 24 h (red).
    result = story.suspended("2026-06-02 12:00", reason="inspection")
    changed = {(a.kind.value, a.resolution.value if a.resolution else None) for a in result.changes}
    assert changed == {("deadline_warning", "corrected"), ("deadline_overdue", "corrected")}
    view = story.view("2026-06-03 10:00")
    assert view["light"] == "suspended"
    assert view["breached"] is False
    by_kind = {a["kind"]: a for a in view["alerts"]}
    assert by_kind["deadline_overdue"]["fired_at"] == "2026-06-03T00:00:00+08:00"
    # Resolved when the engine learnt of it (its time was 6-03 10:00): the SPEC gives no
    # instant for a correction; the engine uses the case's time when the late event arrived.
    assert firing(by_kind["deadline_overdue"]) == resolved("2026-06-03T10:00:00", "corrected")
    assert firing(by_kind["deadline_warning"]) == resolved("2026-06-03T10:00:00", "corrected")


def test_late_offending_event_fires_at_its_own_occurred_at(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.view("2026-06-05 10:00")
    story.suspended("2026-06-02 10:00", reason="other")  # arrives three days late
    alert = story.alert("2026-06-05 10:00", "non_statutory_suspension")
    assert alert["fired_at"] == "2026-06-02T10:00:00+08:00"


# -- supervisors: acknowledge and cancel ----------------------------------------------------------


def test_cancelled_by_a_supervisor(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.suspended("2026-06-02 10:00", reason="other")
    alert = story.alert("2026-06-02 10:00", "non_statutory_suspension")
    done = engine.act(
        "CASE-1",
        SupervisorAction(
            at("2026-06-02 15:00"), alert["id"], Command.CANCEL, "事由已核实，属专家评审"
        ),
    )
    assert done is not None
    alert = story.alert("2026-06-02 15:00", "non_statutory_suspension")
    assert firing(alert) == resolved("2026-06-02T15:00:00", "cancelled")


def test_acknowledged_then_resolved_by_the_case(engine: Engine) -> None:
    story = Story(engine, item="ONE")
    story.accepted("2026-06-01 10:00")
    overdue = story.alert("2026-06-03 09:00", "deadline_overdue")
    engine.act(
        "CASE-1",
        SupervisorAction(at("2026-06-03 09:30"), overdue["id"], Command.ACKNOWLEDGE, "已督办"),
    )
    overdue = story.alert("2026-06-03 09:30", "deadline_overdue")
    assert (overdue["status"], overdue["acknowledged_at"], overdue["resolved_at"]) == (
        "acknowledged",
        "2026-06-03T09:30:00+08:00",
        None,
    )
    story.completed("2026-06-03 11:00")
    overdue = story.alert("2026-06-03 11:00", "deadline_overdue")
    assert firing(overdue) == resolved("2026-06-03T11:00:00", "completed")


def test_acknowledged_violation_can_still_be_cancelled(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.send("resumed", "2026-06-02 10:00")  # not suspended: a procedure violation
    alert = story.alert("2026-06-02 10:00", "procedure_violation")
    engine.act("CASE-1", SupervisorAction(at("2026-06-02 11:00"), alert["id"], Command.ACKNOWLEDGE))
    assert story.alert("2026-06-02 11:00", "procedure_violation")["status"] == "acknowledged"
    engine.act(
        "CASE-1",
        SupervisorAction(at("2026-06-02 12:00"), alert["id"], Command.CANCEL, "窗口系统重复推送"),
    )
    alert = story.alert("2026-06-02 12:00", "procedure_violation")
    assert firing(alert) == resolved("2026-06-02T12:00:00", "cancelled")


# -- procedure_violation --------------------------------------------------------------------------


def test_completed_before_accepted(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-06-01 10:00")
    story.completed("2026-06-02 10:00")
    alert = story.alert("2026-06-02 10:00", "procedure_violation")
    assert rule(alert) == ("procedure_violation", "yellow", 2, "2026-06-02T10:00:00+08:00")
    assert firing(alert) == FIRING


@pytest.mark.parametrize(
    ("kind", "data"),
    [
        ("suspended", {"reason": "hearing"}),
        ("extended", {"by": "2wd"}),
        ("completed", {"result": "approved"}),
        ("step_started", {"step": "review"}),
        ("materials_completed", None),
        ("withdrawn", None),
    ],
)
def test_events_after_the_end(engine: Engine, kind: str, data: dict[str, str] | None) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.completed("2026-06-02 10:00")
    story.send(kind, "2026-06-03 10:00", data)
    alert = story.alert("2026-06-03 10:00", "procedure_violation")
    assert rule(alert) == ("procedure_violation", "yellow", 2, "2026-06-03T10:00:00+08:00")
    assert firing(alert) == FIRING
    assert story.view("2026-06-03 10:00")["status"] == "completed"  # the end stands


def test_resumed_while_not_suspended(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.resumed("2026-06-02 10:00")
    alert = story.alert("2026-06-02 10:00", "procedure_violation")
    assert rule(alert) == ("procedure_violation", "yellow", 2, "2026-06-02T10:00:00+08:00")
    # The deadline is untouched: 10wd from 6-01 -> 6-02..6-05, 6-08..6-12, 6-15 -> 24:00 of 6-15.
    assert story.view("2026-06-02 10:00")["deadline"] == "2026-06-16T00:00:00+08:00"


def test_step_completed_for_an_unknown_step(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.send("step_started", "2026-06-01 11:00", {"step": "review"})
    story.send("step_completed", "2026-06-02 10:00", {"step": "approve"})
    alert = story.alert("2026-06-02 10:00", "procedure_violation")
    assert rule(alert) == ("procedure_violation", "yellow", 2, "2026-06-02T10:00:00+08:00")
    story.completed("2026-06-03 10:00")
    assert firing(story.alert("2026-06-03 10:00", "procedure_violation")) == FIRING


def test_case_end_resolves_every_clock_alert_with_its_reason(engine: Engine) -> None:
    story = Story(engine, item="ONE")  # 1wd / 2wd
    story.accepted("2026-06-01 10:00", mode="tolerance", materials_due="1wd")
    story.send("step_started", "2026-06-01 11:00", {"step": "review", "limit": "1wd"})
    # By 6-04 12:00: warning (6-02 19:12, superseded at 6-03 00:00), overdue, materials and
    # step (24:00 of 6-02), statutory (24:00 of 6-03).
    story.suspended("2026-06-04 12:00", reason="testing", expected="1h")
    story.send("withdrawn", "2026-06-04 14:00")
    alerts = {a["kind"]: a for a in story.alerts("2026-06-05 09:00")}
    assert set(alerts) == {
        "deadline_warning",
        "deadline_overdue",
        "statutory_overdue",
        "materials_overdue",
        "step_overdue",
        "suspension_overdue",
    }
    assert alerts["deadline_warning"]["fired_at"] == "2026-06-02T19:12:00+08:00"
    assert firing(alerts["deadline_warning"]) == resolved("2026-06-03T00:00:00", "superseded")
    assert alerts["suspension_overdue"]["fired_at"] == "2026-06-04T13:00:00+08:00"
    for kind in (
        "deadline_overdue",
        "statutory_overdue",
        "materials_overdue",
        "step_overdue",
        "suspension_overdue",
    ):
        assert firing(alerts[kind]) == resolved("2026-06-04T14:00:00", "withdrawn"), kind


def test_extension_at_the_deadline_instant_is_late(engine: Engine) -> None:
    # Red at the deadline instant itself (SPEC §3: the deadline is the first instant used
    # reaches the budget), so an extension then is granted after it had passed.
    story = Story(engine, item="ONE")
    story.accepted("2026-06-01 10:00")
    story.extended("2026-06-03 00:00:00", "1wd")
    late = story.alert("2026-06-03 00:00", "late_extension")
    assert late["fired_at"] == "2026-06-03T00:00:00+08:00"


def test_a_case_once_red_stays_breached_after_a_late_extension(engine: Engine) -> None:
    story = Story(engine, item="ONE")
    story.accepted("2026-06-01 10:00")
    story.extended("2026-06-03 10:00", "2wd")  # new deadline 24:00 of 6-04
    story.completed("2026-06-04 10:00")  # in time for the extended deadline
    view = story.view("2026-06-04 10:00")
    assert (view["breached"], view["on_time"]) == (True, False)  # it was red on 6-03


def test_deemed_acceptance_with_a_shorter_limit_is_overdue_from_its_deadline(
    engine: Engine,
) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-09-21 10:00")
    story.view("2026-10-08 09:00")  # deemed accepted at 9-30 00:00
    story.accepted("2026-10-09 12:00", promised="5wd")
    # 5wd from the submission: 9-22, 9-23, 9-24, 9-28, 9-29 -> 24:00 of 9-29. Event time:
    # the overdue is raised at the deadline instant, though it was learnt on 10-9.
    view = story.view("2026-10-09 12:00")
    assert (view["deadline"], view["light"]) == ("2026-09-30T00:00:00+08:00", "red")
    overdue = story.alert("2026-10-09 12:00", "deadline_overdue")
    assert overdue["fired_at"] == "2026-09-30T00:00:00+08:00"


def test_late_suspension_corrects_a_procedure_violation(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.resumed("2026-06-03 10:00")  # arrives first: not suspended yet
    assert "procedure_violation" in story.kinds("2026-06-03 10:00")
    story.suspended("2026-06-02 10:00", reason="hearing")  # the earlier event, late
    violation = story.alert("2026-06-03 10:00", "procedure_violation")
    assert firing(violation) == resolved("2026-06-03T10:00:00", "corrected")
    # 24 h removed (14 h of 6-02 + 10 h of 6-03): 24:00 of 6-15 -> 24:00 of 6-16.
    assert story.view("2026-06-03 10:00")["deadline"] == "2026-06-17T00:00:00+08:00"


def test_cancellation_survives_a_recomputation(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.suspended("2026-06-02 10:00", reason="other")
    alert = story.alert("2026-06-02 10:00", "non_statutory_suspension")
    engine.act(
        "CASE-1", SupervisorAction(at("2026-06-02 15:00"), alert["id"], Command.CANCEL, "已核实")
    )
    story.send("step_started", "2026-06-01 12:00", {"step": "review"})  # late: replays the case
    alert = story.alert("2026-06-02 15:00", "non_statutory_suspension")
    assert firing(alert) == resolved("2026-06-02T15:00:00", "cancelled")


def test_delivery_after_the_end_is_no_violation(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.completed("2026-06-02 10:00")
    story.send("delivered", "2026-06-03 10:00")
    assert story.kinds("2026-06-03 10:00") == []


def test_withdrawal_before_acceptance_is_no_violation(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-06-01 10:00")
    story.send("withdrawn", "2026-06-01 16:00", {"reason": "申请人撤回"})
    view = story.view("2026-06-10 10:00")
    assert (view["status"], view["alerts"]) == ("withdrawn", [])


def test_second_acceptance_is_a_violation(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.accepted("2026-06-02 10:00", promised="3wd")
    view = story.view("2026-06-02 10:00")
    assert [a["kind"] for a in view["alerts"]] == ["procedure_violation"]
    assert view["deadline"] == "2026-06-16T00:00:00+08:00"  # the first acceptance stands


def test_late_correction_request_takes_back_the_deemed_acceptance(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-09-21 10:00")
    assert story.view("2026-10-08 09:00")["deemed_accepted"] is True  # since 9-30 00:00
    # The window reports late that it asked for 补正 on 9-22: the intake clock stopped
    # then, with 1wd of 5 used, and never ran out.
    result = story.send("correction_requested", "2026-09-22 15:00")
    assert {
        (a.kind.value, a.resolution.value if a.resolution else None) for a in result.changes
    } == {("intake_overdue", "corrected")}
    view = story.view("2026-10-08 09:00")
    assert (view["status"], view["deemed_accepted"], view["deadline"]) == ("submitted", False, None)


def test_late_acceptance_takes_back_the_intake_alert(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-09-21 10:00")
    story.view("2026-10-08 09:00")  # deemed accepted at 9-30 00:00
    story.accepted("2026-09-25 10:00")  # accepted in time, reported late
    view = story.view("2026-10-08 09:00")
    assert (view["deemed_accepted"], view["accepted_at"]) == (False, "2026-09-25T10:00:00+08:00")
    # 10wd from Fri 9-25 (a holiday, not counted anyway): 9-28, 9-29, 9-30, 10-8, 10-9,
    # 10-10, 10-12, 10-13, 10-14, 10-15 -> 24:00 of 10-15.
    assert view["deadline"] == "2026-10-16T00:00:00+08:00"
    intake = story.alert("2026-10-08 09:00", "intake_overdue")
    assert firing(intake) == resolved("2026-10-08T09:00:00", "corrected")


@pytest.mark.parametrize("kind", ["withdrawn", "rejected"])
def test_a_case_first_heard_of_by_its_end_is_a_violation(engine: Engine, kind: str) -> None:
    # e.g. the case.submitted was refused for an unknown item: the end must not pass silently
    story = Story(engine, item="T10")
    story.send(kind, "2026-06-02 10:00", data={"reason": "材料不全"})
    alert = story.alert("2026-06-02 10:00", "procedure_violation")
    assert rule(alert) == ("procedure_violation", "yellow", 2, "2026-06-02T10:00:00+08:00")
    assert story.view("2026-06-02 10:00")["status"] == kind


def test_a_case_completed_without_a_promised_deadline_is_not_on_time(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-06-01 10:00")
    story.completed("2026-06-02 10:00")
    view = story.view("2026-06-02 10:00")
    assert view["status"] == "completed" and view["on_time"] is None
