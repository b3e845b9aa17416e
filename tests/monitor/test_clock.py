"""Deadlines of single clocks (SPEC §3) on the real 2026 Chinese calendar.

Every expectation is counted by hand from the SPEC rules: the start day is not counted, a ``wd``
or ``d`` clock runs from 00:00 of the next local day, an ``h`` clock from the instant itself; a
working day contributes 86 400 s; the deadline is the first instant ``used`` reaches the budget,
so "24:00 of the N-th working day" is written as 00:00 of the next day.

2026 days that matter (cn-2026.yaml):
  Spring Festival: 2-15 (Sun) .. 2-23 (Mon) off; make-up Saturdays 2-14 and 2-28.
  Mid-Autumn: 9-25 (Fri) .. 9-27 off.  National Day: 10-1 (Thu) .. 10-7 (Wed) off;
  make-up Sunday 9-20 and Saturday 10-10.
"""

from __future__ import annotations

import pytest
from timeline import at

from monitor.clock import Clock, Timelines
from monitor.limits import parse_limit
from monitor.timeutil import parse_instant, zone

BEIJING = zone("Asia/Shanghai")
HOUR = 3_600
WD = 86_400


def clock(timelines: Timelines, start: str, limit: str) -> Clock:
    """A clock started at a Beijing local time, as `redline deadline` builds it."""
    budget = parse_limit(limit)
    return Clock(timelines[budget.unit], budget, at(start))


def deadline(c: Clock) -> str | None:
    return None if c.deadline is None else BEIJING.format(c.deadline)


# -- the SPEC example and the start-day rule ------------------------------------------------------


def test_spec_example_5wd_over_national_day(timelines: Timelines) -> None:
    # 9-28 (Mon) is the start day, not counted. Working days: 9-29 (1), 9-30 (2),
    # 10-1..10-7 holidays, 10-8 (3), 10-9 (4), 10-10 make-up Saturday (5) -> 24:00 of 10-10.
    assert deadline(clock(timelines, "2026-09-28 10:00", "5wd")) == "2026-10-11T00:00:00+08:00"


@pytest.mark.parametrize(
    "start", ["2026-06-01 00:00:00", "2026-06-01 10:00", "2026-06-01 23:59:59"]
)
def test_wd_start_day_not_counted_whatever_the_hour(timelines: Timelines, start: str) -> None:
    # Start day Mon 6-01 never counts, even from 00:00:00; 1wd = Tue 6-02 -> 24:00 of 6-02.
    assert deadline(clock(timelines, start, "1wd")) == "2026-06-03T00:00:00+08:00"


@pytest.mark.parametrize("start", ["2026-06-01 00:00:00", "2026-06-01 23:59:59"])
def test_d_start_day_not_counted_whatever_the_hour(timelines: Timelines, start: str) -> None:
    # 1d: runs from 6-02 00:00 for 86 400 s -> 6-03 00:00.
    assert deadline(clock(timelines, start, "1d")) == "2026-06-03T00:00:00+08:00"


def test_start_day_is_the_center_local_day(timelines: Timelines) -> None:
    # 2026-09-28T16:30Z is 9-29 00:30 in Beijing: the start day is 9-29, so 5wd are
    # 9-30 (1), 10-8 (2), 10-9 (3), 10-10 (4), 10-12 Mon (5) -> 10-13 00:00.
    budget = parse_limit("5wd")
    c = Clock(timelines[budget.unit], budget, parse_instant("2026-09-28T16:30:00Z"))
    assert deadline(c) == "2026-10-13T00:00:00+08:00"
    # 15:59:59Z is 9-28 23:59:59 local: still the SPEC example's start day.
    c = Clock(timelines[budget.unit], budget, parse_instant("2026-09-28T15:59:59Z"))
    assert deadline(c) == "2026-10-11T00:00:00+08:00"


