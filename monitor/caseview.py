"""What a case shows: its view (SPEC §6), its timeline, its clocks and each of its alerts.

These are the dicts ``replay`` prints, the cases and alerts topics carry and the API serves,
with instants in RFC 3339 in the case's centre time zone. They are compared byte for byte
downstream (versioned writes, tests), so a key's name, order and value never change here by
accident.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from monitor.alert import KIND_RULES, Alert, AlertKind, Resolution
from monitor.case import Case
from monitor.casetypes import Status, Terms
from monitor.config import DEFAULT_TIMEZONE
from monitor.timeutil import DAY, HOUR, zone

Formatter = Callable[[int | None], str | None]
"""An instant as RFC 3339 text in one zone; None stays None."""


def case_view(case: Case, now: int) -> dict[str, Any]:
    """The case object of ``replay`` and the API: status, light, deadlines, alerts.

    The case is advanced to ``now`` first (every threshold up to it fires), and shown as of
    its time."""
    case.advance(now)
    instant = case.time
    terms = case.terms
    fmt = instant_formatter(terms)
    clock = case.promised if case.status is Status.OPEN or not case.is_open else case.intake
    if not case.is_open:
        deadline, statutory = case.closed_deadline, case.closed_statutory
    elif case.suspended:
        deadline = statutory = None
    else:
        deadline = clock.deadline if clock is not None else None
        statutory = case.statutory.deadline if case.statutory is not None else None
    provisional = any(
        c.provisional(instant)
        for c in (case.intake, case.promised, case.statutory)
        if c is not None
    )
    status = case.status or Status.SUBMITTED
    breached = case.breached
    return {
        "case_id": case.case_id,
        "status": status.value,
        "light": case.light_at(instant).value,
        "deadline": fmt(deadline),
        "statutory_deadline": fmt(statutory),
        "remaining_s": None if clock is None else clock.remaining_at(instant),
        "breached": breached,
        # on time only means something for a case that had a promised deadline
        "on_time": (not breached)
        if status is Status.COMPLETED and case.promised is not None
        else None,
        "calendar_provisional": provisional,
        "center": terms.center if terms else None,
        "department": terms.department if terms else None,
        "item_code": terms.item.code if terms else None,
        "handler": case.handler,
        "window": case.window,
        "opened_by": case.opened_by,  # the source that opened it (monitor.writers)
        "submitted_at": fmt(case.submitted_at),
        "accepted_at": fmt(case.accepted_at),
        "deemed_accepted": case.deemed,
        "closed_at": fmt(case.closed_at),
        "promised": str(terms.promised) if terms else None,
        "statutory": str(terms.statutory) if terms else None,
        # in the promised limit's own unit: hours for an hours limit, days otherwise
        "extended": case.extended_s
        // (HOUR if terms and terms.promised.unit.family == "hours" else DAY),
        "alerts": [
            alert_view(alert, fmt) for alert in sorted(case.alerts.values(), key=_alert_order)
        ],
        "as_of": fmt(instant),
    }


def published_view(case: Case) -> dict[str, Any]:
    """The view a worker publishes and the read model stores: the case view as of the case's
    own time (never running its clock ahead), with its timeline and clocks."""
    view = case_view(case, case.time)
    view["timeline"] = case_timeline(case)
    view["clocks"] = case_clocks(case)
    return view


def case_timeline(case: Case) -> list[dict[str, Any]]:
    """The case's events in event-time order, for the API (SPEC §6: "plus its timeline")."""
    fmt = instant_formatter(case.terms)
    described = case.described
    entries = []
    for at, _, event_id, source, raw in case.facts:
        if (known := described.get(raw)) is None:
            event = json.loads(raw)
            known = described[raw] = (event["type"], event.get("data"))
        kind, data = known
        entry: dict[str, Any] = {
            "at": fmt(at),
            "type": kind,
            "event_id": event_id,
            "source": source,
        }
        if data:
            entry["data"] = data
        entries.append(entry)
    return entries


def case_clocks(case: Case) -> dict[str, dict[str, Any]]:
    """Each clock the case has (intake 受理, promised 承诺, statutory 法定), as of its time."""
    fmt = instant_formatter(case.terms)
    instant = case.time
    return {
        name: {
            "budget_s": clock.budget,
            "unit": clock.unit.value,
            "used_s": clock.used_at(instant),
            "remaining_s": clock.remaining_at(instant),
            "deadline": fmt(clock.deadline),
            "running": clock.running,
        }
        for name, clock in (
            ("intake", case.intake),
            ("promised", case.promised),
            ("statutory", case.statutory),
        )
        if clock is not None
    }


def alert_view(alert: Alert, fmt: Formatter) -> dict[str, Any]:
    """One alert as ``replay`` prints it and the alerts topic carries it."""
    rule = KIND_RULES[alert.kind]
    return {
        "id": alert.id,
        "kind": alert.kind.value,
        "severity": rule.severity.value,
        "level": rule.first_level,
        "fired_at": fmt(alert.fired_at),
        "status": alert.status.value,
        "resolved_at": fmt(alert.resolved_at),
        "resolution": alert.resolution.value if alert.resolution else None,
        "acknowledged_at": fmt(alert.acknowledged_at),
        "subject": alert.subject,
        "detail": alert.detail,
    }


def instant_formatter(terms: Terms | None) -> Formatter:
    """Instants as the case's centre writes them (its zone; the default zone before the case
    has terms)."""
    tz = zone(terms.zone_name if terms else DEFAULT_TIMEZONE)

    def fmt(instant: int | None) -> str | None:
        return None if instant is None else tz.format(instant)

    return fmt


_KIND_ORDER = {kind: rank for rank, kind in enumerate(AlertKind)}


def _alert_order(alert: Alert) -> tuple[int, bool, int, str]:
    """Alerts in the order they fired; within a second, corrected ones last, then in the order
    of the SPEC's table (a warning before its overdue alert), then by id: the same for every
    arrival order of the same history."""
    return (
        alert.fired_at,
        alert.resolution is Resolution.CORRECTED,
        _KIND_ORDER[alert.kind],
        alert.id,
    )
