"""A case as bytes, and back: what a worker's table holds and recovers from its changelog.

The snapshot keeps what cannot be derived — the history of events (as received), supervisors'
actions, the catalog item the case was first measured against, the source that opened it, the
case's time and the alerts that later events corrected — and rebuilds everything else by
replaying. An 8-byte prefix carries the case's next change instant, so a worker re-arms its
timers after a rebalance without parsing whole snapshots.

``opened_by`` came after version 1 and is optional in it: an old snapshot still loads, and an
older worker reading a new one ignores the key (no version bump, so a rollback keeps working).
"""

from __future__ import annotations

import json
import struct
import sys
from fractions import Fraction
from typing import Any

from monitor import jsontext
from monitor.alert import Alert, AlertKind, AlertStatus, Resolution
from monitor.case import Case
from monitor.casetypes import SOURCE, Command, Fact, Rules, SupervisorAction
from monitor.config import Item
from monitor.configrecord import OPEN_END  # the end of a span whose overdue time counts
from monitor.limits import Unit, parse_limit

VERSION = 1
_NEXT = struct.Struct(">q")  # the next change instant, -1 for none, -2 for a closed case
NO_CHANGE = -1
CLOSED = -2  # written since configuration versions; before, a closed case had NO_CHANGE


def dump_case(case: Case) -> bytes:
    """The case's snapshot: next-change prefix, then JSON."""
    body = {
        "v": VERSION,
        "case_id": case.case_id,
        "opened_by": case.opened_by,
        "time": case.time,
        "item": _item_dict(case.item_snapshot),
        "facts": [
            [at, rank, event_id, source, raw.decode("utf-8")]
            for at, rank, event_id, source, raw in case.facts
        ],
        "actions": [[a.at, a.alert_id, a.command.value, a.note] for a in case.actions],
        "corrected": [
            _alert_dict(alert)
            for alert in case.alerts.values()
            if alert.resolution is Resolution.CORRECTED
        ],
        # the others as they stood: what a replay under another configuration is told apart
        # from (workers before configuration versions ignore the key)
        "alerts": [
            _alert_dict(alert)
            for alert in case.alerts.values()
            if alert.resolution is not Resolution.CORRECTED
        ],
        "span": working_span(case),
    }
    due = case.next_change()
    prefix = _NEXT.pack(CLOSED if not case.is_open else NO_CHANGE if due is None else due)
    return prefix + jsontext.dumps(body)


def working_span(case: Case) -> list[Any] | None:
    """``[first instant, last deadline, centre]`` of an open case's working-day clocks: a
    calendar change outside these days cannot move anything of it (its clocks count the same
    working time up to their deadlines; a clock overdue and running has no end: its overdue
    time counts every working day after). None when it cannot be bounded (a clock paused with
    budget left, a case not yet measured) or for a closed case: recomputed whatever changed."""
    if not case.is_open or case.terms is None or not case.facts:
        return None
    clocks = (
        case.intake,
        case.promised,
        case.statutory,
        case.materials,
        case.suspension,
        *case.steps.values(),
    )
    until = case.facts[0][0]
    for clock in clocks:
        if clock is None or clock.unit is not Unit.WORKING_DAYS:
            continue
        deadline = clock.deadline
        if deadline is None:
            return None
        if not clock.running and clock.paused_at is not None:
            until = max(until, clock.paused_at)  # it counted up to its pause, overdue or not
        if clock.running and deadline <= case.time:
            # overdue and still counting: how long overdue (超期 2天3小时) is working time
            # after the deadline, which any later day changes
            until = OPEN_END
        until = max(until, deadline)
    # a clock that has ended (the intake clock of a case deemed accepted) leaves no clock here,
    # but its alerts' instants were counted on the days up to them
    for alert in case.alerts.values():
        until = max(until, alert.fired_at)
    return [case.facts[0][0], until, case.terms.center]


def span_of(snapshot: bytes | memoryview) -> list[Any] | None:
    """The :func:`working_span` a snapshot was written with (None: unknown, or unbounded)."""
    span = json.loads(bytes(snapshot[_NEXT.size :])).get("span")
    return span if isinstance(span, list) and len(span) == 3 else None


