"""The escalation decisions (SPEC §5) as pure functions: given now, an alert's record, its
escalation state and the policy it started with, the actions to take, each with its reason.

- :func:`start` on the first sight of an alert: no route, or already resolved, sends nothing
  and says why; one that fired long ago starts at the level its age warrants, with one notice.
- :func:`decide` when a timer is due (``state.next_due``): a repeat to the current level while
  unacknowledged, a red alert moved up after the delay, an acknowledgement that timed out,
  a notice held by a delivery window sent when it opens. A late call sends one notice, not one
  per interval or level missed: notices are about the present.
- :func:`on_record`, :func:`on_ack`, :func:`on_cancel`: a later record of the alert, a
  supervisor's acknowledgement or cancellation. A resolution, correction or cancellation goes
  at once to everyone notified (never held: it closes a notice already delivered) and stops
  everything.

The state keeps the route's levels, timings and windows as they were when the alert started
(SPEC §5.1: an open alert keeps the policy it started with). Notice ids are
``<alert>.<level>.<type>.<n>``: the n-th notice of that type to that level, the idempotency key
a channel sees (SPEC §5.2). Every notice of one id goes to each receiver at most once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from alerts.policy import LEVELS, Days, EscalationPolicy, Timings, Window
from alerts.waits import CentreTime
from monitor.alert import AlertStatus, Resolution, Severity
from monitor.config import Config
from monitor.limits import parse_wait
from monitor.records import AlertRecord
from monitor.timeutil import parse_instant

TOP = LEVELS[-1]  # the supervision office (效能督查)


class NoticeType(StrEnum):
    """What a notice tells (SPEC §5.2 ``notice.type``)."""

    RAISED = "raised"
    REPEATED = "repeated"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    CORRECTED = "corrected"


class Reason(StrEnum):
    """Why an action was taken; :attr:`text` is what the delivery log shows."""

    FIRST_NOTICE = "first_notice"
    FIRST_NOTICE_BY_AGE = "first_notice_by_age"
    REPEAT_INTERVAL = "repeat_interval"
    ESCALATE_AFTER = "escalate_after"
    ACK_TIMEOUT = "ack_timeout"
    WINDOW_OPENED = "window_opened"
    RESOLVED = "resolved"
    CORRECTED = "corrected"
    CANCELLED = "cancelled"
    OUTSIDE_WINDOW = "outside_window"
    ALREADY_RESOLVED = "already_resolved"
    NO_ROUTE = "no_route"
    LEVEL_EMPTY = "level_empty"
    NOBODY_NOTIFIED = "nobody_notified"

    @property
    def text(self) -> str:
        """The reason for people."""
        return _REASON_TEXT[self]


_REASON_TEXT = {
    Reason.FIRST_NOTICE: "first notice of the alert",
    Reason.FIRST_NOTICE_BY_AGE: "first notice, at the level the alert's age warrants",
    Reason.REPEAT_INTERVAL: "the repeat interval elapsed while unacknowledged",
    Reason.ESCALATE_AFTER: "red and not acknowledged within the escalation delay",
    Reason.ACK_TIMEOUT: "acknowledged, but still open when the acknowledgement timeout ended",
    Reason.WINDOW_OPENED: "held outside the receiver's delivery window, sent when it opened",
    Reason.RESOLVED: "the alert was resolved",
    Reason.CORRECTED: "a later event showed the alert should not have fired",
    Reason.CANCELLED: "a supervisor cancelled the alert",
    Reason.OUTSIDE_WINDOW: "outside the receiver's delivery window",
    Reason.ALREADY_RESOLVED: "already resolved when first seen: notices are about the present",
    Reason.NO_ROUTE: "no route of the policy matches the alert",
    Reason.LEVEL_EMPTY: "the route names no receiver at this level",
    Reason.NOBODY_NOTIFIED: "resolved before anyone was notified",
}


@dataclass(frozen=True, slots=True)
class Notify:
    """Send notice ``notice_id`` to each of ``receivers``."""

    receivers: tuple[str, ...]
    level: int
    type: NoticeType
    notice_id: str
    reason: Reason


@dataclass(frozen=True, slots=True)
class Hold:
    """Notice ``notice_id`` waits for ``receiver``'s delivery window to open at ``until``."""

    receiver: str
    until: int
    notice_id: str
    level: int
    type: NoticeType
    reason: Reason = Reason.OUTSIDE_WINDOW


