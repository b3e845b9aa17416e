"""One clock (计时器): a budget of running time, counted per SPEC §3.

The start day is not counted: a ``wd`` or ``d`` clock starts running at 00:00 (centre time) of
the day after its start instant, an ``h`` clock at the instant itself. It runs only on working
days (``wd``), every day (``d``) or all the time (``h``), never while paused, and its deadline is
the first instant at which the running time used reaches the budget.

Running time is measured by a *timeline*: a monotone count of running seconds since a fixed
origin, ``count(instant)``, and its inverse ``instant_at(count)``. Every rule above reduces to
arithmetic on those two functions, so a suspension shifts a deadline by exactly the running time
it removed, and a long limit costs one index lookup, not a walk over days.
"""

from __future__ import annotations

from typing import Protocol

from monitor.calendar import WorkCalendar
from monitor.limits import Limit, Unit
from monitor.timeutil import Zone


class Timeline(Protocol):
    """Running seconds of a unit, as a monotone function of the instant and its inverse."""

    def count(self, instant: int) -> int: ...

    def instant_at(self, count: int) -> int: ...

    def run_from(self, start: int) -> int: ...

    def provisional(self, first: int, last: int) -> bool: ...


class WallTime:
    """Every second runs (``h`` and ``d`` limits); ``d`` clocks start at the next local midnight."""

    __slots__ = ("_next_midnight", "_zone")

    def __init__(self, zone: Zone, next_midnight: bool) -> None:
        self._zone = zone
        self._next_midnight = next_midnight

    def count(self, instant: int) -> int:
        return instant

    def instant_at(self, count: int) -> int:
        return count

    def run_from(self, start: int) -> int:
        if not self._next_midnight:
            return start
        return self._zone.day_start(self._zone.local_day(start) + 1)

    def provisional(self, first: int, last: int) -> bool:
        return False


class WorkingTime:
    """Only working days run (``wd`` limits), each contributing 86 400 s, per the calendar."""

    __slots__ = ("_calendar", "_zone")

    def __init__(self, zone: Zone, calendar: WorkCalendar) -> None:
        self._zone = zone
        self._calendar = calendar

    def count(self, instant: int) -> int:
        return self._calendar.work_seconds(self._zone.to_local(instant))

    def instant_at(self, count: int) -> int:
        return self._zone.from_local(self._calendar.local_at(count))

    def run_from(self, start: int) -> int:
        return self._zone.day_start(self._zone.local_day(start) + 1)

    def provisional(self, first: int, last: int) -> bool:
        zone = self._zone
        return self._calendar.provisional_between(zone.local_day(first), zone.local_day(last))


class Timelines:
    """The three timelines of one centre (zone + working-day calendar), built once and shared."""

    __slots__ = ("_by_unit",)

    def __init__(self, zone: Zone, calendar: WorkCalendar) -> None:
        self._by_unit: dict[Unit, Timeline] = {
            Unit.WORKING_DAYS: WorkingTime(zone, calendar),
            Unit.DAYS: WallTime(zone, next_midnight=True),
            Unit.HOURS: WallTime(zone, next_midnight=False),
        }

    def __getitem__(self, unit: Unit) -> Timeline:
        return self._by_unit[unit]


Segment = tuple[int, int]
"""One stretch a clock ran: ``(began, used_before)``, the instant it began running and the time
used before it. Plain tuples here and in the memo: the garbage collector stops tracking a tuple
of numbers, not a NamedTuple (see :data:`monitor.casetypes.Fact`)."""


class Clock:
    """A running budget. ``segments`` holds, for each stretch it ran, the instant it began
    running and the time used before it; ``running`` is False while paused or stopped."""

    __slots__ = (
        "_deadline",
        "_memo",
        "budget",
        "paused_at",
        "run_from",
        "running",
        "segments",
        "start",
        "timeline",
        "unit",
        "used",
    )

    def __init__(self, timeline: Timeline, limit: Limit, start: int) -> None:
        self.timeline = timeline
        self.unit = limit.unit
        self.budget = limit.seconds
        self.start = start
        self.run_from = timeline.run_from(start)
        self.used = 0  # running time used up to the last pause (while paused: in total)
        self.running = True
        self.paused_at: int | None = None  # when it last stopped running
        # each stretch it ran; None: one stretch from run_from, the common case, kept without
        # a list
        self.segments: list[Segment] | None = None
        self._deadline: int | bool | None = False  # memo of the deadline; False: not known
        self._memo: tuple[int, int | None] | None = None  # (used, instant) of one other instant_for

    def used_at(self, instant: int) -> int:
        """Running seconds used by ``instant`` (instants before the last change count as it)."""
        if not self.running:
            return self.used
        segments = self.segments
        base, before = segments[-1] if segments else (self.run_from, 0)
        if instant <= base:
            return before
        timeline = self.timeline
        return before + timeline.count(instant) - timeline.count(base)

    def instant_for(self, used: int) -> int | None:
        """The first instant at which ``used`` running seconds are reached; None if they are not
        reached yet and the clock is paused."""
        memo = self._memo
        if memo is not None and memo[0] == used:
            return memo[1]
        instant = self._instant_for(used)
        self._memo = (used, instant)
        return instant

    def _instant_for(self, used: int) -> int | None:
        if used <= 0:
            # A zero budget ends with the start day (即办件). Paused before that, it is frozen
            # like any other; resumed later, it is due at once.
            if not self.running and self.paused_at is not None and self.paused_at < self.run_from:
                return None
            return self.segments[-1][0] if self.segments else self.run_from
        if not self.running and used > self.used:
            return None
        timeline = self.timeline
        segments = self.segments
        for base, before in reversed(segments) if segments else ((self.run_from, 0),):
            if before < used:
                return timeline.instant_at(timeline.count(base) + used - before)
        raise AssertionError("the first segment starts at zero")

    @property
    def deadline(self) -> int | None:
        """The instant the budget is (or was) used up; None while paused with budget left."""
        deadline = self._deadline
        if deadline is False:
            deadline = self._deadline = self._instant_for(self.budget)
        return deadline

    def passed(self, instant: int) -> bool:
        """Whether the deadline has been reached by ``instant`` (a zero budget only at the end
        of the start day, although nothing of it is ever used)."""
        deadline = self.deadline
        return deadline is not None and instant >= deadline

    def _changed(self) -> None:
        self._deadline = False
        self._memo = None

    def remaining_at(self, instant: int) -> int:
        """Budget minus running time used by ``instant`` (negative once overdue)."""
        return self.budget - self.used_at(instant)

    def pause(self, instant: int) -> None:
        """Stop running at ``instant``, keeping the time used (暂停计时, and 办结 for good)."""
        if self.running:
            self.used = self.used_at(instant)
            self.running = False
            self.paused_at = instant
            self._changed()

    def resume(self, instant: int) -> None:
        """Run again from ``instant`` (恢复计时); the start-day rule still applies."""
        if not self.running:
            if self.segments is None:
                self.segments = [(self.run_from, 0)]
            self.segments.append((max(instant, self.run_from), self.used))
            self.running = True
            self._changed()

    def extend(self, seconds: int) -> None:
        """Add running time to the budget (延期)."""
        self.budget += seconds
        self._changed()

    def provisional(self, until: int) -> bool:
        """Whether the days counted up to the deadline (or ``until`` while paused) include a
        provisional calendar year."""
        last = self.deadline or until
        return self.timeline.provisional(self.run_from, max(self.run_from, last - 1))
