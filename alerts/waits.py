"""A centre's time for the escalation policy (SPEC §5.1): when a wait that starts at an instant
ends, and when a receiver's delivery window next takes a notice.

A wait runs from its instant, not from the next midnight as a clock's limit does (SPEC §3 is
about legal periods; an acknowledgement at 10:40 with a ``1wd`` timeout ends at 10:40 of the
next working day). ``wd`` counts only the working days of the centre's calendar
(:class:`monitor.clock.WorkingTime`), ``d`` natural days on the centre's wall clock, ``h``,
``m`` and ``s`` every second. Pure: instants in, instants out.
"""

from __future__ import annotations

from alerts.policy import Days, Window
from monitor.calendar import WorkCalendar
from monitor.clock import WorkingTime
from monitor.config import Config
from monitor.limits import Wait, WaitUnit
from monitor.timeutil import DAY, Zone, zone

# a window that never opens within this many days is refused (a calendar of only days off)
_HORIZON_DAYS = 400


class CentreTime:
    """The wall clock and working days of one centre (政务服务中心)."""

    __slots__ = ("_calendar", "_working", "_zone")

    def __init__(self, centre_zone: Zone, calendar: WorkCalendar) -> None:
        self._zone = centre_zone
        self._calendar = calendar
        self._working = WorkingTime(centre_zone, calendar)

    @classmethod
    def of(cls, config: Config, center: str) -> CentreTime:
        """The time of ``center`` as ``config`` knows it (an unknown code: the defaults)."""
        site = config.center(center)
        return cls(zone(site.timezone), config.calendars.get(site.calendar))

    def after(self, start: int, wait: Wait) -> int:
        """The instant at which ``wait``, begun at ``start``, ends."""
        if wait.unit is WaitUnit.WORKING_DAYS:
            return self._working.instant_at(self._working.count(start) + wait.seconds)
        if wait.unit is WaitUnit.DAYS:
            return self._zone.from_local(self._zone.to_local(start) + wait.seconds)
        return start + wait.seconds

    def opening(self, window: Window, instant: int) -> int:
        """``instant`` itself when ``window`` is open then, else the instant it next opens."""
        day, within = divmod(self._zone.to_local(instant), DAY)
        for offset in range(_HORIZON_DAYS):
            if not self._takes(window, day + offset):
                continue
            if offset > 0 or within < window.start:
                return self._zone.from_local((day + offset) * DAY + window.start)
            if within < window.end:
                return instant
        raise ValueError(f"the window {window} does not open within {_HORIZON_DAYS} days")

    def _takes(self, window: Window, day: int) -> bool:
        return window.days is Days.ALL or self._calendar.is_workday(day)
