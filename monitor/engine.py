"""The engine: many cases, one configuration. Pure: no Kafka, Redis, HTTP or wall clock.

Adapters (the replay command, the stream workers, the API) hand it validated events and the
current instant; it answers what became of each event and which alerts changed.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from monitor.alert import Alert
from monitor.case import Case
from monitor.casetypes import EVENT_ID, SOURCE, Outcome, Rules, SupervisorAction, Terms, fact_of
from monitor.caseview import case_view
from monitor.clock import Timelines
from monitor.config import Config, Item
from monitor.events import Accepted, AnyEvent, FieldError
from monitor.timeutil import zone
from monitor.writers import writer_refusal


@dataclass(slots=True)
class Result:
    """What became of one event: applied, duplicate, or refused with reasons; and the alerts
    that changed because of it."""

    outcome: Outcome | None
    case_id: str
    errors: list[FieldError] = field(default_factory=list)
    changes: list[Alert] = field(default_factory=list)

    @property
    def refused(self) -> bool:
        return bool(self.errors)


class Engine:
    """All open and closed cases held in memory, keyed by case id."""

    def __init__(self, config: Config) -> None:
        self.cases: dict[str, Case] = {}
        # hash of (source, event_id) -> case_id: an event id is an idempotency key across
        # all cases. A 64-bit hash instead of the two strings keeps the index small (memory only).
        self.event_ids: dict[int, str] = {}
        self._terms_cache: dict[tuple[object, ...], Terms] = {}
        self._timelines: dict[tuple[str, str], Timelines] = {}
        self.config = config
        self.rules = Rules(self._item, self._terms)

    # -- configuration ------------------------------------------------------------------------

    def use(self, config: Config) -> None:
        """Swap the configuration for what comes next; the cases held keep what they were
        counted with until they are recomputed (:meth:`reload`, or loaded again)."""
        self.config = config
        self._timelines.clear()
        self._terms_cache.clear()

    def reload(self, config: Config) -> list[Alert]:
        """Swap the configuration and recompute every open case (e.g. a new calendar year)."""
        self.use(config)
        changes: list[Alert] = []
        for case in self.cases.values():
            if case.is_open:
                case.recompute()
                changes.extend(case.take_changes())
        return changes

    def _item(self, code: str) -> Item | None:
        return self.config.catalog.get(code)

    def _terms(
        self, center: str, department: str | None, item: Item, accepted: Accepted | None
    ) -> Terms:
        data = accepted.data if accepted is not None else None
        given_promised = data.promised if data is not None else None
        given_statutory = data.statutory if data is not None else None
        # id(item): the catalog item a case was first measured against may be an older version
        # than the current one (after a reload); the cached Terms keeps that object alive.
        key = (center, department, id(item), given_promised, given_statutory)
        terms = self._terms_cache.get(key)
        if terms is None:  # one shared object for every case measured the same way
            promised = given_promised or item.promised
            statutory = given_statutory or item.statutory
            site = self.config.center(center)  # its zone and calendar
            department = department or item.department
            terms = self._terms_cache[key] = Terms(
                center=center,
                department=department,
                item=item,
                promised=promised,
                statutory=statutory,
                yellow_at=self.config.policy.yellow_at(item, center, department),
                timelines=self._timelines_for(site.timezone, site.calendar),
                zone_name=site.timezone,
            )
        return terms

    def _timelines_for(self, tz: str, calendar: str) -> Timelines:
        timelines = self._timelines.get((tz, calendar))
        if timelines is None:
            timelines = Timelines(zone(tz), self.config.calendars.get(calendar))
            self._timelines[(tz, calendar)] = timelines
        return timelines

    # -- events -------------------------------------------------------------------------------

    def check(self, event: AnyEvent) -> list[FieldError]:
        """Rules that need the configuration: the item must be in the catalog."""
        code = event.item_code
        if code is not None and code not in self.config.catalog:
            return [FieldError("item_code", f"{code!r} is not in the catalog (事项目录)")]
        return []

    def offer(self, event: AnyEvent, raw: bytes | None = None) -> Result:
        """Apply one validated event to its case (``raw``: the bytes it arrived as, kept as its
        record instead of serialising it again)."""
        code = event.item_code
        if code is not None and code not in self.config.catalog:
            return Result(None, event.case_id, self.check(event))
        case = self.cases.get(event.case_id)
        if case is not None and event.source != case.opened_by:
            refusal = self._writer_refusal(case, event)
            if refusal is not None:
                return Result(None, event.case_id, [refusal])
        known = self.event_ids.setdefault(hash((event.source, event.event_id)), event.case_id)
        other = self.cases.get(known) if known != event.case_id else None
        if other is not None and other.has_event(event.source, event.event_id):
            return Result(
                Outcome.CONFLICT,
                event.case_id,
                [
                    FieldError(
                        "event_id",
                        f"{event.event_id!r} from {event.source!r} was already received for "
                        f"case {known!r} (an event id is an idempotency key per source)",
                    )
                ],
            )
        if case is None:
            case = self.cases[event.case_id] = Case(event.case_id, self.rules)
        outcome = case.apply(event, fact_of(event, raw))
        if outcome is Outcome.CONFLICT:
            return Result(
                outcome,
                event.case_id,
                [
                    FieldError(
                        "event_id",
                        f"{event.event_id!r} from {event.source!r} was already received "
                        "with different content (an event id is an idempotency key)",
                    )
                ],
            )
        return Result(outcome, event.case_id, changes=case.take_changes())

    def _writer_refusal(self, case: Case, event: AnyEvent) -> FieldError | None:
        """Why ``event``'s source may not write to ``case`` (monitor.writers), None if it
        may. An event the case already holds passes, to be answered duplicate or conflict."""
        if case.has_event(event.source, event.event_id):
            return None
        center = case.terms.center if case.terms is not None else None
        return writer_refusal(
            case.case_id, case.opened_by, center, event.source, self.config.centers
        )

    def adopt(self, case: Case) -> None:
        """Hold a case restored from elsewhere (a worker's table), with its event ids."""
        self.cases[case.case_id] = case
        for fact in case.facts:
            self.event_ids.setdefault(hash((fact[SOURCE], fact[EVENT_ID])), case.case_id)

    def forget(self, case_id: str | None = None) -> None:
        """Stop holding a case, or every case (their snapshots stay wherever they are kept),
        with their event ids. An event id is checked across the cases held: a reuse by a case
        no longer held is not caught."""
        if case_id is None:
            self.cases.clear()
            self.event_ids.clear()
            return
        case = self.cases.pop(case_id, None)
        if case is not None:
            for fact in case.facts:
                key = hash((fact[SOURCE], fact[EVENT_ID]))
                if self.event_ids.get(key) == case_id:
                    del self.event_ids[key]

    def act(self, case_id: str, action: SupervisorAction) -> Alert | None:
        """A supervisor's acknowledgement or cancellation of an alert of ``case_id``."""
        case = self.cases.get(case_id)
        return None if case is None else case.act(action)

    def advance(self, case_id: str, now: int) -> list[Alert]:
        """Let time run for one case; the alerts that fired or resolved on the way."""
        case = self.cases[case_id]
        case.advance(now)
        return case.take_changes()

    def next_change(self, case_id: str) -> int | None:
        """When this case's light or alerts next change without new events."""
        return self.cases[case_id].next_change()

    def view(self, case_id: str, now: int) -> dict[str, Any]:
        """The case object (SPEC §6) as of ``now``."""
        return case_view(self.cases[case_id], now)

    def views(self, now: int) -> Iterator[dict[str, Any]]:
        """Every case as of ``now``, sorted by case id."""
        for case_id in sorted(self.cases):
            yield case_view(self.cases[case_id], now)
