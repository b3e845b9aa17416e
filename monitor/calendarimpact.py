"""What a calendar change would do to the open cases, read from their views before it is
applied (`redline calendar check YEAR.yaml --live`): which deadlines move, which red lights it
corrects, which cases it turns red at once.

A view holds the deadline, and its clocks hold the budget: that is enough to recount a working-day
clock exactly in two cases. When every changed day lies after now, the time used so far stands,
so the new deadline is now plus the working time left, counted on the new calendar. When a
changed day lies before now, the time used must be recounted from the clock's start, which the
view gives only for a clock that ran in one stretch (never suspended). Any other case is counted
apart with its reason: the recompute that follows ``config apply`` decides it from the history.

Pure: the views and ``now`` are passed in.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from monitor.clock import WorkingTime
from monitor.config import Config
from monitor.configrecord import CalendarChange, calendar_change
from monitor.limits import Unit
from monitor.timeutil import Zone, instant_of, zone


class Apart(StrEnum):
    """Why a case's new deadlines are not predicted from its view."""

    SUSPENDED = "suspended"  # no deadline to move while suspended or waiting for 补正
    PAST_DAY = "a changed day before now"  # in time already counted, by a clock suspended since
    DEEMED = "deemed accepted at once"  # the intake deadline passes: 视为受理 opens the case
    NO_CLOCKS = "no clocks in its view"  # a view written before views carried them


@dataclass(frozen=True, slots=True)
class Move:
    """One deadline of a case moved: which (``deadline``: the promised one, or the intake one
    before acceptance; ``statutory deadline``: 法定时限), from and to (epoch seconds)."""

    what: str
    old: int
    new: int

    @property
    def later(self) -> bool:
        return self.new > self.old


@dataclass(frozen=True, slots=True)
class CaseMove:
    """A case whose deadlines move, in its centre's zone; ``moves``: the promised one first."""

    case_id: str
    zone: Zone
    open: bool  # accepted: its promised deadline decides its light
    moves: tuple[Move, ...]

    @property
    def later(self) -> bool:
        """Whether its first deadline that moves moves later."""
        return self.moves[0].later


@dataclass(frozen=True, slots=True)
class Impact:
    """What the change does to the open cases at ``now``: every case checked is either
    unchanged, in ``moved``, or in ``apart`` with its reason."""

    now: int
    checked: int
    moved: tuple[CaseMove, ...]  # by case id
    apart: tuple[tuple[str, Apart], ...]  # (case id, why), by case id

    @property
    def corrected(self) -> tuple[CaseMove, ...]:
        """Red lights that would be corrected: the promised deadline passed, the new one ahead."""
        return tuple(case for case in self.moved if self._red_before(case) and not self._red(case))

    @property
    def turned_red(self) -> tuple[CaseMove, ...]:
        """Green and yellow cases whose new promised deadline has already passed."""
        return tuple(case for case in self.moved if self._red(case) and not self._red_before(case))

    def _red_before(self, case: CaseMove) -> bool:
        first = case.moves[0]
        return case.open and first.what == DEADLINE and first.old <= self.now

    def _red(self, case: CaseMove) -> bool:
        first = case.moves[0]
        return case.open and first.what == DEADLINE and first.new <= self.now

    def apart_by_reason(self) -> dict[Apart, int]:
        """How many cases each reason keeps apart, in the order of :class:`Apart`."""
        counts = {reason: 0 for reason in Apart}
        for _, reason in self.apart:
            counts[reason] += 1
        return {reason: n for reason, n in counts.items() if n}


DEADLINE, STATUTORY = "deadline", "statutory deadline"