# -- hours run from the instant itself, through nights, weekends and holidays ---------------------


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        # 10:00 + 24 h = next day 10:00 (not the next midnight).
        ("2026-06-01 10:00", "24h", "2026-06-02T10:00:00+08:00"),
        # Fri 6-05 15:30 + 72 h = Mon 6-08 15:30: the weekend runs.
        ("2026-06-05 15:30", "72h", "2026-06-08T15:30:00+08:00"),
        # 9-30 18:00 + 24 h = 10-01 18:00: the National Day holiday runs too.
        ("2026-09-30 18:00", "24h", "2026-10-01T18:00:00+08:00"),
        # 1 h from 23:30 crosses midnight; seconds are kept.
        ("2026-06-01 23:30:15", "1h", "2026-06-02T00:30:15+08:00"),
        # 0 h: due at the start instant itself.
        ("2026-06-01 10:00", "0h", "2026-06-01T10:00:00+08:00"),
    ],
)
def test_hour_limits(timelines: Timelines, start: str, limit: str, expected: str) -> None:
    assert deadline(clock(timelines, start, limit)) == expected


# -- 0wd / 0d: by the end of the start day (即办件) ----------------------------------------------


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        ("2026-06-01 10:00", "0wd", "2026-06-02T00:00:00+08:00"),  # Mon: 24:00 of 6-01
        ("2026-06-01 10:00", "0d", "2026-06-02T00:00:00+08:00"),
        ("2026-06-01 23:59:59", "0wd", "2026-06-02T00:00:00+08:00"),
        # On a holiday the start day is still the day the budget ends (nothing to count).
        ("2026-10-02 09:00", "0wd", "2026-10-03T00:00:00+08:00"),
    ],
)
def test_zero_limit_ends_with_the_start_day(
    timelines: Timelines, start: str, limit: str, expected: str
) -> None:
    assert deadline(clock(timelines, start, limit)) == expected


# -- starts on days off ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        # Sat 6-06: start day not counted; Sun 6-07 off; Mon 6-08 (1) -> 6-09 00:00.
        ("2026-06-06 10:00", "1wd", "2026-06-09T00:00:00+08:00"),
        # Sat 10-03 (holiday): 10-4..10-7 off; 10-8 (1), 10-9 (2), 10-10 make-up Sat (3).
        ("2026-10-03 10:00", "3wd", "2026-10-11T00:00:00+08:00"),
        # Fri 9-25 is a Mid-Autumn holiday: 9-26, 9-27 off; 9-28 (1), 9-29 (2).
        ("2026-09-25 10:00", "2wd", "2026-09-30T00:00:00+08:00"),
        # Start on the make-up Saturday 10-10 itself: not counted; Sun 10-11 off;
        # Mon 10-12 (1) -> 10-13 00:00.
        ("2026-10-10 10:00", "1wd", "2026-10-13T00:00:00+08:00"),
        # Start on the make-up Sunday 9-20: 9-21 (1), 9-22 (2), 9-23 (3).
        ("2026-09-20 10:00", "3wd", "2026-09-24T00:00:00+08:00"),
        # Natural days ignore the holiday: 9-30 + 10d runs 10-1..10-10 -> 10-11 00:00.
        ("2026-09-30 10:00", "10d", "2026-10-11T00:00:00+08:00"),
    ],
)
def test_start_on_a_day_off(timelines: Timelines, start: str, limit: str, expected: str) -> None:
    assert deadline(clock(timelines, start, limit)) == expected


def test_make_up_sunday_counts_as_a_working_day(timelines: Timelines) -> None:
    # Fri 9-18 start: Sat 9-19 off, Sun 9-20 make-up (1) -> 24:00 of 9-20.
    assert deadline(clock(timelines, "2026-09-18 10:00", "1wd")) == "2026-09-21T00:00:00+08:00"


# -- Spring Festival 2026 and both make-up Saturdays ----------------------------------------------


@pytest.mark.parametrize(
    ("start", "limit", "expected"),
    [
        # Thu 2-12: 2-13 (1), Sat 2-14 make-up (2) -> 24:00 of 2-14.
        ("2026-02-12 10:00", "2wd", "2026-02-15T00:00:00+08:00"),
        # Fri 2-13: 2-14 (1), 2-15..2-23 off, 2-24 (2), 2-25 (3), 2-26 (4), 2-27 (5).
        ("2026-02-13 10:00", "5wd", "2026-02-28T00:00:00+08:00"),
        # ... and a 6th working day is the make-up Saturday 2-28.
        ("2026-02-13 10:00", "6wd", "2026-03-01T00:00:00+08:00"),
        # Thu 2-12: 2-13 (1), 2-14 (2), 2-24 (3), 2-25 (4), 2-26 (5), 2-27 (6), 2-28 (7):
        # both make-up Saturdays counted.
        ("2026-02-12 10:00", "7wd", "2026-03-01T00:00:00+08:00"),
        # Start inside the holiday, Wed 2-18: 2-24 (1) .. 2-27 (4), 2-28 (5).
        ("2026-02-18 10:00", "5wd", "2026-03-01T00:00:00+08:00"),
        # Natural days run through the festival: 2-13 + 20d runs 2-14..3-05 -> 3-06 00:00.
        ("2026-02-13 10:00", "20d", "2026-03-06T00:00:00+08:00"),
    ],
)
def test_spring_festival(timelines: Timelines, start: str, limit: str, expected: str) -> None:
    assert deadline(clock(timelines, start, limit)) == expected


