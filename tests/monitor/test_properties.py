"""Property-based tests: the rules that must compose, checked on generated histories."""

from __future__ import annotations

import random
from typing import Any

import pytest
from history_strategies import (
    CONFIG,
    NOW_OFFSET,
    PROPERTY_SETTINGS,
    SHANGHAI,
    START_2025,
    histories,
)
from hypothesis import example, given
from hypothesis import strategies as st

from monitor.calendar import load_calendars
from monitor.casetypes import ORDER
from monitor.caseview import case_view
from monitor.clock import Clock, Timelines
from monitor.engine import Engine
from monitor.events import parse_event
from monitor.limits import Limit, Unit

TIMELINES = Timelines(SHANGHAI, load_calendars().get("cn"))
SPAN = 3 * 365 * 86_400  # into 2027, so provisional days are exercised too

instants = st.integers(min_value=START_2025, max_value=START_2025 + SPAN)
units = st.sampled_from(list(Unit))


def deadline(limit: Limit, start: int) -> int:
    clock = Clock(TIMELINES[limit.unit], limit, start)
    assert clock.deadline is not None
    return clock.deadline


@given(start=instants, unit=units, a=st.integers(0, 400), b=st.integers(0, 400))
def test_deadline_is_monotone_in_the_budget(start: int, unit: Unit, a: int, b: int) -> None:
    low, high = sorted((a, b))
    first, second = deadline(Limit(low, unit), start), deadline(Limit(high, unit), start)
    assert first <= second
    if low < high:
        assert first < second


@given(start=instants, unit=units, amount=st.integers(0, 60))
def test_deadline_uses_exactly_the_budget(start: int, unit: Unit, amount: int) -> None:
    limit = Limit(amount, unit)
    clock = Clock(TIMELINES[unit], limit, start)
    end = clock.deadline
    assert end is not None and end >= start
    assert clock.used_at(end) == limit.seconds
    if amount:
        assert clock.used_at(end - 1) < limit.seconds  # the *first* instant the budget is reached


@given(
    start=instants,
    unit=units,
    amount=st.integers(1, 60),
    pause_after=st.integers(0, 40 * 86_400),
    pause_for=st.integers(0, 20 * 86_400),
)
def test_a_suspension_shifts_the_deadline_by_the_running_time_it_removed(
    start: int, unit: Unit, amount: int, pause_after: int, pause_for: int
) -> None:
    limit = Limit(amount, unit)
    timeline = TIMELINES[unit]
    plain = deadline(limit, start)
    paused_at, resumed_at = start + pause_after, start + pause_after + pause_for
    clock = Clock(timeline, limit, start)
    clock.pause(paused_at)
    clock.resume(resumed_at)
    shifted = clock.deadline
    assert shifted is not None
    if paused_at >= plain:
        assert shifted == plain  # suspended after the deadline: it stays where it was
        return
    removed = timeline.count(max(resumed_at, clock.run_from)) - timeline.count(
        max(paused_at, clock.run_from)
    )
    assert timeline.count(shifted) - timeline.count(plain) == removed
    if unit is not Unit.WORKING_DAYS:
        assert shifted - plain == removed  # every second runs: the wall-clock shift is the same


def engine() -> Engine:
    return Engine(CONFIG)


def settle(view: dict[str, Any]) -> dict[str, Any]:
    """A view without the alerts that only the arrival order produced (resolved as corrected)."""
    alerts = [a for a in view["alerts"] if a["resolution"] != "corrected"]
    return {**view, "alerts": sorted(alerts, key=lambda a: a["id"])}


def run(events: list[dict[str, Any]], now: int, ticks: list[int] | None = None) -> Engine:
    subject = engine()
    for index, raw in enumerate(events):
        result = subject.offer(parse_event(raw))
        assert not result.refused, result.errors
        if ticks is not None and index < len(ticks) and "P-1" in subject.cases:
            subject.advance("P-1", ticks[index])
    subject.advance("P-1", now)
    return subject


@PROPERTY_SETTINGS
@given(events=histories(), seed=st.randoms(use_true_random=False))
def test_a_shuffled_history_gives_the_same_case(
    events: list[dict[str, Any]], seed: random.Random
) -> None:
    if not events:
        return
    now = START_2025 + 3 * 365 * 86_400 + NOW_OFFSET
    in_order = run(events, now).view("P-1", now)
    shuffled = list(events)
    seed.shuffle(shuffled)
    assert settle(run(shuffled, now).view("P-1", now)) == settle(in_order)