@dataclass(frozen=True, slots=True)
class Skip:
    """Nothing sent, and why (``level``: the level it concerns, if one)."""

    reason: Reason
    level: int | None = None


Action = Notify | Hold | Skip


@dataclass(frozen=True, slots=True)
class Notice:
    """One notice decided: its id, level, type and instant."""

    id: str
    level: int
    type: NoticeType
    at: int


@dataclass(frozen=True, slots=True)
class Held:
    """A notice waiting for one receiver's window, with the reason it was decided for."""

    receiver: str
    notice: Notice
    reason: Reason
    until: int


@dataclass(frozen=True, slots=True)
class EscalationState:
    """Where one alert's escalation stands, with the policy it started with."""

    alert_id: str
    center: str  # its calendar counts `wd` waits, its zone the windows
    severity: Severity
    route: str | None  # the route's entry ("routes[0]"); None: no route matched
    levels: Mapping[int, tuple[str, ...]]
    timings: Timings
    windows: Mapping[str, Window]  # of the route's receivers that have one
    level: int
    level_since: int  # when it reached `level` (by its timeline, not when it was told)
    notices: tuple[Notice, ...] = ()
    notified: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # receiver: ids
    last_notice: Mapping[int, int] = field(default_factory=dict)  # level: instant
    held: tuple[Held, ...] = ()
    acked_at: int | None = None  # the latest acknowledgement
    acked_by: str = ""
    ack_lapsed: bool = False  # its timeout ended with the alert open: repeats run again
    cancelled: bool = False
    cancelled_by: str = ""
    closed: Resolution | None = None  # resolved, corrected or cancelled: done
    next_due: int | None = None  # call decide again then; None: only a record or command

    @property
    def acked(self) -> int | None:
        """The instant of the acknowledgement in force, or None."""
        return None if self.ack_lapsed else self.acked_at

    def to_json(self) -> str:
        """The state as JSON text (the notifier's table)."""
        return json.dumps(_encode(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str | bytes) -> EscalationState:
        """The state :meth:`to_json` wrote."""
        return _decode(json.loads(text))


def start(
    record: AlertRecord, policy: EscalationPolicy, config: Config, now: int
) -> tuple[EscalationState, list[Action]]:
    """The first sight of an alert: its state and the first notice (or why there is none)."""
    severity = Severity(record.severity)
    first = min(max(record.level, LEVELS[0]), TOP)
    center = record.center or ""
    fired = parse_instant(record.fired_at)
    route = policy.route_for(
        center,
        record.department or "",
        record.item_code or "",
        record.kind.value,
        severity.value,
    )
    state = EscalationState(
        alert_id=record.id,
        center=center,
        severity=severity,
        route=route.entry if route else None,
        levels=dict(route.levels) if route else {},
        timings=route.timings if route else policy.defaults,
        windows=_windows(policy, route.levels.values() if route else ()),
        level=first,
        level_since=fired,
    )
    if record.status is AlertStatus.RESOLVED:
        return replace(state, closed=record.resolution or Resolution.COMPLETED), [
            Skip(Reason.ALREADY_RESOLVED)
        ]
    if route is None:
        return state, [Skip(Reason.NO_ROUTE)]
    if record.acknowledged_at is not None:
        state = replace(state, acked_at=parse_instant(record.acknowledged_at))
    actions: list[Action] = []
    if severity is Severity.RED and not state.levels.get(first):
        up = _next_level(state, first)
        if up is not None:
            actions += _passed(state, first - 1, up)
            state = replace(state, level=up)
    state, more = _advance(state, now, CentreTime.of(config, center), first_sight=True)
    return state, actions + more


def decide(
    state: EscalationState, now: int, config: Config
) -> tuple[EscalationState, list[Action]]:
    """What the timers due by ``now`` call for."""
    if state.closed is not None or state.route is None:
        return state, []
    return _advance(state, now, CentreTime.of(config, state.center), first_sight=False)


def on_record(
    state: EscalationState, record: AlertRecord, now: int, config: Config
) -> tuple[EscalationState, list[Action]]:
    """A later record of the alert: a resolution or correction closes it, an acknowledgement
    holds it; anything else changes nothing."""
    if state.closed is not None:
        return state, []
    if record.status is AlertStatus.RESOLVED:
        resolution = record.resolution or Resolution.COMPLETED
        if resolution is Resolution.CANCELLED:
            return _close(replace(state, cancelled=True), resolution, now)
        return _close(state, resolution, now)
    if record.acknowledged_at is not None:
        return on_ack(state, state.acked_by, parse_instant(record.acknowledged_at), config)
    return state, []


def on_ack(
    state: EscalationState, by: str, at: int, config: Config
) -> tuple[EscalationState, list[Action]]:
    """An acknowledgement at ``at``: no repeat and no escalation until its timeout; notices
    still held for a window are dropped (an acknowledged alert is not paged). An
    acknowledgement no newer than the one known is the same one."""
    if state.closed is not None or (state.acked_at is not None and at <= state.acked_at):
        return state, []
    acked = replace(state, acked_at=at, acked_by=by, ack_lapsed=False, held=())
    return _with_next_due(acked, CentreTime.of(config, state.center)), []


def on_cancel(state: EscalationState, by: str, at: int) -> tuple[EscalationState, list[Action]]:
    """A supervisor's cancellation: everything stops, and everyone notified is told."""
    if state.closed is not None:
        return state, []
    return _close(replace(state, cancelled=True, cancelled_by=by), None, at)


def notice_id(alert_id: str, level: int, type_: NoticeType, n: int) -> str:
    """The idempotency key of the n-th notice of ``type_`` to ``level`` of an alert."""
    return f"{alert_id}.{level}.{type_.value}.{n}"


def _advance(
    state: EscalationState, now: int, time: CentreTime, first_sight: bool
) -> tuple[EscalationState, list[Action]]:
    state, actions = _release(state, now)
    level, since, lapsed = state.level, state.level_since, False
    ack = state.acked
    if ack is None:
        level, since = _climb(state, level, since, now, time)
    else:
        if first_sight:  # the age it had when it was acknowledged
            level, since = _climb(state, level, since, min(ack, now), time)
        ends = time.after(ack, state.timings.ack_timeout)
        if ends <= now:
            lapsed = True
            up = _next_level(state, level)
            if up is not None:
                level, since = up, ends
            level, since = _climb(state, level, since, now, time)
    notice = _notice_due(state, level, lapsed, first_sight, now, time)
    actions += _passed(state, state.level, level)
    state = replace(state, level=level, level_since=since, ack_lapsed=state.ack_lapsed or lapsed)
    if notice is not None:
        state, sent = _send(state, notice[0], notice[1], now, time)
        actions += sent
    return _with_next_due(state, time), actions


def _notice_due(
    state: EscalationState,
    level: int,
    lapsed: bool,
    first_sight: bool,
    now: int,
    time: CentreTime,
) -> tuple[NoticeType, Reason] | None:
    if first_sight:
        by_age = level != state.level
        return NoticeType.RAISED, Reason.FIRST_NOTICE_BY_AGE if by_age else Reason.FIRST_NOTICE
    if level != state.level:
        return NoticeType.ESCALATED, Reason.ACK_TIMEOUT if lapsed else Reason.ESCALATE_AFTER
    if lapsed:
        return NoticeType.REPEATED, Reason.ACK_TIMEOUT
    last = state.last_notice.get(level)
    repeat = state.timings.repeat_every
    if state.acked is None and last is not None and time.after(last, repeat) <= now:
        return NoticeType.REPEATED, Reason.REPEAT_INTERVAL
    return None


def _climb(
    state: EscalationState, level: int, since: int, until: int, time: CentreTime
) -> tuple[int, int]:
    """The level a red alert unacknowledged from ``since`` reaches by ``until``, and when."""
    while (up := _next_level(state, level)) is not None:
        reached = time.after(since, state.timings.escalate_after)
        if reached > until:
            break
        level, since = up, reached
    return level, since


def _next_level(state: EscalationState, level: int) -> int | None:
    """The next level up that has receivers; None for a yellow alert (it stays) or at the top."""
    if state.severity is not Severity.RED:
        return None
    return next((up for up in LEVELS if up > level and state.levels.get(up)), None)


def _passed(state: EscalationState, below: int, reached: int) -> list[Action]:
    """A skip for each level strictly between ``below`` and ``reached`` that has nobody."""
    return [
        Skip(Reason.LEVEL_EMPTY, lv)
        for lv in LEVELS
        if below < lv < reached and not state.levels.get(lv)
    ]


def _send(
    state: EscalationState, type_: NoticeType, reason: Reason, now: int, time: CentreTime
) -> tuple[EscalationState, list[Action]]:
    """One firing notice to the current level: now to the receivers whose window is open, held
    for the others (a receiver with a notice held already keeps that one)."""
    level = state.level
    receivers = state.levels.get(level, ())
    if not receivers:
        return state, [Skip(Reason.LEVEL_EMPTY, level)]
    n = sum(1 for sent in state.notices if sent.level == level and sent.type is type_)
    notice = Notice(notice_id(state.alert_id, level, type_, n), level, type_, now)
    waiting = {held.receiver for held in state.held}
    actions: list[Action] = []
    held = list(state.held)
    ready = []
    for receiver in receivers:
        opens = _opening(state, receiver, level, now, time)
        if opens == now:
            ready.append(receiver)
        elif receiver not in waiting:
            held.append(Held(receiver, notice, reason, opens))
            actions.append(Hold(receiver, opens, notice.id, level, type_))
    if ready:
        actions.insert(0, Notify(tuple(ready), level, type_, notice.id, reason))
    state = replace(
        state,
        notices=(*state.notices, notice),
        notified=_add(state.notified, ready, notice.id),
        last_notice={**state.last_notice, level: now},
        held=tuple(held),
    )
    return state, actions


def _opening(state: EscalationState, receiver: str, level: int, now: int, time: CentreTime) -> int:
    window = state.windows.get(receiver)
    if window is None:
        return now
    if state.severity is Severity.RED and level == TOP and not window.hold_red_level_3:
        return now
    return time.opening(window, now)


def _release(state: EscalationState, now: int) -> tuple[EscalationState, list[Action]]:
    """The held notices whose window has opened by ``now``, sent."""
    due = [held for held in state.held if held.until <= now]
    if not due:
        return state, []
    actions: list[Action] = []
    notified = state.notified
    for notice in dict.fromkeys(held.notice for held in due):
        receivers = tuple(held.receiver for held in due if held.notice == notice)
        opened = Notify(receivers, notice.level, notice.type, notice.id, Reason.WINDOW_OPENED)
        actions.append(opened)
        notified = _add(notified, receivers, notice.id)
    waiting = tuple(held for held in state.held if held.until > now)
    return replace(state, held=waiting, notified=notified), actions


def _close(
    state: EscalationState, resolution: Resolution | None, now: int
) -> tuple[EscalationState, list[Action]]:
    """Close the alert and tell everyone notified, grouped by the highest level each was told
    at; a held notice is dropped (its receiver was never told)."""
    if resolution is Resolution.CORRECTED:
        type_, reason = NoticeType.CORRECTED, Reason.CORRECTED
    elif state.cancelled:
        type_, reason = NoticeType.RESOLVED, Reason.CANCELLED
    else:
        type_, reason = NoticeType.RESOLVED, Reason.RESOLVED
    level_of = {notice.id: notice.level for notice in state.notices}
    told: dict[int, list[str]] = {}
    for receiver, ids in state.notified.items():
        told.setdefault(max(level_of[i] for i in ids), []).append(receiver)
    closed = replace(state, closed=resolution or Resolution.CANCELLED, held=(), next_due=None)
    if not told:
        return closed, [Skip(Reason.NOBODY_NOTIFIED)]
    actions: list[Action] = []
    notices = list(state.notices)
    for level in sorted(told):
        notice = Notice(notice_id(state.alert_id, level, type_, 0), level, type_, now)
        notices.append(notice)
        actions.append(Notify(tuple(told[level]), level, type_, notice.id, reason))
    return replace(closed, notices=tuple(notices)), actions


def _with_next_due(state: EscalationState, time: CentreTime) -> EscalationState:
    if state.closed is not None or state.route is None:
        return replace(state, next_due=None)
    due = [held.until for held in state.held]
    timings = state.timings
    if state.acked is not None:
        due.append(time.after(state.acked, timings.ack_timeout))
    else:
        if _next_level(state, state.level) is not None:
            due.append(time.after(state.level_since, timings.escalate_after))
        last = state.last_notice.get(state.level)
        if last is not None:
            due.append(time.after(last, timings.repeat_every))
    return replace(state, next_due=min(due, default=None))


def _add(
    notified: Mapping[str, tuple[str, ...]], receivers: Iterable[str], notice: str
) -> dict[str, tuple[str, ...]]:
    grown = dict(notified)
    for receiver in receivers:
        grown[receiver] = (*grown.get(receiver, ()), notice)
    return grown


def _windows(policy: EscalationPolicy, levels: Iterable[tuple[str, ...]]) -> dict[str, Window]:
    windows = {}
    for receivers in levels:
        for receiver_id in receivers:
            receiver = policy.receivers.get(receiver_id)
            if receiver is not None and receiver.window is not None:
                windows[receiver_id] = receiver.window
    return windows


# JSON: instants as epoch seconds, waits as the policy writes them ("30m"), mapping keys as text


def _notice_json(notice: Notice) -> list[Any]:
    return [notice.id, notice.level, notice.type.value, notice.at]


def _notice_of(raw: list[Any]) -> Notice:
    notice, level, type_, at = raw
    return Notice(notice, level, NoticeType(type_), at)


def _encode(state: EscalationState) -> dict[str, Any]:
    return {
        "alert_id": state.alert_id,
        "center": state.center,
        "severity": state.severity.value,
        "route": state.route,
        "levels": {str(level): list(ids) for level, ids in state.levels.items()},
        "timings": {key: str(getattr(state.timings, key)) for key in _TIMINGS},
        "windows": {
            rid: [w.start, w.end, w.days.value, w.hold_red_level_3]
            for rid, w in state.windows.items()
        },
        "level": state.level,
        "level_since": state.level_since,
        "notices": [_notice_json(notice) for notice in state.notices],
        "notified": {rid: list(ids) for rid, ids in state.notified.items()},
        "last_notice": {str(level): at for level, at in state.last_notice.items()},
        "held": [
            [held.receiver, _notice_json(held.notice), held.reason.value, held.until]
            for held in state.held
        ],
        "acked_at": state.acked_at,
        "acked_by": state.acked_by,
        "ack_lapsed": state.ack_lapsed,
        "cancelled": state.cancelled,
        "cancelled_by": state.cancelled_by,
        "closed": None if state.closed is None else state.closed.value,
        "next_due": state.next_due,
    }


_TIMINGS = ("escalate_after", "repeat_every", "ack_timeout")


def _decode(raw: dict[str, Any]) -> EscalationState:
    closed = raw["closed"]
    return EscalationState(
        alert_id=raw["alert_id"],
        center=raw["center"],
        severity=Severity(raw["severity"]),
        route=raw["route"],
        levels={int(level): tuple(ids) for level, ids in raw["levels"].items()},
        timings=Timings(**{key: parse_wait(raw["timings"][key]) for key in _TIMINGS}),
        windows={
            rid: Window(start, end, Days(days), hold)
            for rid, (start, end, days, hold) in raw["windows"].items()
        },
        level=raw["level"],
        level_since=raw["level_since"],
        notices=tuple(_notice_of(notice) for notice in raw["notices"]),
        notified={rid: tuple(ids) for rid, ids in raw["notified"].items()},
        last_notice={int(level): at for level, at in raw["last_notice"].items()},
        held=tuple(
            Held(receiver, _notice_of(notice), Reason(reason), until)
            for receiver, notice, reason, until in raw["held"]
        ),
        acked_at=raw["acked_at"],
        acked_by=raw["acked_by"],
        ack_lapsed=raw["ack_lapsed"],
        cancelled=raw["cancelled"],
        cancelled_by=raw["cancelled_by"],
        closed=None if closed is None else Resolution(closed),
        next_due=raw["next_due"],
    )