def test_20wd_across_national_day(timelines: Timelines) -> None:
    # 9-28 start. 9-29 (1), 9-30 (2), 10-8 (3), 10-9 (4), 10-10 (5), 10-12..10-16 (6..10),
    # 10-19..10-23 (11..15), 10-26..10-30 (16..20) -> 24:00 of Fri 10-30.
    assert deadline(clock(timelines, "2026-09-28 10:00", "20wd")) == "2026-10-31T00:00:00+08:00"


def test_20wd_across_spring_festival(timelines: Timelines) -> None:
    # Mon 2-02 start. 2-03..2-06 (1..4), 2-09..2-13 (5..9), Sat 2-14 (10), 2-24..2-27
    # (11..14), Sat 2-28 (15), 3-02..3-06 (16..20) -> 24:00 of Fri 3-06.
    assert deadline(clock(timelines, "2026-02-02 10:00", "20wd")) == "2026-03-07T00:00:00+08:00"


# -- suspensions: the deadline shifts by exactly the running time removed -------------------------


def test_pause_inside_one_day(timelines: Timelines) -> None:
    # 1wd from Mon 6-01 10:00 -> 6-03 00:00. Paused Tue 6-02 10:00..14:00: 4 h of running
    # time removed, so the budget ends 4 h into the next working day, Wed 6-03 04:00.
    c = clock(timelines, "2026-06-01 10:00", "1wd")
    c.pause(at("2026-06-02 10:00"))
    c.resume(at("2026-06-02 14:00"))
    assert deadline(c) == "2026-06-03T04:00:00+08:00"
    assert c.used_at(at("2026-06-02 14:00")) == 10 * HOUR  # 00:00..10:00 of 6-02


def test_pause_across_days(timelines: Timelines) -> None:
    # SPEC example (deadline 10-11 00:00). Paused 9-29 18:00 .. 9-30 09:00: removed
    # 6 h (9-29) + 9 h (9-30) = 15 h. Used at pause 18 h, left 102 h; from 9-30 09:00:
    # 15 h (9-30) -> 87, 10-8 -> 63, 10-9 -> 39, 10-10 -> 15, Sun 10-11 off, Mon 10-12 15:00.
    c = clock(timelines, "2026-09-28 10:00", "5wd")
    c.pause(at("2026-09-29 18:00"))
    assert c.deadline is None  # budget left and paused: no deadline
    c.resume(at("2026-09-30 09:00"))
    assert deadline(c) == "2026-10-12T15:00:00+08:00"


def test_pause_across_the_holiday_removes_only_working_time(timelines: Timelines) -> None:
    # Paused 9-30 12:00 .. 10-08 12:00: removed 12 h (9-30) + 0 (10-1..10-7) + 12 h (10-8)
    # = 24 h. Used at pause 24 + 12 = 36 h, left 84 h; from 10-8 12:00: 12 h -> 72,
    # 10-9 -> 48, 10-10 -> 24, 10-12 -> 0 at 24:00 of 10-12.
    c = clock(timelines, "2026-09-28 10:00", "5wd")
    c.pause(at("2026-09-30 12:00"))
    c.resume(at("2026-10-08 12:00"))
    assert deadline(c) == "2026-10-13T00:00:00+08:00"


def test_pause_entirely_on_holidays_changes_nothing(timelines: Timelines) -> None:
    c = clock(timelines, "2026-09-28 10:00", "5wd")
    c.pause(at("2026-10-02 09:00"))
    c.resume(at("2026-10-05 17:00"))
    assert deadline(c) == "2026-10-11T00:00:00+08:00"


