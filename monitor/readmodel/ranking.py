"""The weekly department ranking (以周为单位通报): ISO weeks, and the ranking's lines summed from
the counters that case footprints keep per week (``rank:week:{week}``) and for all time
(``rank:all``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Final

from monitor.casetypes import Light
from monitor.readmodel.views import SEP

PPM: Final = 1_000_000  # shares are summed in millionths: integers add and subtract exactly
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
_MAX_WEEKS = 1_000  # a period query sums weeks one hash each: about 20 years is plenty


@dataclass(frozen=True, slots=True)
class DepartmentRank:
    """One department's line in the ranking (科室排名) over a period."""

    department: str
    completed: int  # 办结
    measured: int  # completed with a promised deadline: the on-time rate's denominator
    on_time: int  # 按时办结
    breached: int  # went red (超期) during the period
    overdue_now: int  # open and red now
    on_time_rate: float | None
    average_share: float | None  # mean share of the promised limit used at completion
    share_n: int  # completions in that mean (zero budgets have no share)


def iso_week(timestamp: str) -> str:
    """The ISO week (``2026-W39``) of an RFC 3339 timestamp's local date (centre time)."""
    year, week, _ = datetime.fromisoformat(timestamp).isocalendar()
    return f"{year:04d}-W{week:02d}"


def iso_weeks(first: str, last: str) -> list[str]:
    """Every ISO week label from ``first`` to ``last``, both included."""
    start, end = _monday(first), _monday(last)
    if end < start:
        raise ValueError(f"week range {first}..{last} ends before it starts")
    count = (end - start).days // 7 + 1
    if count > _MAX_WEEKS:
        raise ValueError(f"week range {first}..{last} spans more than {_MAX_WEEKS} weeks")
    return [iso_week((start + timedelta(weeks=n)).isoformat()) for n in range(count)]


def _monday(label: str) -> date:
    match = _WEEK.match(label)
    if match is None:
        raise ValueError(f"{label!r} is not an ISO week: write it like 2026-W39")
    try:
        return date.fromisocalendar(int(match.group(1)), int(match.group(2)), 1)
    except ValueError:
        raise ValueError(f"{label!r} is not a week of its year") from None


def rank_departments(
    buckets: Iterable[Mapping[str, str]], current: Mapping[str, Mapping[str, int]]
) -> list[DepartmentRank]:
    """The ranking from the period's counter hashes (``department<TAB>measure`` -> n) and the
    open cases by department and light now, best on-time rate first."""
    sums: dict[str, dict[str, int]] = {}
    for bucket in buckets:
        for name, count in bucket.items():
            department, _, measure = name.rpartition(SEP)
            row = sums.setdefault(department, {})
            row[measure] = row.get(measure, 0) + int(count)
    ranks = [
        _rank(department, sums.get(department, {}), current.get(department, {}))
        for department in sums.keys() | current.keys()
    ]
    return sorted(ranks, key=_rank_order)


def _rank(department: str, sums: dict[str, int], lights: Mapping[str, int]) -> DepartmentRank:
    measured, share_n = sums.get("measured", 0), sums.get("share_n", 0)
    return DepartmentRank(
        department=department,
        completed=sums.get("completed", 0),
        measured=measured,
        on_time=sums.get("on_time", 0),
        breached=sums.get("breached", 0),
        overdue_now=lights.get(Light.RED.value, 0),
        on_time_rate=sums.get("on_time", 0) / measured if measured else None,
        average_share=sums.get("share_ppm", 0) / share_n / PPM if share_n else None,
        share_n=share_n,
    )


def _rank_order(rank: DepartmentRank) -> tuple[float, int, str]:
    # best rate first; departments with nothing measured after every measured one
    rate = -1.0 if rank.on_time_rate is None else rank.on_time_rate
    return (-rate, -rank.completed, rank.department)
