"""The wall in a terminal (``redline watch``): read-model data in, lines of text out.

Pure functions of what the read model returned and of ``now``, so a view is tested without
Redis."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from monitor.config import DEFAULT_TIMEZONE
from monitor.durations import OVERDUE, span_text
from monitor.limits import Unit
from monitor.timeutil import DAY, HOUR, parse_instant, zone

if TYPE_CHECKING:  # the read model's types only: watch loads redis when it runs
    from monitor.readmodel import DepartmentRank, SourceHealth


def wall_text(
    now: int,
    where: str,
    totals: dict[str, int],
    reds: Sequence[dict[str, object]],
    feeds: Sequence[SourceHealth],
    ranks: Sequence[DepartmentRank],
    reports: Sequence[dict[str, object]] = (),
) -> str:
    """One view of the read model as text: lights, the most overdue red cases, feed health,
    the departments' ranking (科室排名) over all time, and the configuration the workers run."""
    lines = [f"redline watch  {zone(DEFAULT_TIMEZONE).format(now)}  {where}"]
    lines.append("cases    " + "  ".join(f"{light} {count}" for light, count in totals.items()))
    if not any(totals.values()):
        lines.append("         no case in the read model yet (is a worker running?)")
    lines.append(f"red      {totals.get('red', 0)} open" + (", most overdue:" if reds else ""))
    for view in reds:
        lines.append(
            f"         {view['case_id']!s:<28} {view.get('center') or '-'!s:<14} "
            f"{view.get('department') or '-'!s:<12} {_overdue(view, now)}"
        )
    lines.append("sources  " + _row("source", "accepted", "duplicate", "refused", "last lag"))
    for feed in feeds:
        row = _row(
            feed.source,
            str(feed.accepted),
            str(feed.duplicate),
            str(feed.refused),
            _lag(feed.lag_last_s),
        )
        lines.append("         " + row)
    if not feeds:
        lines.append("         no event received yet")
    if ranks:
        lines.append("ranking  department     completed  on time  breached  red now")
    for rank in ranks:
        on_time = "-" if rank.on_time_rate is None else f"{rank.on_time_rate:.0%}"
        lines.append(
            f"         {rank.department or '-':<14} {rank.completed:>9} {on_time:>8} "
            f"{rank.breached:>9} {rank.overdue_now:>8}"
        )
    lines.append("config   " + config_line(reports))
    return "\n".join(lines)


def config_line(reports: Sequence[dict[str, object]]) -> str:
    """The configuration versions the workers report, and a recompute under way."""
    workers = [r for r in reports if r.get("process") == "worker"]
    if not workers:
        return "no worker reports its configuration version"
    versions = sorted({int(str(r["version"])) for r in workers})
    running = ", ".join(f"version {v}" for v in versions)
    line = f"{running} on {len(workers)} worker{'' if len(workers) == 1 else 's'}"
    passes = [r.get("recompute") for r in workers]
    busy = [r for r in passes if isinstance(r, dict) and not r.get("finished")]
    if busy:
        done = sum(int(r.get("done", 0)) for r in busy)
        cases = sum(int(r.get("cases", 0)) for r in busy)
        line += f"; recomputing open cases: {done} of {cases} done"
    return line


def span(seconds: int) -> str:
    """A feed lag to the second: ``2d 03h``, ``5h 07m``, ``12m 30s``, ``40s`` (a technical
    figure for integrators; case time reads through monitor.durations)."""
    seconds = max(seconds, 0)
    days, rest = divmod(seconds, DAY)
    hours, rest = divmod(rest, HOUR)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours:02d}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def _row(source: str, accepted: str, duplicate: str, refused: str, lag: str) -> str:
    return f"{source:<24} {accepted:>9} {duplicate:>10} {refused:>8}  {lag}"


def _overdue(view: dict[str, object], now: int) -> str:
    """Natural time since the promised deadline (``超期 1天2小时``, monitor.durations), up to now
    or to the case's own time when that is later (a simulated feed runs ahead of the clock)."""
    deadline = view.get("deadline")
    if not isinstance(deadline, str):
        return f"{OVERDUE} -"
    as_of = view.get("as_of")
    until = max(now, parse_instant(as_of)) if isinstance(as_of, str) else now
    return f"{OVERDUE} {span_text(max(until - parse_instant(deadline), 0), Unit.DAYS)}"


def _lag(seconds: int | None) -> str:
    """Arrival minus occurred_at; negative when the window system's clock is ahead."""
    if seconds is None:
        return "-"
    return span(seconds) if seconds >= 0 else f"-{span(-seconds)} (clock ahead)"