def test_pause_of_an_hour_clock_shifts_by_wall_time(timelines: Timelines) -> None:
    # 24 h from 6-05 15:30 -> 6-06 15:30; paused 20:00 .. 08:00 next day (12 h) -> 6-07 03:30.
    c = clock(timelines, "2026-06-05 15:30", "24h")
    c.pause(at("2026-06-05 20:00"))
    c.resume(at("2026-06-06 08:00"))
    assert deadline(c) == "2026-06-07T03:30:00+08:00"


def test_pause_on_the_start_day_before_the_clock_runs_changes_nothing(
    timelines: Timelines,
) -> None:
    # A wd clock started 9-28 10:00 runs from 9-29 00:00: a pause 14:00..16:00 on 9-28
    # removes no running time.
    c = clock(timelines, "2026-09-28 10:00", "5wd")
    c.pause(at("2026-09-28 14:00"))
    c.resume(at("2026-09-28 16:00"))
    assert deadline(c) == "2026-10-11T00:00:00+08:00"
    assert c.used_at(at("2026-09-29 00:00")) == 0


def test_pause_from_the_start_day_into_the_first_running_day(timelines: Timelines) -> None:
    # Paused 9-28 14:00 .. 9-29 10:00: only 9-29 00:00..10:00 was running time (10 h).
    # The SPEC deadline 24:00 of 10-10 shifts by 10 h into Mon 10-12 -> 10-12 10:00.
    c = clock(timelines, "2026-09-28 10:00", "5wd")
    c.pause(at("2026-09-28 14:00"))
    c.resume(at("2026-09-29 10:00"))
    assert deadline(c) == "2026-10-12T10:00:00+08:00"


def test_two_pauses_add_up(timelines: Timelines) -> None:
    # 1wd from 6-01 10:00 (-> 6-03 00:00). Paused 6-02 08:00..09:00 (1 h) and
    # 6-02 20:00 .. 6-03 02:00 (4 h + 2 h = 6 h): 7 h removed -> 6-03 07:00.
    c = clock(timelines, "2026-06-01 10:00", "1wd")
    c.pause(at("2026-06-02 08:00"))
    c.resume(at("2026-06-02 09:00"))
    c.pause(at("2026-06-02 20:00"))
    c.resume(at("2026-06-03 02:00"))
    assert deadline(c) == "2026-06-03T07:00:00+08:00"


def test_extension_while_paused(timelines: Timelines) -> None:
    # As the holiday pause above (-> 10-13 00:00), with +1wd granted while paused: 36 h used,
    # 144 - 36 = 108 h left from 10-8 12:00: 12 h -> 96, 10-9 -> 72, 10-10 -> 48,
    # 10-12 -> 24, 10-13 -> 0 at 24:00 of 10-13.
    c = clock(timelines, "2026-09-28 10:00", "5wd")
    c.pause(at("2026-09-30 12:00"))
    c.extend(WD)
    assert c.deadline is None
    assert c.remaining_at(at("2026-10-05 00:00")) == 108 * HOUR
    c.resume(at("2026-10-08 12:00"))
    assert deadline(c) == "2026-10-14T00:00:00+08:00"


def test_deadline_passed_before_a_pause_stays_where_it_was(timelines: Timelines) -> None:
    # 1wd from 6-01 10:00 -> 6-03 00:00; paused when overdue, 6-04 10:00, then resumed.
    c = clock(timelines, "2026-06-01 10:00", "1wd")
    c.pause(at("2026-06-04 10:00"))
    assert deadline(c) == "2026-06-03T00:00:00+08:00"
    # used: 6-02 (24 h) + 6-03 (24 h) + 10 h = 58 h; remaining 24 - 58 = -34 h.
    assert c.remaining_at(at("2026-06-05 10:00")) == -34 * HOUR
    c.resume(at("2026-06-05 09:00"))
    assert deadline(c) == "2026-06-03T00:00:00+08:00"


def test_used_and_remaining_are_counted_to_the_second(timelines: Timelines) -> None:
    # SPEC example: at 10-08 00:00:01 the days 9-29, 9-30 are used (172 800 s) plus 1 s.
    c = clock(timelines, "2026-09-28 10:00", "5wd")
    assert c.used_at(at("2026-10-08 00:00:01")) == 2 * WD + 1
    assert c.remaining_at(at("2026-10-08 00:00:01")) == 3 * WD - 1
    # The whole of 10-1..10-7 adds nothing.
    assert c.used_at(at("2026-10-07 23:59:59")) == 2 * WD
