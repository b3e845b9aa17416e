"""Lights, deadlines and status of whole cases (SPEC §3 "Lights", §6 case object), as timelines.

Expected values are counted by hand from the SPEC rules on the shipped 2026 calendar (see the
docstring of test_clock.py for the days that matter). Views advance a case's time, so each story
looks at it in increasing time order.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from timeline import SPEC_CASE_FIELDS, Story

from monitor.config import Config, ConfigFiles
from monitor.engine import Engine

HOUR = 3_600
WD = 86_400

# A made-up official schedule for 2027 in the SPEC §2 format (not the real notice, which had
# not been published when these tests were written): it differs from the provisional rule at the
# Spring Festival (9 days off, 2-05..2-13, and a make-up Saturday 2-20).
YEAR_2027 = """\
calendar: cn
year: 2027
source: 测试用2027年节假日安排 (test schedule)
holidays: ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-02-09",
           "2027-02-10", "2027-02-11", "2027-02-12", "2027-02-13", "2027-10-01", "2027-10-02",
           "2027-10-03", "2027-10-04", "2027-10-05", "2027-10-06", "2027-10-07"]
workdays: ["2027-02-20"]
"""


@pytest.fixture
def year_2027(tmp_path: Path) -> Path:
    path = tmp_path / "cn-2027.yaml"
    path.write_text(YEAR_2027, encoding="utf-8")
    return path


# -- green -> yellow -> red, exact to the second --------------------------------------------------


def test_one_working_day_turns_yellow_at_19_12_and_red_at_midnight(engine: Engine) -> None:
    story = Story(engine, item="ONE")  # 1wd promised, yellow_at 0.8
    story.accepted("2026-06-01 10:00")  # Mon; the clock runs on Tue 6-02
    # yellow threshold 0.8 × 86 400 = 69 120 s = 19 h 12 min into 6-02.
    assert story.light("2026-06-02 19:11:59") == "green"
    view = story.view("2026-06-02 19:12:00")
    assert view["light"] == "yellow"
    assert view["remaining_s"] == 86_400 - 69_120  # 17 280
    assert story.light("2026-06-02 23:59:59") == "yellow"  # deadline − 1 s
    view = story.view("2026-06-03 00:00:00")  # deadline = 24:00 of 6-02
    assert view["light"] == "red"
    assert view["deadline"] == "2026-06-03T00:00:00+08:00"
    assert view["remaining_s"] == 0


def test_spec_example_lights(story: Story) -> None:
    story.accepted("2026-09-28 10:00")  # T5: 5wd promised, 10wd statutory
    view = story.view("2026-09-28 10:00")
    assert view["light"] == "green"
    assert view["status"] == "open"
    assert view["deadline"] == "2026-10-11T00:00:00+08:00"  # 9-29, 9-30, 10-8, 10-9, 10-10
    # statutory 10wd: ... 10-10 (5), 10-12..10-16 (6..10) -> 24:00 of 10-16.
    assert view["statutory_deadline"] == "2026-10-17T00:00:00+08:00"
    assert view["remaining_s"] == 5 * WD  # nothing used on the start day
    # yellow at 0.8 × 5wd = 4wd used = 24:00 of the 4th working day (10-9).
    assert story.light("2026-10-09 23:59:59") == "green"
    assert story.light("2026-10-10 00:00:00") == "yellow"
    assert story.light("2026-10-10 23:59:59") == "yellow"
    assert story.light("2026-10-11 00:00:00") == "red"


def test_yellow_inside_a_day_after_the_holiday(engine: Engine) -> None:
    story = Story(engine, item="THREE")  # 3wd
    story.accepted("2026-09-28 10:00")
    # 2.4wd = 9-29 + 9-30 + 0.4 × 86 400 s (= 9 h 36 min) of 10-8; the holiday adds nothing.
    assert story.light("2026-10-07 23:59:59") == "green"
    assert story.light("2026-10-08 09:35:59") == "green"
    assert story.light("2026-10-08 09:36:00") == "yellow"
    view = story.view("2026-10-08 23:59:59")
    assert view["light"] == "yellow"
    assert view["deadline"] == "2026-10-09T00:00:00+08:00"
    assert story.light("2026-10-09 00:00:00") == "red"


def test_yellow_at_from_the_catalog(engine: Engine) -> None:
    story = Story(engine, item="HALF")  # 3wd, yellow_at 0.5
    story.accepted("2026-06-01 10:00")
    # 0.5 × 3wd = 1.5wd: all of 6-02 and 12 h of 6-03. Deadline 24:00 of 6-04.
    assert story.light("2026-06-03 11:59:59") == "green"
    assert story.light("2026-06-03 12:00:00") == "yellow"
    view = story.view("2026-06-04 23:59:59")
    assert (view["light"], view["deadline"]) == ("yellow", "2026-06-05T00:00:00+08:00")
    assert story.light("2026-06-05 00:00:00") == "red"


def test_zero_budget_has_no_yellow_phase_and_turns_red_at_the_end_of_the_day(
    engine: Engine,
) -> None:
    # SPEC §1: "0wd" = by the end of the start day -> deadline 24:00 of 6-01 = 6-02 00:00.
    # SPEC §3: red only "when the promised deadline has passed"; a zero budget has no yellow
    # phase; so green until 6-02 00:00, then red.
    story = Story(engine, item="ZERO")
    story.accepted("2026-06-01 10:00")
    view = story.view("2026-06-01 12:00")
    assert view["deadline"] == "2026-06-02T00:00:00+08:00"
    assert view["light"] == "green"
    assert story.light("2026-06-01 23:59:59") == "green"
    assert story.light("2026-06-02 00:00:00") == "red"
    assert "deadline_warning" not in story.kinds("2026-06-02 00:00:00")


def test_a_zero_budget_suspended_on_its_start_day_is_frozen_until_it_resumes(
    engine: Engine,
) -> None:
    # SPEC §3: a suspended case's time is frozen ("deadline is null until it resumes"). A 0wd
    # case suspended before its start day ends has nothing left on resuming: due at once.
    story = Story(engine, item="ZERO")
    story.accepted("2026-06-01 10:00")  # Monday; 0wd would end 6-02 00:00
    story.suspended("2026-06-01 11:00")
    assert story.light("2026-06-02 10:00") == "suspended"
    assert "deadline_overdue" not in story.kinds("2026-06-02 10:00")
    story.resumed("2026-06-03 09:00")
    view = story.view("2026-06-03 09:00")
    assert view["deadline"] == "2026-06-03T09:00:00+08:00" and view["light"] == "red"
    overdue = story.alert("2026-06-03 09:00", "deadline_overdue")
    assert overdue["fired_at"] == "2026-06-03T09:00:00+08:00"


def test_a_zero_budget_resumed_within_its_start_day_keeps_its_deadline(engine: Engine) -> None:
    story = Story(engine, item="ZERO")
    story.accepted("2026-06-01 10:00")
    story.suspended("2026-06-01 11:00")
    story.resumed("2026-06-01 15:00")
    assert story.view("2026-06-01 16:00")["deadline"] == "2026-06-02T00:00:00+08:00"


def test_zero_budget_alerts_at_the_end_of_the_start_day(engine: Engine) -> None:
    # The alert side of the rule above: overdue at 24:00 of 6-01, never a warning.
    story = Story(engine, item="ZERO")
    story.accepted("2026-06-01 10:00")
    assert story.kinds("2026-06-01 23:59:59") == []
    overdue = story.alert("2026-06-02 00:00:00", "deadline_overdue")
    assert overdue["fired_at"] == "2026-06-02T00:00:00+08:00"
    assert "deadline_warning" not in story.kinds("2026-06-02 12:00")
    # statutory 1wd: Tue 6-02 -> 24:00 of 6-02.
    assert story.view("2026-06-02 12:00")["statutory_deadline"] == "2026-06-03T00:00:00+08:00"


# -- suspended ------------------------------------------------------------------------------------


def test_suspended_light_freezes_remaining_and_hides_deadlines(story: Story) -> None:
    story.accepted("2026-09-28 10:00")
    story.suspended("2026-09-29 10:00", reason="hearing")
    view = story.view("2026-09-29 10:00")
    assert view["light"] == "suspended"
    assert view["deadline"] is None
    assert view["statutory_deadline"] is None
    assert view["remaining_s"] == 5 * WD - 10 * HOUR  # 9-29 00:00..10:00 used: 396 000
    later = story.view("2026-09-30 09:59:59")
    assert (later["light"], later["remaining_s"]) == ("suspended", 5 * WD - 10 * HOUR)
    story.resumed("2026-09-30 10:00")
    # Removed: 14 h of 9-29 + 10 h of 9-30 = 24 h = 1wd, so each deadline moves one working
    # day: promised 24:00 of 10-10 -> 24:00 of Mon 10-12; statutory 24:00 of 10-16 -> 10-19.
    view = story.view("2026-09-30 10:00")
    assert view["light"] == "green"
    assert view["deadline"] == "2026-10-13T00:00:00+08:00"
    assert view["statutory_deadline"] == "2026-10-20T00:00:00+08:00"
    assert view["remaining_s"] == 5 * WD - 10 * HOUR
    assert story.view("2026-09-30 12:00")["remaining_s"] == 5 * WD - 12 * HOUR


def test_suspension_past_the_yellow_instant_shows_suspended_not_yellow(story: Story) -> None:
    story.accepted("2026-09-28 10:00")
    story.suspended("2026-10-09 12:00", reason="testing")
    # Used 3.5wd at the pause: below the 4wd threshold; it would have turned yellow at
    # 10-10 00:00, but the clock is stopped.
    view = story.view("2026-10-12 09:00")
    assert (view["light"], view["remaining_s"]) == ("suspended", int(1.5 * WD))
    assert story.kinds("2026-10-12 09:00") == []


# -- closed cases ---------------------------------------------------------------------------------


def test_completed_case_keeps_its_deadlines_and_frozen_remaining(story: Story) -> None:
    story.accepted("2026-09-28 10:00")
    story.completed("2026-10-09 15:00")
    view = story.view("2026-10-20 09:00")
    assert view["status"] == "completed"
    assert view["light"] == "closed"
    assert view["deadline"] == "2026-10-11T00:00:00+08:00"
    assert view["statutory_deadline"] == "2026-10-17T00:00:00+08:00"
    # used at completion: 9-29, 9-30, 10-8 (3 × 86 400) + 15 h = 313 200; 432 000 − 313 200.
    assert view["remaining_s"] == 118_800
    assert (view["breached"], view["on_time"]) == (False, True)
    assert view["alerts"] == []


def test_closed_case_keeps_the_shifted_deadline_in_force_at_closing(story: Story) -> None:
    story.accepted("2026-09-28 10:00")
    story.suspended("2026-09-29 10:00", reason="inspection")
    story.resumed("2026-09-30 10:00")  # 1wd removed, as above
    story.completed("2026-10-12 16:00")
    view = story.view("2026-11-02 09:00")
    assert view["deadline"] == "2026-10-13T00:00:00+08:00"
    assert view["statutory_deadline"] == "2026-10-20T00:00:00+08:00"
    # yellow at 4wd used: 10 h (9-29) + 14 h (9-30) + 10-8 + 10-9 = 3wd, + 10-10 -> 24:00 of
    # 10-10; so the case was yellow, not red, when it closed.
    assert (view["breached"], view["on_time"]) == (False, True)


def test_overdue_case_has_negative_remaining_and_is_breached(engine: Engine) -> None:
    story = Story(engine, item="ONE")
    story.accepted("2026-06-01 10:00")  # deadline 6-03 00:00
    view = story.view("2026-06-03 10:00")
    assert view["light"] == "red"
    assert view["remaining_s"] == 86_400 - (86_400 + 10 * HOUR)  # −36 000
    assert view["breached"] is True
    assert view["on_time"] is None  # only a completed case has on_time (engine: null if open)
    story.completed("2026-06-03 12:00")
    view = story.view("2026-06-04 12:00")
    assert view["status"] == "completed"
    assert view["light"] == "closed"
    assert view["remaining_s"] == -12 * HOUR  # frozen at completion: 86 400 − 129 600
    assert (view["breached"], view["on_time"]) == (True, False)
    assert view["deadline"] == "2026-06-03T00:00:00+08:00"


@pytest.mark.parametrize(
    ("completed", "on_time"),
    [("2026-06-02 23:59:59", True), ("2026-06-03 00:00:00", False)],
)
def test_completion_one_second_before_or_at_the_deadline(
    engine: Engine, completed: str, on_time: bool
) -> None:
    # ONE accepted 6-01 10:00 -> deadline 6-03 00:00; red at the deadline instant itself.
    story = Story(engine, item="ONE")
    story.accepted("2026-06-01 10:00")
    story.completed(completed)
    view = story.view("2026-06-10 10:00")
    assert (view["on_time"], view["breached"]) == (on_time, not on_time)


def test_status_values(engine: Engine) -> None:
    submitted = Story(engine, case_id="S")
    submitted.submitted("2026-06-01 10:00")
    assert submitted.view("2026-06-01 11:00")["status"] == "submitted"

    opened = Story(engine, case_id="O")
    opened.accepted("2026-06-01 10:00")
    assert opened.view("2026-06-01 11:00")["status"] == "open"

    completed = Story(engine, case_id="C")
    completed.accepted("2026-06-01 10:00")
    completed.completed("2026-06-02 10:00")
    assert completed.view("2026-06-02 11:00")["status"] == "completed"

    rejected = Story(engine, case_id="R")
    rejected.submitted("2026-06-01 10:00")
    rejected.send("rejected", "2026-06-01 15:00", {"reason": "不属于本机关职权范围"})
    view = rejected.view("2026-06-02 11:00")
    assert (view["status"], view["light"], view["on_time"]) == ("rejected", "closed", None)

    withdrawn = Story(engine, case_id="W")
    withdrawn.accepted("2026-06-01 10:00")
    withdrawn.send("withdrawn", "2026-06-02 10:00", {"reason": "申请人撤回"})
    view = withdrawn.view("2026-06-02 11:00")
    assert (view["status"], view["light"]) == ("withdrawn", "closed")


# -- deemed acceptance (行政许可法 art. 32) and the intake clock -----------------------------------


def test_deemed_acceptance_starts_the_main_clocks_from_the_submission(engine: Engine) -> None:
    story = Story(engine, item="T10")  # 10wd / 20wd, intake default 5wd
    story.submitted("2026-09-21 10:00")  # Mon
    # intake 5wd: 9-22 (1), 9-23 (2), 9-24 (3), 9-25..9-27 off, 9-28 (4), 9-29 (5)
    # -> runs out at 24:00 of 9-29.
    view = story.view("2026-09-29 23:59:59")
    assert view["status"] == "submitted"
    assert view["alerts"] == []
    view = story.view("2026-09-30 00:00:00")
    assert view["status"] == "open"
    assert view["deemed_accepted"] is True
    assert view["accepted_at"] == "2026-09-21T10:00:00+08:00"
    # promised 10wd from 9-21: the 5 days above, 9-30 (6), 10-8 (7), 10-9 (8), 10-10 (9),
    # 10-12 (10) -> 24:00 of 10-12.
    assert view["deadline"] == "2026-10-13T00:00:00+08:00"
    # statutory 20wd: 10-13..10-16 (11..14), 10-19..10-23 (15..19), 10-26 (20).
    assert view["statutory_deadline"] == "2026-10-27T00:00:00+08:00"
    assert view["light"] == "green"  # 5wd of 10 used; yellow from 8wd
    intake = story.alert("2026-09-30 00:00:00", "intake_overdue")
    assert intake["fired_at"] == "2026-09-30T00:00:00+08:00"
    assert intake["status"] == "firing"
    # A case.accepted arriving later without limits changes no deadline ...
    story.accepted("2026-10-09 12:00")
    view = story.view("2026-10-09 12:00")
    assert view["deadline"] == "2026-10-13T00:00:00+08:00"
    assert view["accepted_at"] == "2026-09-21T10:00:00+08:00"
    assert view["light"] == "green"  # 7.5wd used
    # ... and yellow comes at 8wd used = 24:00 of 10-9.
    assert story.light("2026-10-10 00:00") == "yellow"


def test_deemed_acceptance_with_limits_given_at_the_later_acceptance(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-09-21 10:00")
    story.view("2026-10-08 09:00")  # deemed accepted at 9-30 00:00 meanwhile
    story.accepted("2026-10-09 12:00", promised="12wd")
    view = story.view("2026-10-09 12:00")
    # 12wd from the submission: ... 10-12 (10), 10-13 (11), 10-14 (12) -> 24:00 of 10-14.
    assert view["deadline"] == "2026-10-15T00:00:00+08:00"
    assert view["statutory_deadline"] == "2026-10-27T00:00:00+08:00"  # catalog's 20wd
    # yellow at 0.8 × 12 = 9.6wd: 9 days through 10-10, then 0.6 × 86 400 = 51 840 s
    # (14 h 24 min) of 10-12.
    assert story.light("2026-10-12 14:23:59") == "green"
    assert story.light("2026-10-12 14:24:00") == "yellow"


def test_deemed_acceptance_already_past_the_promised_deadline_is_red_at_once(
    story: Story,
) -> None:
    # T5: intake 5wd and promised 5wd from the same submission end at the same instant, so the
    # case is deemed accepted already overdue. (The SPEC does not say whether a warning is
    # raised for an instant; the engine goes straight to red without one.)
    story.submitted("2026-09-21 10:00")
    view = story.view("2026-09-30 00:00")
    assert view["light"] == "red"
    assert view["deadline"] == "2026-09-30T00:00:00+08:00"
    kinds = story.kinds("2026-09-30 00:00")
    assert sorted(kinds) == ["deadline_overdue", "intake_overdue"]


def test_correction_request_stops_the_intake_clock_and_resubmission_restarts_it(
    engine: Engine,
) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-09-21 10:00")
    story.send("correction_requested", "2026-09-22 15:00", {"materials": ["营业执照副本"]})
    story.submitted("2026-09-24 09:00")
    # Without the correction the intake would have run out at 9-30 00:00.
    view = story.view("2026-09-30 12:00")
    assert (view["status"], view["alerts"]) == ("submitted", [])
    # Restarted 9-24 (Thu): 9-25..9-27 off, 9-28 (1), 9-29 (2), 9-30 (3), 10-8 (4), 10-9 (5).
    assert story.kinds("2026-10-09 23:59:59") == []
    view = story.view("2026-10-10 00:00:00")
    assert (
        story.alert("2026-10-10 00:00:00", "intake_overdue")["fired_at"]
        == "2026-10-10T00:00:00+08:00"
    )
    # Deemed accepted on the day of *that* submission: 10wd from 9-24 = 9-28 (1) .. 10-9 (5),
    # 10-10 (6), 10-12 (7), 10-13 (8), 10-14 (9), 10-15 (10).
    assert view["accepted_at"] == "2026-09-24T09:00:00+08:00"
    assert view["deadline"] == "2026-10-16T00:00:00+08:00"


def test_intake_clock_stays_stopped_until_resubmission(engine: Engine) -> None:
    story = Story(engine, item="T10")
    story.submitted("2026-09-21 10:00")
    story.send("correction_requested", "2026-09-22 15:00")
    view = story.view("2026-12-01 09:00")
    assert (view["status"], view["alerts"]) == ("submitted", [])


def test_intake_limit_from_the_catalog_counts_the_make_up_sunday(engine: Engine) -> None:
    story = Story(engine, item="FAST-INTAKE")  # intake 1wd
    story.submitted("2026-09-18 10:00")  # Fri; Sat 9-19 off; Sun 9-20 make-up (1)
    assert story.kinds("2026-09-20 23:59:59") == []
    assert (
        story.alert("2026-09-21 00:00", "intake_overdue")["fired_at"] == "2026-09-21T00:00:00+08:00"
    )


# -- hours and natural days -----------------------------------------------------------------------


def test_hour_limits(engine: Engine) -> None:
    story = Story(engine, item="H24")  # 24h promised, 72h statutory
    story.accepted("2026-06-05 15:30")  # Fri
    view = story.view("2026-06-05 15:30")
    assert view["deadline"] == "2026-06-06T15:30:00+08:00"  # the weekend runs
    assert view["statutory_deadline"] == "2026-06-08T15:30:00+08:00"
    assert view["remaining_s"] == 24 * HOUR  # an h clock runs from the instant itself
    # yellow at 0.8 × 24 h = 19 h 12 min after 15:30 = 6-06 10:42.
    assert story.light("2026-06-06 10:41:59") == "green"
    assert story.light("2026-06-06 10:42:00") == "yellow"
    assert story.light("2026-06-06 15:29:59") == "yellow"
    assert story.light("2026-06-06 15:30:00") == "red"


def test_hour_limits_with_a_suspension(engine: Engine) -> None:
    story = Story(engine, item="H24")
    story.accepted("2026-06-05 15:30")
    story.suspended("2026-06-05 20:00", reason="testing")
    story.resumed("2026-06-06 08:00")  # 12 h removed
    view = story.view("2026-06-06 08:00")
    assert view["deadline"] == "2026-06-07T03:30:00+08:00"
    assert view["statutory_deadline"] == "2026-06-09T03:30:00+08:00"


def test_natural_day_limits_run_through_the_holiday(engine: Engine) -> None:
    story = Story(engine, item="D10")  # 10d / 20d
    story.accepted("2026-09-30 10:00")
    view = story.view("2026-09-30 10:00")
    # Runs from 10-01 00:00: 10 days -> 10-11 00:00; 20 days -> 10-21 00:00.
    assert view["deadline"] == "2026-10-11T00:00:00+08:00"
    assert view["statutory_deadline"] == "2026-10-21T00:00:00+08:00"
    # yellow at 8 days used = 10-09 00:00.
    assert story.light("2026-10-08 23:59:59") == "green"
    assert story.light("2026-10-09 00:00:00") == "yellow"
    assert story.light("2026-10-11 00:00:00") == "red"


# -- extensions -----------------------------------------------------------------------------------


def test_extensions_with_extension_max(engine: Engine) -> None:
    story = Story(engine, item="T10")  # 10wd / 20wd, extension_max 10wd
    story.accepted("2026-09-28 10:00")
    view = story.view("2026-09-28 10:00")
    # 10wd: 9-29, 9-30, 10-8, 10-9, 10-10, 10-12..10-16 -> 24:00 of 10-16.
    assert view["deadline"] == "2026-10-17T00:00:00+08:00"
    # 20wd: + 10-19..10-23, 10-26..10-30 -> 24:00 of 10-30.
    assert view["statutory_deadline"] == "2026-10-31T00:00:00+08:00"
    story.extended("2026-10-12 10:00", "5wd")
    view = story.view("2026-10-12 10:00")
    # promised 15wd: + 10-19..10-23 -> 24:00 of 10-23.
    assert view["deadline"] == "2026-10-24T00:00:00+08:00"
    # statutory 25wd (5 of the 10wd cap used): + 11-02..11-06 -> 24:00 of 11-06.
    assert view["statutory_deadline"] == "2026-11-07T00:00:00+08:00"
    story.extended("2026-10-13 10:00", "7wd")  # 12wd in total, 2 over the cap
    view = story.view("2026-10-13 10:00")
    # promised 22wd: 10-26..10-30 (16..20), 11-02 (21), 11-03 (22) -> 24:00 of 11-03.
    assert view["deadline"] == "2026-11-04T00:00:00+08:00"
    # statutory only up to the cap: 20 + 10 = 30wd: 11-09..11-13 (26..30) -> 24:00 of 11-13.
    assert view["statutory_deadline"] == "2026-11-14T00:00:00+08:00"
    assert view["extended"] == 12


def test_extensions_without_extension_max(engine: Engine) -> None:
    story = Story(engine, item="NOCAP")  # 5wd / 10wd, no cap
    story.accepted("2026-09-28 10:00")
    story.extended("2026-10-08 10:00", "3wd")
    view = story.view("2026-10-08 10:00")
    # promised 8wd: 24:00 of 10-10 (5), then 10-12 (6), 10-13 (7), 10-14 (8).
    assert view["deadline"] == "2026-10-15T00:00:00+08:00"
    # statutory 13wd: 24:00 of 10-16 (10), then 10-19 (11), 10-20 (12), 10-21 (13).
    assert view["statutory_deadline"] == "2026-10-22T00:00:00+08:00"
    assert "extension_exceeds_statutory" not in story.kinds("2026-10-08 10:00")


# -- provisional years ----------------------------------------------------------------------------


def test_case_inside_2026_is_not_provisional(story: Story) -> None:
    story.accepted("2026-09-28 10:00")
    assert story.view("2026-09-28 10:00")["calendar_provisional"] is False


def test_case_in_2027_is_provisional(story: Story) -> None:
    story.accepted("2027-03-01 10:00")
    assert story.view("2027-03-01 10:00")["calendar_provisional"] is True


def test_case_crossing_into_2027_is_provisional(story: Story) -> None:
    story.accepted("2026-12-28 10:00")  # Mon
    view = story.view("2026-12-28 10:00")
    # 12-29 (1), 12-30 (2), 12-31 (3), 2027-01-01 off by the provisional rule (元旦),
    # 1-2, 1-3 weekend, 1-4 (4), 1-5 (5) -> 24:00 of 2027-01-05.
    assert view["deadline"] == "2027-01-06T00:00:00+08:00"
    assert view["calendar_provisional"] is True


def test_deadlines_ending_at_24_00_of_2026_12_31_are_not_provisional(engine: Engine) -> None:
    story = Story(engine, item="ONE")  # 1wd / 2wd
    story.accepted("2026-12-29 10:00")
    view = story.view("2026-12-29 10:00")
    assert view["deadline"] == "2026-12-31T00:00:00+08:00"  # 12-30
    assert view["statutory_deadline"] == "2027-01-01T00:00:00+08:00"  # 12-30, 12-31
    # Only 2026 days were counted: 24:00 of 12-31 depends on no 2027 day.
    assert view["calendar_provisional"] is False


def test_operator_year_file_makes_2027_official(catalog_path: Path, year_2027: Path) -> None:
    engine = Engine(ConfigFiles(catalog_path, calendars=(year_2027,)).load())
    story = Story(engine)
    story.accepted("2027-02-01 10:00")  # Mon
    view = story.view("2027-02-01 10:00")
    # Official (test) schedule: 2-02 (1), 2-03 (2), 2-04 (3), 2-05..2-13 off, Sun 2-14,
    # 2-15 (4), 2-16 (5) -> 24:00 of 2-16.
    assert view["deadline"] == "2027-02-17T00:00:00+08:00"
    # statutory 10wd: 2-17 (6), 2-18 (7), 2-19 (8), make-up Sat 2-20 (9), 2-22 (10).
    assert view["statutory_deadline"] == "2027-02-23T00:00:00+08:00"
    assert view["calendar_provisional"] is False


def test_reload_with_the_official_year_recomputes_an_open_case(
    engine: Engine, catalog_path: Path, year_2027: Path
) -> None:
    story = Story(engine)
    story.accepted("2027-02-01 10:00")
    view = story.view("2027-02-01 10:00")
    # Provisional rule (2024 放假办法): 除夕 2-05 (Fri), 春节 2-06..2-08 off, nothing made up:
    # 2-02 (1), 2-03 (2), 2-04 (3), 2-09 (4), 2-10 (5) -> 24:00 of 2-10.
    assert view["deadline"] == "2027-02-11T00:00:00+08:00"
    # statutory: 2-11 (6), 2-12 (7), 2-15 (8), 2-16 (9), 2-17 (10) -> 24:00 of 2-17.
    assert view["statutory_deadline"] == "2027-02-18T00:00:00+08:00"
    assert view["calendar_provisional"] is True
    # By 2-12 12:00 the provisional deadline has passed: red, overdue alert raised.
    assert story.view("2027-02-12 12:00")["light"] == "red"
    changes = engine.reload(ConfigFiles(catalog_path, calendars=(year_2027,)).load())
    view = story.view("2027-02-12 12:00")
    assert view["deadline"] == "2027-02-17T00:00:00+08:00"
    assert view["statutory_deadline"] == "2027-02-23T00:00:00+08:00"
    assert view["calendar_provisional"] is False
    # Official: 3wd used by 2-12 12:00 (2-05..2-13 off) -> green, not breached.
    assert (view["light"], view["breached"]) == ("green", False)
    overdue = [a for a in view["alerts"] if a["kind"] == "deadline_overdue"]
    assert [(a["fired_at"], a["status"], a["resolution"]) for a in overdue] == [
        ("2027-02-11T00:00:00+08:00", "resolved", "corrected")
    ]
    assert {(a.kind.value, a.resolution.value if a.resolution else None) for a in changes} >= {
        ("deadline_overdue", "corrected")
    }


def test_reload_keeps_config_for_closed_cases(
    engine: Engine, catalog_path: Path, year_2027: Path
) -> None:
    # A case closed in 2026 is untouched by a 2027 file: same deadline after the reload.
    story = Story(engine)
    story.accepted("2026-09-28 10:00")
    story.completed("2026-10-09 10:00")
    before = story.view("2026-10-09 10:00")
    engine.reload(ConfigFiles(catalog_path, calendars=(year_2027,)).load())
    assert story.view("2026-10-09 10:00") == before


def test_config_fixture_has_no_2027(config: Config) -> None:
    # Guard for the provisional tests above: the shipped data stops at 2026.
    assert config.calendars.get("cn").is_provisional(2027)


# -- extension while suspended, hour extensions, centre settings ----------------------------------


def test_extension_while_suspended(story: Story) -> None:
    story.accepted("2026-09-28 10:00")  # T5, cap 5wd
    story.suspended("2026-09-30 12:00", reason="hearing")
    story.extended("2026-10-05 10:00", "1wd")
    view = story.view("2026-10-05 10:00")
    assert (view["light"], view["deadline"]) == ("suspended", None)
    # used 36 h (9-29 + 12 h of 9-30); budget 6wd = 144 h -> 108 h left, frozen.
    assert view["remaining_s"] == 108 * HOUR
    story.resumed("2026-10-08 12:00")
    view = story.view("2026-10-08 12:00")
    # 108 h from 10-8 12:00: 12 h -> 96, 10-9 -> 72, 10-10 -> 48, 10-12 -> 24, 10-13 -> 0.
    assert view["deadline"] == "2026-10-14T00:00:00+08:00"
    # statutory 11wd = 264 h, 228 h left: 12 h (10-8), 10-9, 10-10, 10-12..10-16, 10-19,
    # 10-20 -> 24:00 of 10-20.
    assert view["statutory_deadline"] == "2026-10-21T00:00:00+08:00"


def test_hour_extension_of_an_hour_case(engine: Engine) -> None:
    story = Story(engine, item="H24")
    story.accepted("2026-06-05 15:30")
    story.extended("2026-06-06 09:00", "12h")
    view = story.view("2026-06-06 09:00")
    assert view["deadline"] == "2026-06-07T03:30:00+08:00"  # 6-06 15:30 + 12 h
    assert view["statutory_deadline"] == "2026-06-09T03:30:00+08:00"  # 6-08 15:30 + 12 h
    assert view["extended"] == 12


def test_extension_in_another_unit_family_is_a_violation(engine: Engine) -> None:
    # SPEC §1: `by` is a limit "in the same unit family as the case". The contract check needs
    # the case, so the engine does not refuse the event: it ignores the extension and raises a
    # procedure violation (an engine decision; the SPEC does not say which).
    story = Story(engine, item="T10")
    story.accepted("2026-06-01 10:00")
    story.extended("2026-06-02 10:00", "24h")
    view = story.view("2026-06-02 10:00")
    assert view["deadline"] == "2026-06-16T00:00:00+08:00"  # 10wd: 6-02..6-05, 6-08..6-12, 6-15
    assert [a["kind"] for a in view["alerts"]] == ["procedure_violation"]


def test_center_time_zone_sets_the_start_day_and_the_output(
    catalog_path: Path, tmp_path: Path
) -> None:
    centers = tmp_path / "centres.yaml"
    centers.write_text(
        "centers:\n  - code: XJ\n    name: 乌鲁木齐市政务服务中心\n    timezone: Asia/Urumqi\n",
        encoding="utf-8",
    )
    engine = Engine(ConfigFiles(catalog_path, centers=centers).load())
    story = Story(engine, center="XJ")
    # 23:30 in Beijing is 21:30 in Urumqi (+06:00): the start day is still 9-28 there, so
    # the SPEC example holds in local time: 24:00 of 10-10, Urumqi time.
    story.send("accepted", "2026-09-28 23:30")
    view = story.view("2026-09-29 00:00")
    assert view["deadline"] == "2026-10-11T00:00:00+06:00"
    assert view["accepted_at"] == "2026-09-28T21:30:00+06:00"


def test_policy_threshold_for_a_center(catalog_path: Path, tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("yellow_at:\n  centers:\n    C2: 0.5\n", encoding="utf-8")
    engine = Engine(ConfigFiles(catalog_path, policy=policy).load())
    story = Story(engine, center="C2")  # T5 at centre C2
    story.accepted("2026-09-28 10:00")
    # 0.5 × 5wd = 2.5wd: 9-29, 9-30, 12 h of 10-8.
    assert story.light("2026-10-08 11:59:59") == "green"
    assert story.light("2026-10-08 12:00:00") == "yellow"


def test_fractional_threshold_turns_yellow_at_the_first_whole_second(
    catalog_path: Path, tmp_path: Path
) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("yellow_at:\n  items:\n    H24: 0.333\n", encoding="utf-8")
    engine = Engine(ConfigFiles(catalog_path, policy=policy).load())
    story = Story(engine, item="H24")
    story.accepted("2026-06-05 15:30:00")
    # 0.333 × 86 400 s = 28 771.2 s: used reaches it during the second 28 771 -> 28 772, so
    # the first instant with used ≥ threshold is 28 772 s = 7 h 59 min 32 s after 15:30:00.
    assert story.light("2026-06-05 23:29:31") == "green"
    assert story.light("2026-06-05 23:29:32") == "yellow"


def test_natural_day_case_in_2027_does_not_depend_on_the_calendar(engine: Engine) -> None:
    story = Story(engine, item="D10")
    story.accepted("2027-03-01 10:00")
    view = story.view("2027-03-01 10:00")
    assert view["deadline"] == "2027-03-12T00:00:00+08:00"  # 3-02 .. 3-11
    assert view["calendar_provisional"] is False  # no working-day count involved


def test_case_object_has_the_replay_fields(story: Story) -> None:
    story.accepted("2026-09-28 10:00")
    view = story.view("2026-10-11 00:00")  # red: warning and overdue raised
    assert set(view) >= SPEC_CASE_FIELDS
    assert view["alerts"]
    for alert in view["alerts"]:
        assert {"kind", "severity", "fired_at", "status", "resolved_at", "resolution"} <= set(alert)


def test_case_completed_while_suspended_keeps_null_deadlines(story: Story) -> None:
    # SPEC §3: a closed case keeps the deadlines "in force when it closed"; while suspended
    # the deadline is null, so the engine keeps null (the SPEC does not say otherwise).
    story.accepted("2026-09-28 10:00")
    story.suspended("2026-09-29 10:00", reason="appraisal")
    story.completed("2026-10-09 10:00")
    view = story.view("2026-10-20 10:00")
    assert (view["status"], view["light"]) == ("completed", "closed")
    assert (view["deadline"], view["statutory_deadline"]) == (None, None)
    assert view["remaining_s"] == 5 * WD - 10 * HOUR  # frozen at the suspension
    assert (view["breached"], view["on_time"]) == (False, True)
