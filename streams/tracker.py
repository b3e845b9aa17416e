"""The case tracker: one event or one timer tick in, what to store, publish and arm out.

This is the worker's logic without Kafka: the faust agent (``streams/app.py``) hands it bytes
and a store (the worker's table), and sends what it returns. Bad input never raises: it
comes back as a dead letter with the original bytes and the reasons.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable, MutableMapping
from dataclasses import dataclass, field
from enum import Enum

from monitor import jsontext
from monitor.alert import Alert
from monitor.case import Case
from monitor.casetypes import Outcome
from monitor.caseview import alert_view, instant_formatter, published_view
from monitor.config import Config
from monitor.configrecord import affects_open_cases
from monitor.engine import Engine
from monitor.events import AnyEvent, EventRefused, FieldError, parse_event
from monitor.readmodel import FeedRecord, TopicRecord
from monitor.records import (
    AlertRecord,
    AuditRecord,
    CaseRecord,
    CommandRefused,
    SupervisorCommand,
    Version,
)
from monitor.snapshot import dump_case, load_case

log = logging.getLogger(__name__)
REASON_HEADER = "redline-refused"  # the reasons of a dead letter, as JSON


@dataclass(slots=True)
class DeadLetter:
    """An event refused: its original key and bytes, and why."""

    key: bytes | None
    value: bytes
    errors: list[FieldError]

    def headers(self) -> list[tuple[str, bytes]]:
        reasons = [{"field": e.field, "rule": e.rule} for e in self.errors]
        return [(REASON_HEADER, json.dumps(reasons, ensure_ascii=False).encode())]


@dataclass(slots=True)
class Outputs:
    """What handling one message, or a batch of them, produced."""

    dead: list[DeadLetter] = field(default_factory=list)
    # case views and alert changes, each with its case's version, and the decisions applied:
    # written to the read model and published (``cases``, ``alerts``, ``audit``)
    records: list[TopicRecord] = field(default_factory=list)
    feed: list[FeedRecord] = field(default_factory=list)
    arm: list[tuple[str, int | None]] = field(default_factory=list)  # case id, next change
    # cases changed and not yet published, with their alert changes by id (the latest state
    # of an alert is what gets published: it carries both its firing and its resolution)
    touched: dict[str, tuple[Case, dict[str, Alert]]] = field(default_factory=dict)

    @property
    def cases(self) -> list[tuple[bytes, bytes]]:
        """The records for ``redline-cases``: (case id, view JSON with its version)."""
        return [r.encode() for r in self.records if isinstance(r, CaseRecord)]

    @property
    def alerts(self) -> list[tuple[bytes, bytes]]:
        """The records for ``redline-alerts``: (alert id, alert JSON with its version)."""
        return [r.encode() for r in self.records if isinstance(r, AlertRecord)]

    @property
    def audit(self) -> list[tuple[bytes, bytes]]:
        """The records for ``redline-audit``: (entry id, the decision as applied)."""
        return [r.encode() for r in self.records if isinstance(r, AuditRecord)]


class Inbound(Enum):
    """The topics the tracker reads, all keyed by case id and co-partitioned."""

    EVENT = "event"
    # an events record already handled, by this worker or by the one that had its partition
    # before (streams.kit.handled), read again after a rebalance: applied (the engine ignores
    # it as a duplicate), but its per-record outputs (the feed health count, a dead letter) are
    # not made a second time
    EVENT_AGAIN = "event again"
    TICK = "tick"
    COMMAND = "command"


class Tracker:
    """Applies events and ticks to the cases of the partitions a worker owns."""

    def __init__(
        self, engine: Engine, store: MutableMapping[str, bytes], cached_cases: int = 50_000
    ) -> None:
        self.engine = engine
        self.store = store  # case id -> snapshot (monitor.snapshot)
        # The cases held in memory, least recently used first. Beyond ``cached_cases`` the
        # oldest are forgotten (their snapshots stay in the store and are loaded again when
        # needed), so a worker's heap does not grow with every open case it has ever ticked.
        self.cached_cases = cached_cases
        self._recent: OrderedDict[str, None] = OrderedDict()
        # the version of the configuration the engine runs (monitor.configrecord): the third
        # part of every case's version, so that a case recomputed under a new configuration
        # replaces its view counted under the old one
        self.config_version = 0

    def switch(self, config: Config, version: int) -> bool:
        """Run ``config`` (version ``version``) from now on. Returns whether open cases must be
        recomputed (:func:`~monitor.configrecord.affects_open_cases`); if so the cases held in
        memory are dropped, so that each is loaded again, and recomputed, when next needed
        (:meth:`recompute` goes through the rest)."""
        affects = affects_open_cases(self.engine.config, config)
        self.engine.use(config)
        self.config_version = version
        if affects:
            self.forget_all()
        return affects

    def recompute(
        self,
        case_ids: Iterable[str],
        now: int,
        touches: Callable[[bytes], bool] | None = None,
    ) -> Outputs:
        """Recompute these cases (of one partition) under the configuration now running: each
        not yet held is loaded again from its snapshot, which replays it under the new
        configuration; its view is republished, its timer re-armed, its alerts corrected or
        fired (each newly due at its own instant, up to ``now``). A case already held was
        loaded since the switch: it is counted anew already. ``touches`` (a snapshot in, whether
        the change can move anything of it) leaves out, unloaded, the cases it says no to."""
        out = Outputs()
        for case_id in case_ids:
            if case_id in self.engine.cases:
                continue
            if touches is not None:
                snapshot = self.store.get(case_id)
                if snapshot is None or not touches(snapshot):
                    continue
            case = self._case(case_id, out)
            if case is not None and case.is_open:
                self._touch(out, case, [])
        return self._finish(out, now)

    def on_batch(
        self, messages: Iterable[tuple[Inbound, bytes | None, bytes]], arrived_at: int
    ) -> Outputs:
        """Messages of one partition, in their order: each case changed is stored, published
        and armed once, after the whole batch (the table and the topics get one record per
        case rather than one per message).

        ``arrived_at`` is the wall clock. A case changed in the batch whose thresholds it
        already passed (an event that arrived hours late, a worker back from downtime) has them
        fired now, each at its own instant, rather than one per timer tick."""
        out = Outputs()
        for inbound, key, value in messages:
            if inbound is Inbound.EVENT:
                self._event(out, key, value, arrived_at)
            elif inbound is Inbound.EVENT_AGAIN:
                feed, dead = len(out.feed), len(out.dead)
                self._event(out, key, value, arrived_at)
                del out.feed[feed:], out.dead[dead:]
            elif inbound is Inbound.TICK:
                self._tick(out, key, value)
            else:
                self._command(out, key, value)
        return self._finish(out, arrived_at)

    def on_event(self, key: bytes | None, value: bytes, arrived_at: int) -> Outputs:
        """An event from ``approval-events``: validated, applied, stored, published."""
        return self.on_batch([(Inbound.EVENT, key, value)], arrived_at)

    def on_tick(self, case_id: str, due: int) -> Outputs:
        """A timer tick: let the case's time run to ``due`` (its armed instant)."""
        return self.on_batch([(Inbound.TICK, case_id.encode(), str(due).encode())], due)

    def on_command(self, key: bytes | None, value: bytes) -> Outputs:
        """A supervisor's ack or cancel from ``redline-commands``, applied to its case."""
        return self.on_batch([(Inbound.COMMAND, key, value)], 0)

    def _event(self, out: Outputs, key: bytes | None, value: bytes, arrived_at: int) -> None:
        try:
            event = parse_event(value)
        except EventRefused as refused:
            return self._refuse(out, key, value, refused.errors, arrived_at)
        if key is not None and key != event.case_id.encode():
            errors = [FieldError("(key)", "the Kafka key must be the event's case_id")]
            return self._refuse(out, key, value, errors, arrived_at)
        case = self._case(event.case_id, out)
        result = self.engine.offer(event, value)
        if result.refused:
            return self._refuse(out, key, value, result.errors, arrived_at)
        case = self.engine.cases[event.case_id] if case is None else case
        duplicate = result.outcome is Outcome.DUPLICATE
        out.feed.append(self._feed(event, arrived_at, "duplicate" if duplicate else "accepted"))
        if not duplicate:
            self._touch(out, case, result.changes)
        return None

    def _tick(self, out: Outputs, key: bytes | None, value: bytes) -> None:
        try:
            case_id, due = (key or b"").decode(), int(value)
        except (UnicodeDecodeError, ValueError):
            log.warning("ignored a malformed tick: key=%r value=%r", key, value)
            return
        case = self._case(case_id, out)
        if case is not None:
            self._touch(out, case, self.engine.advance(case_id, due))

    def _command(self, out: Outputs, key: bytes | None, value: bytes) -> None:
        try:
            command = SupervisorCommand.decode(value)
        except CommandRefused as refused:
            field, _, rule = str(refused).partition(": ")
            out.dead.append(DeadLetter(key, value, [FieldError(field, rule)]))
            return
        case = self._case(command.case_id, out)
        if case is None:
            errors = [FieldError("case_id", "no such case on this partition")]
            out.dead.append(DeadLetter(key, value, errors))
            return
        alert = self.engine.act(command.case_id, command.action())
        if alert is None:
            errors = [FieldError("alert_id", "not an alert of this case")]
            out.dead.append(DeadLetter(key, value, errors))
            return
        # applied: the audit log has it from here, and only from here
        out.records.append(AuditRecord.of(command, alert.kind.value))
        self._touch(out, case, case.take_changes())

    def _touch(self, out: Outputs, case: Case, changes: list[Alert]) -> None:
        touched = out.touched.get(case.case_id)
        if touched is None:
            touched = out.touched[case.case_id] = (case, {})
        for alert in changes:
            touched[1][alert.id] = alert

    def _finish(self, out: Outputs, now: int) -> Outputs:
        for case, changes in out.touched.values():
            # the case's time stays on a threshold's instant, never runs ahead to `now`
            passed: int | None = None  # the threshold just fired: never fire the same twice
            while (
                case.is_open
                and (due := case.next_change()) is not None
                and due <= now
                and due != passed
            ):
                case.advance(due)
                passed = due
                for alert in case.take_changes():
                    changes[alert.id] = alert
            self._publish(out, case, list(changes.values()))
        out.touched.clear()
        recent = self._recent
        while len(recent) > self.cached_cases:
            self.engine.forget(recent.popitem(last=False)[0])
        return out

    def _case(self, case_id: str, out: Outputs) -> Case | None:
        """The case held, or loaded from its snapshot; what loading it under a configuration
        other than the snapshot's changed (its alerts) is published with the rest."""
        case = self.engine.cases.get(case_id)
        if case is None:
            snapshot = self.store.get(case_id)
            if snapshot is not None:
                case = load_case(snapshot, self.engine.rules)
                self.engine.adopt(case)
                self._recent[case_id] = None  # so that it is forgotten in its turn
                changes = case.take_changes()
                if changes:
                    self._touch(out, case, changes)
        return case

    def forget_all(self) -> None:
        """Hold no case in memory (after a rebalance: another worker may have changed them)."""
        self.engine.forget()
        self._recent.clear()

    def _publish(self, out: Outputs, case: Case, changes: list[Alert]) -> None:
        self.store[case.case_id] = dump_case(case)
        view = published_view(case)
        # the case's version goes with the view and its alerts: a replayed older state cannot
        # win; each is serialised once, for the read model and for Kafka alike
        version = Version(len(case.facts) + len(case.actions), case.time, self.config_version)
        out.records.append(CaseRecord(view, version, jsontext.dumps(view)))
        fmt = instant_formatter(case.terms)
        for alert in changes:
            out.records.append(AlertRecord.of(alert_view(alert, fmt), view, version))
        out.arm.append((case.case_id, case.next_change() if case.is_open else None))
        if case.is_open:
            self._recent[case.case_id] = None
            self._recent.move_to_end(case.case_id)
        else:
            self.engine.forget(case.case_id)  # closed: kept in the store only
            self._recent.pop(case.case_id, None)

    def _refuse(
        self, out: Outputs, key: bytes | None, value: bytes, errors: list[FieldError], at: int
    ) -> None:
        out.dead.append(DeadLetter(key, value, errors))
        reason = "; ".join(map(str, errors))
        out.feed.append(FeedRecord(_source_of(value), None, at, "refused", reason))

    def _feed(self, event: AnyEvent, arrived_at: int, outcome: str) -> FeedRecord:
        center = event.center
        unknown = (
            center if center is not None and center not in self.engine.config.centers else None
        )
        return FeedRecord(
            event.source, event.occurred_at, arrived_at, outcome, unknown_center=unknown
        )


def _source_of(value: bytes) -> str | None:
    """The source of a refused event, if its JSON says, for its feed health."""
    try:
        raw = json.loads(value)
    except (ValueError, UnicodeDecodeError):
        return None
    source = raw.get("source") if isinstance(raw, dict) else None
    return source if isinstance(source, str) else None
