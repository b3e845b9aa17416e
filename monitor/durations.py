"""Durations for people (时长): ``剩余 3小时20分``, ``剩余 1个工作日``, ``超期 2天3小时``.

A clock counts running seconds in its unit (its ``remaining_s``, ``used_s`` and budget), and a
duration is read in that same unit:

- ``wd`` (工作日): only working days run, each contributing 86 400 s. Whole working days read
  ``N个工作日``, the rest of a day in hours: ``1个工作日`` left stays one working day over a
  weekend, since the weekend does not run.
- ``d`` (自然日): every day runs; whole days read ``N天``.
- ``h``: hours at any length (``50小时``), as the limit itself is written (``48h``).

At most two units, the larger first, the smaller left out when it is zero (``2天``, not
``2天0小时``): days and hours from one day on, hours and minutes from one hour on, then minutes
(``20分钟``), and ``不足1分钟`` below a minute. Amounts are truncated, never rounded up, so a
duration never shows more time left, nor more time overdue, than there is.

A remaining time of zero or more reads ``剩余 …``; a negative one (past the deadline) reads
``超期 …`` with its size. Pure: seconds and a unit in, text out.
"""

from __future__ import annotations

from monitor.limits import Unit
from monitor.timeutil import DAY, HOUR, MINUTE

REMAINING = "剩余"
OVERDUE = "超期"
_DAY_WORDS = {Unit.WORKING_DAYS: "个工作日", Unit.DAYS: "天"}


def span_text(seconds: int, unit: Unit) -> str:
    """A non-negative duration of running seconds of ``unit``: ``2天3小时``, ``3小时20分``."""
    if seconds < 0:
        raise ValueError(f"a duration is not negative ({seconds} s): see remaining_text")
    day_word = _DAY_WORDS.get(unit)
    days, rest = divmod(seconds, DAY) if day_word else (0, seconds)
    hours, rest = divmod(rest, HOUR)
    minutes = rest // MINUTE
    if days:
        return f"{days}{day_word}" + (f"{hours}小时" if hours else "")
    if hours:
        return f"{hours}小时" + (f"{minutes}分" if minutes else "")
    if minutes:
        return f"{minutes}分钟"
    return "不足1分钟"


def remaining_text(seconds: int, unit: Unit) -> str:
    """A clock's remaining running seconds (negative once overdue): ``剩余 1个工作日``,
    ``超期 2天3小时``."""
    if seconds < 0:
        return f"{OVERDUE} {span_text(-seconds, unit)}"
    return f"{REMAINING} {span_text(seconds, unit)}"
