"""Footprints: what one case view contributes to the read model's indexes and aggregates.

A footprint is computed without Redis. The write script undoes the stored view's footprint and
applies the new one in one atomic step, so the indexes and counters are a function of the newest
view of each case, whatever the order or repetition of the writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from monitor import jsontext
from monitor.alert import AlertKind
from monitor.casetypes import Light
from monitor.limits import LimitError, Unit, parse_limit
from monitor.readmodel.cursors import deadline_member
from monitor.readmodel.ranking import PPM, iso_week
from monitor.readmodel.views import SEP, KnownCodes, View, code, instant_of
from monitor.timeutil import DAY, HOUR, parse_instant


@dataclass(slots=True)
class Footprint:
    """The index memberships and counter increments of one case view, with keys relative to
    the prefix. A newer view's footprint replaces the older one's exactly."""

    members: list[tuple[str, str]] = field(default_factory=list)  # (sorted set, member)
    counts: dict[tuple[str, str], int] = field(default_factory=dict)  # (hash, field) -> n

    def add(self, key: str, hash_field: str, amount: int = 1) -> None:
        if amount:  # a zero would leave a field that a rebuild does not write
            self.counts[(key, hash_field)] = self.counts.get((key, hash_field), 0) + amount

    def to_json(self) -> bytes:
        counts = [[key, name, n] for (key, name), n in self.counts.items()]
        return jsontext.dumps({"z": [list(member) for member in self.members], "c": counts})


def footprint(view: View, known: KnownCodes | None = None) -> Footprint:
    """What ``view`` contributes to the indexes and aggregates (pure: no Redis). With
    ``known``, the aggregates (by centre, by department, the ranking) count a code it lacks
    under ``(unknown)``; the open-case indexes keep every code as sent, for the filters."""
    found = Footprint()
    light = str(view["light"])
    center, department = code(view.get("center")), code(view.get("department"))
    counted_center = center if known is None else known.center(center)
    counted_department = department if known is None else known.department(department)
    found.add("agg:light", light)
    found.add("agg:center", counted_center + SEP + light)
    found.add("agg:department", counted_department + SEP + light)
    if light != Light.CLOSED.value:
        member = deadline_member(instant_of(view.get("deadline")), str(view["case_id"]))
        indexes = ("all", f"light:{light}", f"center:{center}", f"department:{department}")
        found.members += [(f"open:{index}", member) for index in indexes]
    _completion(found, view, counted_department)
    _breach(found, view, counted_department)
    return found


def _completion(found: Footprint, view: View, department: str) -> None:
    """Count a completed case (办结) in the ranking of the ISO week it closed in."""
    closed_at = view.get("closed_at")
    if view.get("status") != "completed" or not isinstance(closed_at, str):
        return
    on_time = view.get("on_time")
    share = limit_share_ppm(view) if on_time is not None else None
    for bucket in ("rank:all", f"rank:week:{iso_week(closed_at)}"):
        found.add(bucket, department + SEP + "completed")
        if on_time is None:
            continue  # no promised deadline (completed before acceptance): not measured
        found.add(bucket, department + SEP + "measured")
        found.add(bucket, department + SEP + "on_time", int(bool(on_time)))
        if share is not None:
            found.add(bucket, department + SEP + "share_ppm", share)
            found.add(bucket, department + SEP + "share_n")


def _breach(found: Footprint, view: View, department: str) -> None:
    """Count a case that went red (超期) in the week its promised deadline passed."""
    if not view.get("breached"):
        return
    buckets = ["rank:all"]
    fired = _first_overdue(view)
    if fired is not None:
        buckets.append(f"rank:week:{iso_week(fired)}")
    for bucket in buckets:
        found.add(bucket, department + SEP + "breached")


def _first_overdue(view: View) -> str | None:
    """When the case first went red: its earliest deadline_overdue not taken back."""
    fired = [
        alert["fired_at"]
        for alert in view.get("alerts") or ()
        if alert.get("kind") == AlertKind.DEADLINE_OVERDUE.value
        and alert.get("resolution") != "corrected"
        and isinstance(alert.get("fired_at"), str)
    ]
    return min(fired, key=parse_instant) if fired else None


def limit_share_ppm(view: View) -> int | None:
    """Share of the promised budget (承诺时限) used, in millionths; None for a zero budget."""
    budget = _budget_s(view)
    if budget is None or budget <= 0:
        return None  # 即办件: nothing of a zero budget is used, a share means nothing
    used = view.get("used_s")
    if not isinstance(used, int):
        remaining = view.get("remaining_s")
        if not isinstance(remaining, int):
            return None
        used = budget - remaining
    return (max(used, 0) * PPM + budget // 2) // budget


def _budget_s(view: View) -> int | None:
    """The promised budget with its extensions, in seconds of running time."""
    given = view.get("promised_s")
    if isinstance(given, int):
        return given
    try:
        limit = parse_limit(view.get("promised"))
    except LimitError:
        return None
    unit = HOUR if limit.unit is Unit.HOURS else DAY  # the view counts extensions in its unit
    return limit.seconds + int(view.get("extended") or 0) * unit
