"""What a year file would do to open cases, predicted from their views (`calendar check --live`):
stories counted by hand on the invented 2030 schedule of the operator guide (§7.3), and
properties against the engine, which replays each generated case under the new calendar."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from history_strategies import CATALOG, CONFIG, PROPERTY_SETTINGS, SHANGHAI, histories
from hypothesis import assume, given
from hypothesis import event as label
from hypothesis import strategies as st
from test_recompute_filter import toggled

from monitor.calendarimpact import Apart, Impact, calendar_impact
from monitor.caseview import case_view, published_view
from monitor.config import Config, ConfigFiles
from monitor.configfile import Source
from monitor.engine import Engine
from monitor.events import parse_event
from monitor.snapshot import dump_case, load_case
from monitor.timeutil import parse_instant

EPOCH = date(1970, 1, 1)

# the operator guide's invented 2030 schedule, around 国庆节: Sunday 9-29 at work, 10-01..10-07
# off (the provisional rule has 10-01..10-03 off and 9-29 a day off)
YEAR_2030 = Source(
    "cn-2030.yaml",
    """\
calendar: cn
year: 2030
source: EXAMPLE ONLY
holidays: ["2030-01-01", "2030-10-01", "2030-10-02", "2030-10-03", "2030-10-04", "2030-10-05",
           "2030-10-06", "2030-10-07"]
