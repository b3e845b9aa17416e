"""The recompute's filter is sound: a case whose working-day span holds no day a calendar change
counts otherwise is left alone by the recompute, and leaving it alone loses nothing, since it
comes out of a replay under the new calendar exactly as it was (hypothesis, generated lives)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import yaml
from history_strategies import CATALOG, CONFIG, PROPERTY_SETTINGS, SHANGHAI, histories
from hypothesis import assume, given
from hypothesis import event as label
from hypothesis import strategies as st

from monitor.caseview import case_view
from monitor.config import ConfigFiles
from monitor.configfile import Source
from monitor.configrecord import calendar_change
from monitor.engine import Engine
from monitor.events import parse_event
from monitor.snapshot import dump_case, load_case, working_span

EPOCH = date(1970, 1, 1)


def toggled(days: set[date]) -> list[Source]:
    """Year files that turn each of ``days`` from working to off or back."""
    calendar = CONFIG.calendars.get("cn")
    files = []
    for year in sorted({day.year for day in days}):
        schedule = CONFIG.calendars.years("cn").get(year)
        off = set(schedule.holidays) if schedule else set()
        on = set(schedule.workdays) if schedule else set()
        for day in (d for d in days if d.year == year):
            working = calendar.is_workday((day - EPOCH).days)
            weekend = day.weekday() >= 5
            if working and weekend:
                on.discard(day)
            elif working:
                off.add(day)
            elif weekend:
                off.discard(day)
                on.add(day)
            else:
                off.discard(day)
        body = {
            "calendar": "cn",
            "year": year,
            "source": "test",
            "holidays": sorted(map(str, off - on)),
            "workdays": sorted(map(str, on)),
        }
        files.append(Source(f"cn-{year}.yaml", yaml.safe_dump(body)))
    return files


@PROPERTY_SETTINGS
@given(events=histories(), offsets=st.sets(st.integers(-20, 120), min_size=1, max_size=4))
def test_a_case_the_filter_leaves_alone_is_what_a_replay_would_make_it(
    events: list[dict[str, Any]], offsets: set[int]
) -> None:
    engine = Engine(CONFIG)
    for event in events:
        engine.offer(parse_event(event))
    assume("P-1" in engine.cases)
    case = engine.cases["P-1"]
    now = max(SHANGHAI.day_start(SHANGHAI.local_day(case.time)) + 86_400, case.time)
    case.advance(now)
    case.take_changes()
    assume(case.is_open)
    first = EPOCH + timedelta(days=SHANGHAI.local_day(case.facts[0][0]))
    days = {first + timedelta(days=n) for n in offsets}
    after = ConfigFiles(CATALOG, calendars=tuple(toggled(days))).load()
    change = calendar_change(CONFIG, after)
    assert change is not None
    span = working_span(case)
    if change.touches(span):
        label("recomputed")
        return  # recomputed: the replay decides (the live tests check what it shows)
    label("left alone")
    again = load_case(dump_case(case), Engine(after).rules)
    assert again.take_changes() == []
    assert case_view(again, now) == case_view(case, now)
    assert again.next_change() == case.next_change()