def next_change_of(snapshot: bytes) -> int | None:
    """The next change instant recorded in a snapshot, read from its prefix alone."""
    (due,) = _NEXT.unpack_from(snapshot)
    return None if due in (NO_CHANGE, CLOSED) else int(due)


def may_be_open(snapshot: bytes | memoryview) -> bool:
    """Whether the snapshot's case may be open, from its prefix alone (a snapshot written
    before closed cases were marked may be of a closed case too)."""
    (due,) = _NEXT.unpack_from(snapshot)
    return bool(due != CLOSED)


def load_case(snapshot: bytes, rules: Rules) -> Case:
    """Rebuild a case from its snapshot by replaying its history under ``rules``.

    Under the configuration the snapshot was made with, no alert changes are pending. Under
    another (a new calendar year, a centre moved to another zone), the alerts the replay
    changed are pending (``case.take_changes()``): one that no longer holds is resolved
    ``corrected``, one newly due is fired at its own instant, as after an operator's reload.
    A snapshot from before the alerts were kept (``alerts`` missing) has every alert
    pending."""
    body = json.loads(snapshot[_NEXT.size :])
    if body.get("v") != VERSION:
        raise ValueError(f"case snapshot version {body.get('v')!r} is not {VERSION}")
    case = Case(body["case_id"], rules)
    case.item_snapshot = _item_of(body["item"])
    case.facts = [
        (at, rank, event_id, source, raw.encode("utf-8"))
        for at, rank, event_id, source, raw in body["facts"]
    ]
    case.actions = [
        SupervisorAction(at, alert_id, Command(command), note)
        for at, alert_id, command, note in body["actions"]
    ]
    case.opened_by = _opener(body, case.facts)
    case.time = body["time"]
    for raw in (*body["corrected"], *body.get("alerts", ())):
        alert = _alert_of(case.case_id, raw)
        case.alerts[alert.id] = alert
    case.recompute()  # the alerts as stored are what it tells changes from
    return case


def _opener(body: dict[str, Any], facts: list[Fact]) -> str | None:
    """The source that opened the case. A snapshot from before it was kept (a version 1
    body without ``opened_by``) does not know the arrival order: the source of the earliest
    event stands in, which is the opening event's in a case's usual life."""
    opened_by = body.get("opened_by")
    if opened_by is None and facts:
        opened_by = facts[0][SOURCE]
    return None if opened_by is None else sys.intern(opened_by)


def _item_dict(item: Item | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {
        "code": item.code,
        "name": item.name,
        "department": item.department,
        "promised": str(item.promised),
        "statutory": str(item.statutory),
        "extension_max": str(item.extension_max) if item.extension_max else None,
        "yellow_at": str(item.yellow_at) if item.yellow_at is not None else None,
        "intake": str(item.intake),
    }


def _item_of(raw: dict[str, Any] | None) -> Item | None:
    if raw is None:
        return None
    return Item(
        code=raw["code"],
        name=raw["name"],
        department=raw["department"],
        promised=parse_limit(raw["promised"]),
        statutory=parse_limit(raw["statutory"]),
        extension_max=parse_limit(raw["extension_max"]) if raw["extension_max"] else None,
        yellow_at=Fraction(raw["yellow_at"]) if raw["yellow_at"] is not None else None,
        intake=parse_limit(raw["intake"]),
    )


def _alert_dict(alert: Alert) -> dict[str, Any]:
    return {
        "kind": alert.kind.value,
        "subject": alert.subject,
        "fired_at": alert.fired_at,
        "resolved_at": alert.resolved_at,
        "acknowledged_at": alert.acknowledged_at,
        "detail": alert.detail,
        "note": alert.note,
        "status": alert.status.value,
        "resolution": alert.resolution.value if alert.resolution is not None else None,
    }


def _alert_of(case_id: str, raw: dict[str, Any]) -> Alert:
    alert = Alert(case_id, AlertKind(raw["kind"]), raw["subject"], raw["fired_at"], raw["detail"])
    # a corrected alert written before status and resolution were kept has neither
    alert.status = AlertStatus(raw.get("status", AlertStatus.RESOLVED.value))
    resolution = raw.get("resolution", Resolution.CORRECTED.value)
    alert.resolution = None if resolution is None else Resolution(resolution)
    alert.resolved_at = raw["resolved_at"]
    alert.acknowledged_at = raw["acknowledged_at"]
    alert.note = raw["note"]
    return alert