workdays: ["2030-09-29", "2030-10-12"]
""",
)
AFTER_2030 = ConfigFiles(CATALOG, calendars=(YEAR_2030,)).load()


def at(text: str) -> int:
    return parse_instant(text.replace(" ", "T") + ":00+08:00")


class Cases:
    """Cases fed to an engine under the running calendar, and their views as the worker
    stores them."""

    def __init__(self) -> None:
        self.engine = Engine(CONFIG)
        self.count = 0

    def event(self, case_id: str, kind: str, when: str, **fields: Any) -> None:
        self.count += 1
        event = {
            "event_id": f"e{self.count}",
            "type": f"case.{kind}",
            "case_id": case_id,
            "occurred_at": SHANGHAI.format(at(when)),
            "source": "test",
            **fields,
        }
        assert not self.engine.offer(parse_event(event)).refused

    def accepted(self, case_id: str, when: str, promised: str, **limits: str) -> None:
        opening = {"center": "GZ", "item_code": "FOOD-LICENSE"}
        self.event(case_id, "accepted", when, **opening, data={"promised": promised, **limits})

    def impact(self, now: str) -> Impact:
        views = []
        for case in self.engine.cases.values():
            case.advance(at(now))
            views.append(published_view(case))
        return calendar_impact(CONFIG, AFTER_2030, at(now), views)


def moves(impact: Impact) -> dict[str, list[tuple[str, str, str]]]:
    return {
        case.case_id: [
            (move.what, case.zone.format(move.old), case.zone.format(move.new))
            for move in case.moves
        ]
        for case in impact.moved
    }


def test_the_guides_red_case_is_corrected_by_the_2030_file() -> None:
    cases = Cases()
    # Fri 9-27 10:00, 5wd: provisional 9-30, 10-04, 10-07, 10-08, 10-09, due 10-10 00:00; with the
    # file 9-29, 9-30, 10-08, 10-09, 10-10, due 10-11 00:00 (operator guide §7.3, step 4)
    cases.accepted("RED", "2030-09-27 10:00", "5wd")
    impact = cases.impact("2030-10-10 12:00")
    assert moves(impact)["RED"][0] == (
        "deadline",
        "2030-10-10T00:00:00+08:00",
        "2030-10-11T00:00:00+08:00",
    )
    assert [case.case_id for case in impact.corrected] == ["RED"]
    assert impact.turned_red == () and impact.apart == () and impact.checked == 1


def test_a_deadline_moves_later_or_earlier_when_the_changed_days_are_ahead() -> None:
    cases = Cases()
    # now Wed 9-25; LATER 8wd: provisional 9-26, 9-27, 9-30, 10-04, 10-07..10-10, due 10-11;
    # with the file 9-26, 9-27, 9-29, 9-30, 10-08..10-11, due 10-12 00:00 (a day later)
    cases.accepted("LATER", "2030-09-25 09:00", "8wd")
    # EARLIER 2wd from Thu 9-26: provisional 9-27, 9-30, due 10-01; with 9-29 at work, due 9-30
    cases.accepted("EARLIER", "2030-09-26 09:00", "2wd")
    # SAME 1wd: due 9-27, before the first changed day; the 20wd statutory deadlines of all
    # three gain 9-29 and 10-12 and lose 10-04 and 10-07: they stay on 10-29 and 10-30
    cases.accepted("SAME", "2030-09-25 09:00", "1wd")
    impact = cases.impact("2030-09-26 12:00")
    assert moves(impact) == {
        "EARLIER": [("deadline", "2030-10-01T00:00:00+08:00", "2030-09-30T00:00:00+08:00")],
        "LATER": [("deadline", "2030-10-11T00:00:00+08:00", "2030-10-12T00:00:00+08:00")],
    }
    assert [case.later for case in impact.moved] == [False, True]
    assert impact.corrected == () and impact.turned_red == () and impact.checked == 3


def test_a_green_case_turns_red_at_once_when_its_new_deadline_has_passed() -> None:
    cases = Cases()
    cases.accepted("SOON", "2030-09-26 09:00", "2wd")  # due 10-01 00:00, 9-30 with the file
    impact = cases.impact("2030-09-30 12:00")
    assert [case.case_id for case in impact.turned_red] == ["SOON"]
    assert impact.corrected == ()


def test_a_suspended_case_and_one_suspended_before_a_changed_day_are_counted_apart() -> None:
    cases = Cases()
    cases.accepted("PAUSED", "2030-09-27 10:00", "5wd")
    cases.event("PAUSED", "suspended", "2030-10-08 10:00", data={"reason": "inspection"})
    cases.accepted("RESUMED", "2030-09-27 10:00", "5wd")
    cases.event("RESUMED", "suspended", "2030-09-30 10:00", data={"reason": "inspection"})
    cases.event("RESUMED", "resumed", "2030-09-30 11:00")
    impact = cases.impact("2030-10-10 12:00")
    assert impact.moved == ()
    assert impact.apart == (("PAUSED", Apart.SUSPENDED), ("RESUMED", Apart.PAST_DAY))
    assert impact.apart_by_reason() == {Apart.SUSPENDED: 1, Apart.PAST_DAY: 1}


def test_a_case_counted_on_calendar_days_does_not_move() -> None:
    cases = Cases()
    # 5wd statutory from Fri 9-27: 9-30, 10-04, 10-07..10-09 provisional, due 10-10; with the
    # file 9-29, 9-30, 10-08..10-10, due 10-11; the promised 5d is due 10-03 whatever the days
    cases.accepted("DAYS", "2030-09-27 10:00", "5d", statutory="5wd")
    impact = cases.impact("2030-09-28 12:00")
    assert moves(impact) == {
        "DAYS": [("statutory deadline", "2030-10-10T00:00:00+08:00", "2030-10-11T00:00:00+08:00")]
    }


# -- properties: a prediction is what the replay under the new calendar shows --------------------


def replayed(case_id: str, events: list[dict[str, Any]], offsets: set[int], data: st.DataObject):
    """A generated case with its view as stored, a ``now`` before its next change, and the
    configuration that toggles the days ``offsets`` from a base day (None: the case is closed)."""
    engine = Engine(CONFIG)
    for event in events:
        engine.offer(parse_event(event))
    assume(case_id in engine.cases)
    case = engine.cases[case_id]
    case.advance(max(SHANGHAI.day_start(SHANGHAI.local_day(case.time)) + 86_400, case.time))
    case.take_changes()
    assume(case.is_open)
    view = published_view(case)
    due = case.next_change()
    now = case.time + data.draw(st.integers(0, max(0, (due or case.time + 86_400) - case.time - 1)))
    return case, view, now


def check_against_replay(case: Any, view: dict[str, Any], now: int, after: Config) -> Impact:
    impact = calendar_impact(CONFIG, after, now, [view])
    again = load_case(dump_case(case), Engine(after).rules)
    shown = case_view(again, now)
    if impact.apart:
        label(f"apart: {impact.apart[0][1]}")
        return impact
    predicted = {"deadline": view["deadline"], "statutory deadline": view["statutory_deadline"]}
    for moved in impact.moved:
        for move in moved.moves:
            predicted[move.what] = moved.zone.format(move.new)
    label("moved" if impact.moved else "unchanged")
    assert predicted == {
        "deadline": shown["deadline"],
        "statutory deadline": shown["statutory_deadline"],
    }
    if impact.corrected:
        assert view["light"] == "red" and shown["light"] != "red"
    if impact.turned_red:
        assert view["light"] != "red" and shown["light"] == "red"
    return impact


@PROPERTY_SETTINGS
@given(
    events=histories(),
    offsets=st.sets(st.integers(1, 120), min_size=1, max_size=4),
    data=st.data(),
)
def test_with_every_changed_day_after_now_a_running_case_is_predicted_as_the_replay_shows(
    events: list[dict[str, Any]], offsets: set[int], data: st.DataObject
) -> None:
    case, view, now = replayed("P-1", events, offsets, data)
    today = EPOCH + timedelta(days=SHANGHAI.local_day(now))
    after = ConfigFiles(CATALOG, calendars=tuple(toggled({today + timedelta(n) for n in offsets})))
    impact = check_against_replay(case, view, now, after.load())
    assert set(impact.apart_by_reason()) <= {Apart.SUSPENDED}  # nothing else is left to guess


@PROPERTY_SETTINGS
@given(
    events=histories(),
    offsets=st.sets(st.integers(-20, 120), min_size=1, max_size=4),
    data=st.data(),
)
def test_whatever_the_changed_days_a_case_predicted_is_what_the_replay_shows(
    events: list[dict[str, Any]], offsets: set[int], data: st.DataObject
) -> None:
    case, view, now = replayed("P-1", events, offsets, data)
    first = EPOCH + timedelta(days=SHANGHAI.local_day(case.facts[0][0]))
    after = ConfigFiles(CATALOG, calendars=tuple(toggled({first + timedelta(n) for n in offsets})))
    check_against_replay(case, view, now, after.load())
