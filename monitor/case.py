"""One case's life (办件): its events, in event-time order, turned into clocks, a light and alerts.

A :class:`Case` is pure: it is given events and instants and never reads a clock, a file or a
socket. Events are applied in ``(occurred_at, type order, event_id)`` order whatever order they
arrive in. An in-order event is applied incrementally; a late one (before the case's time)
replays the case from its history, and alerts the corrected history no longer supports are
resolved as ``corrected``.

Time only moves forward through :meth:`Case.advance`: every clock threshold between the case's
time and the new instant fires at its own instant, in order, so alert instants are event time
(the deadline instant, or the offending event's ``occurred_at``), never processing time.

The case's vocabulary (status, light, facts, terms) is :mod:`monitor.casetypes`; what a case
shows (its view, timeline and clocks, each alert) is :mod:`monitor.caseview`.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterator
from typing import Any

from monitor.alert import Alert, AlertKind, AlertStatus, Resolution
from monitor.casetypes import (
    EVENT_ID,
    ORDER,
    RANK,
    RAW,
    SOURCE,
    Command,
    Fact,
    Light,
    Outcome,
    Rules,
    Status,
    SupervisorAction,
    Terms,
    fact_of,
)
from monitor.clock import Clock
from monitor.config import Item
from monitor.events import (
    Accepted,
    AnyEvent,
    EventType,
    Extended,
    Rejected,
    StepCompleted,
    StepStarted,
    Suspended,
    SuspendReason,
    parse_event,
)

Threshold = tuple[int, Callable[[int], None]]
"""A clock threshold still to fire: its instant and what fires then (a plain tuple, which
costs no allocation when it is the candidate itself)."""


_SLOT_WARNING = "warning"
_SLOT_OVERDUE = "overdue"
_SLOT_STATUTORY = "statutory"
_SLOT_INTAKE = "intake"
_SLOT_MATERIALS = "materials"
_SLOT_SUSPENSION = "suspension"
_SLOT_STEP = "step:"


class Case:
    """The state of one case, built from its history; see the module docstring."""

    __slots__ = (
        "_changes",
        "_next",
        "_stale",
        "accepted_at",
        "actions",
        "active",
        "alerts",
        "case_id",
        "closed_at",
        "closed_deadline",
        "closed_statutory",
        "deemed",
        "described",
        "explicit",
        "extended_s",
        "facts",
        "handler",
        "intake",
        "item_snapshot",
        "materials",
        "occurrences",
        "opened_by",
        "promised",
        "rules",
        "status",
        "statutory",
        "steps",
        "submitted_at",
        "supplements",
        "suspended",
        "suspension",
        "terms",
        "time",
        "window",
    )

    def __init__(self, case_id: str, rules: Rules) -> None:
        self.case_id = case_id
        self.rules = rules
        self.facts: list[Fact] = []
        self.actions: list[SupervisorAction] = []
        # the source of the first event received (arrival order, not event time): who may
        # write to the case besides its centre's sources (monitor.writers)
        self.opened_by: str | None = None
        # the catalog item as first seen: later catalog edits do not apply to this case
        self.item_snapshot: Item | None = None
        self.time = 0
        self.alerts: dict[str, Alert] = {}
        self._changes: dict[str, Alert] = {}
        # each event's (type, data) for the timeline view, by its bytes: parsed once per case
        # held (monitor.caseview)
        self.described: dict[bytes, tuple[str, Any]] = {}
        self._reset()

    # -- state ------------------------------------------------------------------------------

    def _reset(self) -> None:
        self.terms: Terms | None = None
        self.status: Status | None = None  # None until the first opening event
        self.deemed = False  # accepted by art. 32 (intake clock ran out)
        self.explicit = False  # a case.accepted was applied
        self.intake: Clock | None = None
        self.promised: Clock | None = None
        self.statutory: Clock | None = None
        self.materials: Clock | None = None
        self.suspension: Clock | None = None
        self.steps: dict[str, Clock | None] = {}
        self.suspended = False
        self.supplements = 0
        self.extended_s = 0
        self.active: dict[str, Alert] = {}
        self.occurrences: dict[str, int] = {}
        self.submitted_at: int | None = None
        self.accepted_at: int | None = None
        self.closed_at: int | None = None
        self.closed_deadline: int | None = None
        self.closed_statutory: int | None = None
        self.handler: str | None = None
        self.window: str | None = None
        self._next: Threshold | None = None
        self._stale = True  # _next is to be found again: the state changed

    @property
    def is_open(self) -> bool:
        """Not yet ended (completed, rejected or withdrawn)."""
        return self.closed_at is None

    # -- input ------------------------------------------------------------------------------

    def apply(self, event: AnyEvent, fact: Fact | None = None) -> Outcome:
        """Take one validated event: apply it in event-time order, or say it is a duplicate.

        ``fact`` is the event's :func:`fact_of` when the caller built it (with the raw bytes)."""
        facts = self.facts
        if fact is None:
            fact = fact_of(event)
        at, _, event_id, source, raw = fact
        for known in facts:
            if known[EVENT_ID] == event_id and known[SOURCE] == source:
                same = known[RAW] == raw or parse_event(known[RAW]) == event
                return Outcome.DUPLICATE if same else Outcome.CONFLICT
        if self.opened_by is None:
            self.opened_by = source  # interned by fact_of
        if at >= self.time and (not facts or fact > facts[-1]):
            self.advance(at)
            facts.append(fact)
            self._apply(at, event)
        else:
            bisect.insort(facts, fact)
            self._replay()
        return Outcome.APPLIED

    def has_event(self, source: str, event_id: str) -> bool:
        """Whether this case holds the event ``(source, event_id)``."""
        return any(fact[EVENT_ID] == event_id and fact[SOURCE] == source for fact in self.facts)

    def act(self, action: SupervisorAction) -> Alert | None:
        """Acknowledge or cancel one alert of this case (a supervisor's 督办 decision)."""
        if action.alert_id not in self.alerts:
            return None
        self.advance(action.at)
        action = SupervisorAction(
            max(action.at, self.time), action.alert_id, action.command, action.note
        )
        self.actions.append(action)
        self._act(action)
        return self.alerts[action.alert_id]

    def advance(self, instant: int) -> None:
        """Let time run to ``instant``: every threshold reached on the way fires at its instant."""
        while True:
            due = self._due()
            if due is None or due[0] > instant:
                break
            at, fire = due
            self.time = max(self.time, at)
            fire(self.time)
            self._next, self._stale = None, True
        if instant > self.time:
            self.time = instant

    def next_change(self) -> int | None:
        """The next instant at which the light or the alerts change if no event arrives."""
        due = self._due()
        return None if due is None else max(due[0], self.time)

    def take_changes(self) -> list[Alert]:
        """Alerts raised, resolved, acknowledged or corrected since the last call."""
        changes = list(self._changes.values())
        self._changes.clear()
        return changes

    def recompute(self) -> None:
        """Rebuild from the history, e.g. after an operator loaded a new calendar year."""
        self._replay()

    # -- replay -----------------------------------------------------------------------------

    def _replay(self) -> None:
        before = {alert_id: alert.state() for alert_id, alert in self.alerts.items()}
        old, time = self.alerts, self.time
        self.alerts, self.time = {}, 0
        self._reset()
        actions = iter(self.actions)
        action = next(actions, None)
        for at, _, _, _, raw in self.facts:
            while action is not None and action.at < at:
                self.advance(action.at)
                self._act(action)
                action = next(actions, None)
            self.advance(at)
            self._apply(at, parse_event(raw))
        while action is not None:
            self.advance(action.at)
            self._act(action)
            action = next(actions, None)
        self.advance(time)
        for alert_id, alert in old.items():
            if alert_id not in self.alerts:
                if alert.resolution is not Resolution.CORRECTED:
                    alert.resolve(self.time, Resolution.CORRECTED)
                self.alerts[alert_id] = alert
        self._changes = {
            alert_id: alert
            for alert_id, alert in self.alerts.items()
            if before.get(alert_id) != alert.state()
        }

    # -- events -----------------------------------------------------------------------------

    def _apply(self, at: int, event: AnyEvent) -> None:
        if event.handler is not None:
            self.handler = event.handler
        if event.window is not None:
            self.window = event.window
        self._next, self._stale = None, True  # None: a stale threshold holds no method
        _HANDLERS[event.type](self, at, event)

    def _on_submitted(self, at: int, event: AnyEvent) -> None:
        if self.status not in (None, Status.SUBMITTED):
            return self._violation(at, event, "case.submitted after the case was accepted")
        terms = self._terms(event, None)
        self.status = Status.SUBMITTED
        self.submitted_at = at
        self.intake = Clock(terms.timelines[terms.item.intake.unit], terms.item.intake, at)
        self.occurrences[_SLOT_INTAKE] = self.occurrences.get(_SLOT_INTAKE, 0) + 1

    def _on_correction_requested(self, at: int, event: AnyEvent) -> None:
        if self.status is not Status.SUBMITTED:
            return self._violation(at, event, "补正告知 is only possible before acceptance")
        self.intake = None  # stopped; the next case.submitted restarts it

    def _on_accepted(self, at: int, event: AnyEvent) -> None:
        assert isinstance(event, Accepted)
        if self.explicit or not self.is_open:
            return self._violation(at, event, "case.accepted twice or after the case ended")
        terms = self._terms(event, event)
        self.explicit = True
        if self.deemed:
            self._resolve(_SLOT_INTAKE, at, Resolution.ACCEPTED)
            if self.promised is not None and (
                terms.promised.seconds + self.extended_s != self.promised.budget
            ):
                # Limits given at acceptance replace the catalog's from the start. The replay
                # takes these terms from the first event on, so it never comes back here.
                self._replay()
                return None
        else:
            self._open(at, terms)
            self.accepted_at = at
        if event.data.mode == "tolerance" and event.data.materials_due is not None:
            due = event.data.materials_due
            self.materials = Clock(terms.timelines[due.unit], due, at)
            if self.suspended:
                self.materials.pause(at)
        return None

    def _open(self, start: int, terms: Terms) -> None:
        self.status = Status.OPEN
        self.intake = None
        self.promised = Clock(terms.timelines[terms.promised.unit], terms.promised, start)
        self.statutory = Clock(terms.timelines[terms.statutory.unit], terms.statutory, start)

    def _on_rejected(self, at: int, event: AnyEvent) -> None:
        assert isinstance(event, Rejected)
        if not self.is_open:
            return self._violation(at, event, "case.rejected after the case ended")
        if self.status is Status.OPEN:
            self._violation(at, event, "不予受理 after the case was accepted")
        elif self.status is None:
            self._violation(at, event, "case.rejected before the case was submitted")
        if not (event.data.reason or "").strip():
            self._raise(
                AlertKind.REJECTION_WITHOUT_REASON,
                event.event_id,
                at,
                "不予受理 without a reason (应当说明理由)",
            )
        self._close(at, Status.REJECTED, Resolution.REJECTED)
        return None

    def _on_step_started(self, at: int, event: AnyEvent) -> None:
        assert isinstance(event, StepStarted)
        step = event.data.step
        if self.status is not Status.OPEN or not self.is_open or step in self.steps:
            return self._violation(at, event, f"step {step!r} cannot start now")
        limit = event.data.limit
        clock = None
        if limit is not None:
            assert self.terms is not None
            clock = Clock(self.terms.timelines[limit.unit], limit, at)
            if self.suspended:
                clock.pause(at)
        self.steps[step] = clock
        return None

    def _on_step_completed(self, at: int, event: AnyEvent) -> None:
        assert isinstance(event, StepCompleted)
        step = event.data.step
        if step not in self.steps or not self.is_open:
            return self._violation(at, event, f"step {step!r} was not started")
        del self.steps[step]
        self._resolve(_SLOT_STEP + step, at, Resolution.COMPLETED)
        return None

    def _on_suspended(self, at: int, event: AnyEvent) -> None:
        assert isinstance(event, Suspended)
        if self.status is not Status.OPEN or not self.is_open or self.suspended:
            return self._violation(at, event, "case.suspended while not running")
        self.suspended = True
        for clock in self._running_clocks():
            clock.pause(at)
        reason = event.data.reason
        if reason is SuspendReason.OTHER:
            self._raise(
                AlertKind.NON_STATUTORY_SUSPENSION,
                event.event_id,
                at,
                "suspended for a reason outside the statute",
            )
        if reason is SuspendReason.SUPPLEMENT:
            self.supplements += 1
            if self.supplements > 1:
                self._raise(
                    AlertKind.REPEATED_CORRECTION,
                    event.event_id,
                    at,
                    f"补正 number {self.supplements} (一次性告知)",
                )
        expected = event.data.expected
        if expected is not None:
            assert self.terms is not None
            self.suspension = Clock(self.terms.timelines[expected.unit], expected, at)
            self.occurrences[_SLOT_SUSPENSION] = self.occurrences.get(_SLOT_SUSPENSION, 0) + 1
        return None

    def _on_resumed(self, at: int, event: AnyEvent) -> None:
        if not self.suspended or not self.is_open:
            return self._violation(at, event, "case.resumed while not suspended")
        self.suspended = False
        self.suspension = None
        self._resolve(_SLOT_SUSPENSION, at, Resolution.RESUMED)
        for clock in self._running_clocks():
            clock.resume(at)
        return None

    def _on_extended(self, at: int, event: AnyEvent) -> None:
        assert isinstance(event, Extended)
        by = event.data.by
        promised, statutory, terms = self.promised, self.statutory, self.terms
        if self.status is not Status.OPEN or not self.is_open or promised is None:
            return self._violation(at, event, "case.extended while the case is not open")
        assert statutory is not None and terms is not None
        if by.unit.family != terms.promised.unit.family:
            return self._violation(
                at, event, f"extension {by} is not in the case's unit ({terms.promised.unit.value})"
            )
        if promised.passed(at):
            self._raise(
                AlertKind.LATE_EXTENSION,
                event.event_id,
                at,
                "延期 granted after the promised deadline had passed",
            )
        cap = terms.item.extension_max
        before = self.extended_s
        self.extended_s += by.seconds
        promised.extend(by.seconds)
        allowed = self.extended_s if cap is None else min(self.extended_s, cap.seconds)
        statutory.extend(allowed - (before if cap is None else min(before, cap.seconds)))
        if cap is not None and self.extended_s > cap.seconds >= before:
            self._raise(
                AlertKind.EXTENSION_EXCEEDS_STATUTORY,
                event.event_id,
                at,
                f"extensions exceed the legal cap of {cap}",
            )
        if not promised.passed(at):
            self._resolve(_SLOT_OVERDUE, at, Resolution.EXTENDED)
        if promised.used_at(at) < self._yellow_threshold(promised):
            self._resolve(_SLOT_WARNING, at, Resolution.EXTENDED)
        if not statutory.passed(at):
            self._resolve(_SLOT_STATUTORY, at, Resolution.EXTENDED)
        return None

    def _on_materials_completed(self, at: int, event: AnyEvent) -> None:
        if self.materials is None or not self.is_open:
            return self._violation(at, event, "no 容缺 materials are outstanding")
        self.materials = None
        self._resolve(_SLOT_MATERIALS, at, Resolution.COMPLETED)
        return None

    def _on_completed(self, at: int, event: AnyEvent) -> None:
        if not self.is_open:
            return self._violation(at, event, "case.completed after the case ended")
        if self.status is not Status.OPEN:
            self._violation(at, event, "case.completed before the case was accepted")
        self._close(at, Status.COMPLETED, Resolution.COMPLETED)
        return None

    def _on_withdrawn(self, at: int, event: AnyEvent) -> None:
        if not self.is_open:
            return self._violation(at, event, "case.withdrawn after the case ended")
        if self.status is None:
            self._violation(at, event, "case.withdrawn before the case was submitted")
        self._close(at, Status.WITHDRAWN, Resolution.WITHDRAWN)
        return None

    def _on_delivered(self, at: int, event: AnyEvent) -> None:
        if self.is_open:
            self._violation(at, event, "case.delivered before the case ended")

    def _close(self, at: int, status: Status, why: Resolution) -> None:
        promised, statutory = self.promised, self.statutory
        self.closed_deadline = None if promised is None or self.suspended else promised.deadline
        self.closed_statutory = None if statutory is None or self.suspended else statutory.deadline
        for clock in self._running_clocks():
            clock.pause(at)
        self.status = status
        self.closed_at = at
        self.intake = self.materials = self.suspension = None
        self.steps = {}
        for slot in list(self.active):
            self._resolve(slot, at, why)

    def _running_clocks(self) -> Iterator[Clock]:
        for clock in (self.promised, self.statutory, self.materials, *self.steps.values()):
            if clock is not None:
                yield clock

    def _terms(self, event: AnyEvent, accepted: Accepted | None) -> Terms:
        item_code = event.item_code
        assert item_code is not None and event.center is not None
        item = self.item_snapshot
        if item is None or item.code != item_code:
            item = self.rules.item(item_code)
            assert item is not None, "the engine refuses items missing from the catalog"
            self.item_snapshot = item
        if accepted is None:
            # Limits given at acceptance apply from the start, also to a deemed acceptance.
            rank = ORDER[EventType.ACCEPTED]
            first = next((fact for fact in self.facts if fact[RANK] == rank), None)
            accepted = parse_event(first[RAW]) if first else None  # type: ignore[assignment]
        self.terms = self.rules.terms(event.center, event.department, item, accepted)
        return self.terms

    # -- thresholds -------------------------------------------------------------------------

    def _due(self) -> Threshold | None:
        """The earliest threshold still to fire; cached until the state changes."""
        if not self._stale:
            return self._next
        best: Threshold | None = None
        for candidate in self._candidates():  # in order: the first of equal instants wins
            at = candidate[0]
            if at is not None and (best is None or at < best[0]):
                best = candidate  # type: ignore[assignment]  # at is not None
        self._next, self._stale = best, False
        return best

    def _candidates(self) -> list[tuple[int | None, Callable[[int], None]]]:
        """Every threshold the state still has, as (instant, what fires), in the order that
        decides between equal instants; the instant is None while its clock is paused."""
        found: list[tuple[int | None, Callable[[int], None]]] = []
        status = self.status
        if status is Status.SUBMITTED:
            if self.intake is not None:
                found.append((self.intake.deadline, self._intake_ran_out))
            return found
        if status is not Status.OPEN or self.closed_at is not None:
            return found
        active = self.active
        promised = self.promised
        if promised is not None and _SLOT_OVERDUE not in active:
            deadline = promised.deadline
            if _SLOT_WARNING not in active:
                threshold = self._yellow_threshold(promised)
                # A case already past its deadline when this state began (deemed acceptance, a
                # short extension) goes straight to red, without a yellow at the same instant.
                if threshold < promised.budget and (deadline is None or deadline > self.time):
                    found.append((promised.instant_for(threshold), self._turn_yellow))
            found.append((deadline, self._turn_red))
        if self.statutory is not None and _SLOT_STATUTORY not in active:
            found.append((self.statutory.deadline, self._statutory_passed))
        if self.materials is not None and _SLOT_MATERIALS not in active:
            found.append((self.materials.deadline, self._materials_overdue))
        for step, clock in self.steps.items():
            if clock is not None and _SLOT_STEP + step not in active:
                found.append((clock.deadline, _StepDue(self, step)))
        if self.suspension is not None and _SLOT_SUSPENSION not in active:
            found.append((self.suspension.deadline, self._suspension_overdue))
        return found

    def _yellow_threshold(self, clock: Clock) -> int:
        assert self.terms is not None
        numerator, denominator = self.terms.yellow_ratio
        return -(-clock.budget * numerator // denominator)  # ceiling, exact

    def _intake_ran_out(self, at: int) -> None:
        intake, terms = self.intake, self.terms
        assert intake is not None and terms is not None
        self._raise(
            AlertKind.INTAKE_OVERDUE,
            str(self.occurrences.get(_SLOT_INTAKE, 1)),
            at,
            "受理时限 passed: deemed accepted (行政许可法 art. 32)",
            slot=_SLOT_INTAKE,
        )
        self.deemed = True
        self.accepted_at = intake.start
        self._open(intake.start, terms)

    def _turn_yellow(self, at: int) -> None:
        self._raise(
            AlertKind.DEADLINE_WARNING,
            self._occurrence(_SLOT_WARNING),
            at,
            "promised deadline approaching",
            slot=_SLOT_WARNING,
        )

    def _turn_red(self, at: int) -> None:
        self._resolve(_SLOT_WARNING, at, Resolution.SUPERSEDED)
        self._raise(
            AlertKind.DEADLINE_OVERDUE,
            self._occurrence(_SLOT_OVERDUE),
            at,
            "promised deadline passed",
            slot=_SLOT_OVERDUE,
        )

    def _statutory_passed(self, at: int) -> None:
        self._raise(
            AlertKind.STATUTORY_OVERDUE,
            self._occurrence(_SLOT_STATUTORY),
            at,
            "statutory deadline passed",
            slot=_SLOT_STATUTORY,
        )

    def _materials_overdue(self, at: int) -> None:
        self._raise(
            AlertKind.MATERIALS_OVERDUE,
            "1",
            at,
            "容缺 materials not completed in time",
            slot=_SLOT_MATERIALS,
        )

    def _suspension_overdue(self, at: int) -> None:
        self._raise(
            AlertKind.SUSPENSION_OVERDUE,
            str(self.occurrences.get(_SLOT_SUSPENSION, 1)),
            at,
            "still suspended past the expected time",
            slot=_SLOT_SUSPENSION,
        )

    # -- alerts -----------------------------------------------------------------------------

    def _occurrence(self, slot: str) -> str:
        count = self.occurrences.get(slot, 0) + 1
        self.occurrences[slot] = count
        return str(count)

    def _raise(
        self, kind: AlertKind, subject: str, at: int, detail: str, slot: str | None = None
    ) -> None:
        alert = Alert(self.case_id, kind, subject, at, detail)
        self.alerts[alert.id] = alert
        self._changes[alert.id] = alert
        if slot is not None:
            self.active[slot] = alert

    def _resolve(self, slot: str, at: int, why: Resolution) -> None:
        alert = self.active.pop(slot, None)
        if alert is not None and alert.active:
            alert.resolve(at, why)
            self._changes[alert.id] = alert

    def _violation(self, at: int, event: AnyEvent, detail: str) -> None:
        self._raise(AlertKind.PROCEDURE_VIOLATION, event.event_id, at, detail)

    def _act(self, action: SupervisorAction) -> None:
        alert = self.alerts.get(action.alert_id)
        if alert is None:
            return
        if action.command is Command.ACKNOWLEDGE:
            if alert.acknowledged_at is None:
                alert.acknowledged_at = action.at
                alert.note = action.note
            if alert.status is AlertStatus.FIRING:
                alert.status = AlertStatus.ACKNOWLEDGED
        elif alert.active or (alert.resolved_at or 0) > action.at:
            alert.resolve(action.at, Resolution.CANCELLED, action.note)
        self._changes[alert.id] = alert

    # -- light ------------------------------------------------------------------------------

    def light_at(self, instant: int) -> Light:
        """The light at ``instant`` (not before the case's time)."""
        if not self.is_open:
            return Light.CLOSED
        if self.suspended or (self.status is Status.SUBMITTED and self.intake is None):
            return Light.SUSPENDED  # paused, or waiting for the applicant's 补正
        clock = self.promised if self.status is Status.OPEN else self.intake
        if clock is None:
            return Light.GREEN
        if clock.passed(instant):
            return Light.RED if clock is self.promised else Light.YELLOW
        threshold = self._yellow_threshold(clock)
        if threshold < clock.budget and clock.used_at(instant) >= threshold:
            return Light.YELLOW
        return Light.GREEN

    @property
    def breached(self) -> bool:
        """Ever red: the promised deadline passed while open (and no correction took it back)."""
        return any(
            alert.kind is AlertKind.DEADLINE_OVERDUE
            and alert.resolution is not Resolution.CORRECTED
            for alert in self.alerts.values()
        )


class _StepDue:
    """The firing action of one step's clock (a bound method cannot carry the step name)."""

    __slots__ = ("case", "step")

    def __init__(self, case: Case, step: str) -> None:
        self.case = case
        self.step = step

    def __call__(self, at: int) -> None:
        case = self.case
        case._raise(
            AlertKind.STEP_OVERDUE,
            f"{self.step}#{case._occurrence(_SLOT_STEP + self.step)}",
            at,
            f"step {self.step!r} passed its limit",
            slot=_SLOT_STEP + self.step,
        )


_HANDLERS: dict[EventType, Callable[[Case, int, Any], None]] = {
    EventType.SUBMITTED: Case._on_submitted,
    EventType.CORRECTION_REQUESTED: Case._on_correction_requested,
    EventType.ACCEPTED: Case._on_accepted,
    EventType.REJECTED: Case._on_rejected,
    EventType.STEP_STARTED: Case._on_step_started,
    EventType.STEP_COMPLETED: Case._on_step_completed,
    EventType.SUSPENDED: Case._on_suspended,
    EventType.RESUMED: Case._on_resumed,
    EventType.EXTENDED: Case._on_extended,
    EventType.MATERIALS_COMPLETED: Case._on_materials_completed,
    EventType.COMPLETED: Case._on_completed,
    EventType.WITHDRAWN: Case._on_withdrawn,
    EventType.DELIVERED: Case._on_delivered,
}