def calendar_impact(
    before: Config, after: Config, now: int, views: Iterable[Mapping[str, Any]]
) -> Impact:
    """What replacing ``before``'s calendars by ``after``'s would do to the open cases whose
    views are ``views`` (as the read model stores them), at ``now``."""
    change = calendar_change(before, after)
    if change is None:
        raise ValueError("not a change of calendars alone: every open case is recomputed")
    moved: list[CaseMove] = []
    apart: list[tuple[str, Apart]] = []
    checked = 0
    for view in views:
        checked += 1
        found = case_move(view, before, change, now)
        if isinstance(found, Apart):
            apart.append((str(view["case_id"]), found))
        elif found is not None:
            moved.append(found)
    moved.sort(key=lambda case: case.case_id)
    apart.sort()
    return Impact(now, checked, tuple(moved), tuple(apart))


def case_move(
    view: Mapping[str, Any], before: Config, change: CalendarChange, now: int
) -> CaseMove | Apart | None:
    """How one open case's deadlines move (None: they do not), or why that is not told here."""
    if instant_of(view.get("deadline")) is None:
        return Apart.SUSPENDED
    clocks, timeline = view.get("clocks"), view.get("timeline")
    if not isinstance(clocks, dict) or not isinstance(timeline, list):
        return Apart.NO_CLOCKS
    is_open = view.get("status") == "open"
    site = change.after.center(str(view.get("center") or ""))
    counted = _Counted(
        change.days.get(site.calendar, ()),
        zone(site.timezone),
        WorkingTime(zone(site.timezone), before.calendars.get(site.calendar)),
        WorkingTime(zone(site.timezone), change.after.calendars.get(site.calendar)),
        max(now, instant_of(view.get("as_of")) or now),
    )
    start = instant_of(view.get("accepted_at") if is_open else view.get("submitted_at"))
    # 视为受理 depends on the intake deadline, which the change may move too
    one_stretch = not view.get("deemed_accepted") and not any(
        entry.get("type") == "case.suspended" for entry in timeline
    )
    moves = []
    for what, field, name in (
        (DEADLINE, "deadline", "promised" if is_open else "intake"),
        (STATUTORY, "statutory_deadline", "statutory"),
    ):
        old, clock = instant_of(view.get(field)), clocks.get(name)
        if old is None or clock is None:
            continue
        if start is None:
            return Apart.NO_CLOCKS
        if clock["unit"] != Unit.WORKING_DAYS or clock["budget_s"] <= 0:
            continue  # counted on wall time, or due with its start day (即办件): no calendar
        new = counted.deadline(old, start, clock["budget_s"], one_stretch)
        if new is None:
            return Apart.PAST_DAY
        if new != old:
            moves.append(Move(what, old, new))
    if not moves:
        return None
    if not is_open and moves[0].what == DEADLINE and moves[0].new <= now:
        return Apart.DEEMED
    return CaseMove(str(view["case_id"]), counted.zone, is_open, tuple(moves))


@dataclass(frozen=True, slots=True)
class _Counted:
    """One case's working time on the old and the new calendar, and the days they differ."""

    days: Sequence[int]  # the days counted otherwise, days since 1970-01-01, sorted
    zone: Zone
    old: WorkingTime
    new: WorkingTime
    past: int  # the end of the time already counted (now, or the view's time if later)

    def deadline(self, old: int, start: int, budget: int, one_stretch: bool) -> int | None:
        """The deadline ``old`` of a clock started at ``start`` on the new calendar; None when
        a changed day lies in time already counted and the clock did not run in one stretch."""
        first = bisect.bisect_left(self.days, self.zone.local_day(start))
        if first == len(self.days) or self.days[first] > self.zone.local_day(old):
            return old  # no changed day between its start and its deadline
        if self.days[first] > self.zone.local_day(self.past):  # the time used so far stands
            left = self.old.count(old) - self.old.count(self.past)
            return self.new.instant_at(self.new.count(self.past) + left)
        if not one_stretch:
            return None
        run_from = self.old.run_from(start)
        if self.old.instant_at(self.old.count(run_from) + budget) != old:
            return None  # the view does not add up to one stretch: let the recompute decide
        return self.new.instant_at(self.new.count(run_from) + budget)