@PROPERTY_SETTINGS
@given(events=histories(), data=st.data())
def test_incremental_equals_full_recompute(
    events: list[dict[str, Any]], data: st.DataObject
) -> None:
    if not events:
        return
    now = START_2025 + 3 * 365 * 86_400 + NOW_OFFSET
    # In event-time order (ties within a second by type order), timers firing between events
    # but never past the next one, as the workers' timers do.
    parsed = sorted(
        (parse_event(e) for e in events), key=lambda e: (e.occurred_at, ORDER[e.type], e.event_id)
    )
    events = [e.model_dump(mode="json") for e in parsed]
    times = [e.occurred_at for e in parsed]
    ticks = [data.draw(st.integers(times[i], times[i + 1])) for i in range(len(times) - 1)]
    incremental = run(events, now, ticks)
    case = incremental.cases["P-1"]
    before = case_view(case, now)
    assert all(a["resolution"] != "corrected" for a in before["alerts"])
    case.recompute()
    assert case_view(case, now) == before


# submitted on a holiday, extended later: the extension leaves a warning due at the case's own
# time, so next_change is that instant and there is no "before" to look at (a case's clock never
# runs back); found by CI
DUE_AT_ITS_OWN_TIME = [
    {
        "event_id": "e0",
        "type": "case.submitted",
        "case_id": "P-1",
        "occurred_at": "2025-01-01T00:00:00+08:00",
        "source": "prop",
        "center": "GZ",
        "item_code": "BIZ-REG",
    },
    {
        "event_id": "e1",
        "type": "case.resumed",
        "case_id": "P-1",
        "occurred_at": "2025-01-01T00:00:00+08:00",
        "source": "prop",
    },
    {
        "event_id": "e2",
        "type": "case.resumed",
        "case_id": "P-1",
        "occurred_at": "2025-01-03T00:00:00+08:00",
        "source": "prop",
    },
    {
        "event_id": "e3",
        "type": "case.extended",
        "case_id": "P-1",
        "occurred_at": "2025-01-09T00:00:00+08:00",
        "source": "prop",
        "data": {"by": "5wd", "approved_by": "x"},
    },
]


@PROPERTY_SETTINGS
@given(events=histories())
@example(events=DUE_AT_ITS_OWN_TIME)
def test_next_change_is_when_something_changes(events: list[dict[str, Any]]) -> None:
    if not events:
        return
    subject = run(events, 0)
    case = subject.cases["P-1"]
    case.take_changes()  # what the events themselves changed
    for _ in range(6):
        due = case.next_change()
        if due is None:
            return
        assert due >= case.time, "next_change is never before the case's own time"
        if due > case.time:
            case.advance(due - 1)
            assert not case.take_changes(), "nothing may change before next_change"
        case.advance(due)
        assert case.take_changes(), "next_change must name an instant at which alerts change"


@PROPERTY_SETTINGS
@given(events=histories(), foreign=histories(), seed=st.randoms(use_true_random=False))
def test_events_of_a_source_that_did_not_open_the_case_leave_no_trace(
    events: list[dict[str, Any]], foreign: list[dict[str, Any]], seed: random.Random
) -> None:
    # another window system's events, interleaved at random after the opener's first: each
    # one refused (field source), and the case exactly as if they had never been sent
    if not events:
        return
    now = START_2025 + 3 * 365 * 86_400 + NOW_OFFSET
    intruder = [{**raw, "source": "intruder"} for raw in foreign]
    rest = events[1:] + intruder
    seed.shuffle(rest)
    own = iter(events[1:])
    mixed = events[:1] + [raw if raw["source"] == "intruder" else next(own) for raw in rest]
    subject = engine()
    for raw in mixed:
        result = subject.offer(parse_event(raw))
        if raw["source"] == "intruder":
            assert [error.field for error in result.errors] == ["source"], result
        else:
            assert not result.refused, result.errors
    subject.advance("P-1", now)
    assert subject.view("P-1", now) == run(events, now).view("P-1", now)
    assert not any(hash(("intruder", raw["event_id"])) in subject.event_ids for raw in intruder)


@pytest.mark.parametrize("unit", list(Unit))
def test_zero_budget_ends_with_the_start_day_or_instant(unit: Unit) -> None:
    start = START_2025 + 10 * 3600
    expected = start if unit is Unit.HOURS else SHANGHAI.day_start(SHANGHAI.local_day(start) + 1)
    assert deadline(Limit(0, unit), start) == expected
