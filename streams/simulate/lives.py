"""Case lives (办件历程): the life of one case as its window system reports it.

One generator serves the benchmarks (``bench/workload.py``) and ``redline simulate``. A
:class:`Shape` says what a population of cases looks like: items, centres, steps, and how often
each turn of a life happens. Its *pace* says how long each phase takes:

- :class:`FixedPace` draws each wait from a fixed range of seconds and ignores deadlines (the
  benchmarks' feed);
- :class:`DeadlinePace` measures every wait against the case's own clocks (``monitor.clock``): an
  on-time case ends before its promised deadline (办结时限), a late one after it or never.

A turn whose share is 0 draws nothing from the random generator, so a shape that leaves the
optional turns out reproduces the benchmarks' histories exactly.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Any, Protocol

from monitor.clock import Clock, Timelines
from monitor.config import Item
from monitor.events import EventType
from monitor.limits import Limit, Unit, parse_limit
from monitor.timeutil import DAY, HOUR, Zone

Event = dict[str, Any]
Step = tuple[str, str | None]  # (name, limit)


class Phase(StrEnum):
    """A wait between two events of a life, named for what ends it."""

    INTAKE = "intake"  # submitted -> correction requested or rejected
    RESUBMIT = "resubmit"  # correction requested -> submitted again (the applicant's time)
    ACCEPT = "accept"  # submitted -> accepted
    MATERIALS = "materials"  # accepted in tolerance mode -> materials completed
    STEP_START = "step_start"
    STEP_RUN = "step_run"  # step started -> suspended or step completed
    SUSPENSION = "suspension"  # suspended -> resumed
    AFTER_RESUME = "after_resume"  # resumed -> step completed
    EXTEND = "extend"  # last step -> extended
    END = "end"  # -> completed or withdrawn
    DELIVER = "deliver"  # completed -> delivered


class Ending(Enum):
    """How a case's life ends."""

    COMPLETED = "completed"  # 办结
    WITHDRAWN = "withdrawn"  # 撤回
    OPEN = "open"  # not yet, as far as the feed goes


class Pace(Protocol):
    """How long each phase of one case takes, and how the case ends."""

    def gap(self, phase: Phase, at: int) -> int:
        """Seconds to wait at ``at`` before the event that ends ``phase``."""
        ...

    def observe(self, event: Event, at: int) -> None:
        """Learn of an event just written (the clocks it starts, pauses or extends)."""
        ...

    def ending(self) -> Ending:
        """How the case ends, asked once after its last step (and extension)."""
        ...


PaceFactory = Callable[[random.Random, str, str], Pace]  # (rng, item code, centre) -> pace


@dataclass(frozen=True)
class Shape:
    """What a population of cases looks like. Shares are probabilities per case; a share of 0
    is never drawn."""

    items: Sequence[str]
    centers: Sequence[str]
    pace: PaceFactory
    zone: Callable[[str], Zone]  # centre -> its time zone, for occurred_at
    steps: Callable[[str], Sequence[Step]]  # item -> its steps; a suspension falls in the first
    suspend_reasons: Sequence[str]  # drawn uniformly: repeat a reason to weight it
    expected: Callable[[str], str | None]  # suspension reason -> its expected duration (limit)
    extension: Callable[[str], str]  # item -> the limit of an extension (延期)
    handlers: int = 500
    windows: int = 0  # window ids W01.. per centre; 0: events carry no window
    departments: Mapping[str, str] = field(default_factory=dict)  # item -> department code
    suspend_share: float = 0.0
    extend_share: float = 0.0
    correction_share: float = 0.0  # 补正告知 before acceptance, then submitted again
    abandon_share: float = 0.0  # of corrected cases: withdrawn instead of submitted again
    reject_share: float = 0.0  # 不予受理
    tolerance_share: float = 0.0  # 容缺受理, materials completed later
    materials_due: str = "5wd"
    denied_share: float = 0.0  # of completed cases: result denied rather than approved
    deliver_share: float = 0.0  # of completed cases: 送达 follows
    approver: str = "chief"


def chance(rng: random.Random, share: float) -> bool:
    """True with probability ``share``; draws nothing when the share is 0."""
    return share > 0 and rng.random() < share


REJECT_REASONS = ("不属于本机关职权范围", "申请材料不符合法定形式", "申请人不具备申请资格")
MISSING_MATERIALS = ("营业执照副本", "法定代表人身份证明", "场所平面图", "授权委托书")


class _Writer:
    """The events of one case, numbered, stamped and shown to the pace as they are written."""

    __slots__ = ("case_id", "events", "instants", "pace", "source", "t", "zone")

    def __init__(self, case_id: str, source: str, start: int, zone: Zone, pace: Pace) -> None:
        self.case_id = case_id
        self.source = source
        self.t = start
        self.zone = zone
        self.pace = pace
        self.events: list[Event] = []
        self.instants: list[int] = []

    def timed(self) -> list[tuple[int, Event]]:
        return list(zip(self.instants, self.events, strict=True))

    def wait(self, phase: Phase) -> None:
        self.t += self.pace.gap(phase, self.t)

    def add(self, kind: EventType, **fields: Any) -> None:
        event = {
            "event_id": f"{self.case_id}-{len(self.events)}",
            "type": kind.value,
            "case_id": self.case_id,
            "occurred_at": self.zone.format(self.t),
            "source": self.source,
            **fields,
        }
        self.events.append(event)
        self.instants.append(self.t)
        self.pace.observe(event, self.t)


def case_history(rng: random.Random, case_id: str, start: int, shape: Shape) -> list[Event]:
    """One case's events in the order they happened, the first at ``start``: submitted,
    accepted, its steps, sometimes a suspension or an extension, then its ending."""
    return [event for _, event in timed_history(rng, case_id, start, shape)]


def timed_history(
    rng: random.Random, case_id: str, start: int, shape: Shape
) -> list[tuple[int, Event]]:
    """:func:`case_history` with each event's instant (epoch seconds) beside it."""
    item = rng.choice(shape.items)
    center = rng.choice(shape.centers)
    handler = f"h{rng.randrange(shape.handlers)}"
    pace = shape.pace(rng, item, center)
    life = _Writer(case_id, f"win-{center}", start, shape.zone(center), pace)
    opening = {"center": center, "item_code": item}
    window = {"window": f"W{rng.randrange(shape.windows) + 1:02d}"} if shape.windows else {}
    submitted = {**opening, "handler": handler, **window}
    if _intake(rng, life, shape, submitted):
        return life.timed()
    tolerance = chance(rng, shape.tolerance_share)
    life.wait(Phase.ACCEPT)
    department = shape.departments.get(item)
    accepted: dict[str, Any] = {**opening, "department": department} if department else opening
    if tolerance:
        accepted = {**accepted, "data": {"mode": "tolerance", "materials_due": shape.materials_due}}
    life.add(EventType.ACCEPTED, **accepted)
    if tolerance:
        life.wait(Phase.MATERIALS)
        life.add(EventType.MATERIALS_COMPLETED)
    _steps(rng, life, shape, item)
    if chance(rng, shape.extend_share):
        life.wait(Phase.EXTEND)
        by = shape.extension(item)
        life.add(EventType.EXTENDED, data={"by": by, "approved_by": shape.approver})
    _end(rng, life, shape, pace.ending())
    return life.timed()


def _intake(rng: random.Random, life: _Writer, shape: Shape, submitted: dict[str, Any]) -> bool:
    """Submitted, maybe corrected (补正) and submitted again; True if the case ended there
    (withdrawn, or rejected: 不予受理)."""
    life.add(EventType.SUBMITTED, **submitted)
    if chance(rng, shape.correction_share):
        life.wait(Phase.INTAKE)
        materials = rng.sample(MISSING_MATERIALS, rng.randrange(1, 3))
        life.add(EventType.CORRECTION_REQUESTED, data={"materials": materials})
        life.wait(Phase.RESUBMIT)
        if chance(rng, shape.abandon_share):
            life.add(EventType.WITHDRAWN, data={"reason": "申请人撤回"})
            return True
        life.add(EventType.SUBMITTED, **submitted)
    if chance(rng, shape.reject_share):
        life.wait(Phase.INTAKE)
        life.add(EventType.REJECTED, data={"reason": rng.choice(REJECT_REASONS)})
        return True
    return False


def _end(rng: random.Random, life: _Writer, shape: Shape, ending: Ending) -> None:
    if ending is Ending.COMPLETED:
        result = "denied" if chance(rng, shape.denied_share) else "approved"
        life.wait(Phase.END)
        life.add(EventType.COMPLETED, data={"result": result})
        if chance(rng, shape.deliver_share):
            life.wait(Phase.DELIVER)
            life.add(EventType.DELIVERED)
    elif ending is Ending.WITHDRAWN:
        life.wait(Phase.END)
        life.add(EventType.WITHDRAWN, data={"reason": "申请人撤回"})


def _steps(rng: random.Random, life: _Writer, shape: Shape, item: str) -> None:
    for index, (step, limit) in enumerate(shape.steps(item)):
        life.wait(Phase.STEP_START)
        life.add(
            EventType.STEP_STARTED,
            data={"step": step} if limit is None else {"step": step, "limit": limit},
        )
        life.wait(Phase.STEP_RUN)
        if index == 0 and chance(rng, shape.suspend_share):
            reason = rng.choice(shape.suspend_reasons)
            expected = shape.expected(reason)
            data = (
                {"reason": reason} if expected is None else {"reason": reason, "expected": expected}
            )
            life.add(EventType.SUSPENDED, data=data)
            life.wait(Phase.SUSPENSION)
            life.add(EventType.RESUMED)
            life.wait(Phase.AFTER_RESUME)
        life.add(EventType.STEP_COMPLETED, data={"step": step})


# -- paces ------------------------------------------------------------------------------------


class FixedPace:
    """Each wait drawn from a fixed range of seconds; completed with a fixed share, else left
    open. Deadlines play no part (the benchmarks' feed)."""

    def __init__(
        self, rng: random.Random, gaps: Mapping[Phase, tuple[int, int]], complete_share: float
    ) -> None:
        self.rng = rng
        self.gaps = gaps
        self.complete_share = complete_share

    def gap(self, phase: Phase, at: int) -> int:
        low, high = self.gaps[phase]
        return self.rng.randrange(low, high)

    def observe(self, event: Event, at: int) -> None:
        pass

    def ending(self) -> Ending:
        return Ending.COMPLETED if self.rng.random() < self.complete_share else Ending.OPEN


# Share of the room left before the case's target taken at most by each wait: the room is never
# used up before the ending, however many events come first.
_ROOM_SHARE = {
    Phase.MATERIALS: 0.5,
    Phase.STEP_START: 0.25,
    Phase.STEP_RUN: 0.4,
    Phase.AFTER_RESUME: 0.2,
    Phase.EXTEND: 0.3,
}


@dataclass(frozen=True, slots=True)
class DeadlineOdds:
    """The odds a :class:`DeadlinePace` draws from."""

    late_share: float  # of accepted cases: go overdue, ending after the deadline or never
    late_open_share: float = 0.5  # of late cases: never completed
    withdraw_share: float = 0.03  # of on-time cases: withdrawn rather than completed
    overrun_share: float = 0.1  # of suspensions: last longer than expected


class DeadlinePace:
    """Waits measured against the case's clocks, as the engine counts them (SPEC §3).

    At acceptance the case is drawn on time or late. An on-time case aims to end when a share
    (0.35–0.95) of its promised budget is used, so every event falls before its deadline however
    suspensions and extensions move it; a late case does its work within the budget, then ends
    after the deadline, or never. Acceptance comes within the intake limit (受理时限).
    """

    def __init__(
        self, rng: random.Random, item: Item, timelines: Timelines, odds: DeadlineOdds
    ) -> None:
        self.rng = rng
        self.item = item
        self.timelines = timelines
        self.odds = odds
        self.late = False
        self.aim = 0.0  # share of the promised budget used when the case ends (on time)
        self.promised: Clock | None = None
        self.accepted_at = 0
        self.intake_deadline: int | None = None
        self.materials_deadline: int | None = None
        self.expected_deadline: int | None = None  # of the current suspension

    def _deadline(self, limit: Limit, at: int) -> int:
        deadline = Clock(self.timelines[limit.unit], limit, at).deadline
        assert deadline is not None  # a running clock always has one
        return deadline

    def observe(self, event: Event, at: int) -> None:
        kind = event["type"]
        data = event.get("data", {})
        if kind == EventType.SUBMITTED:
            self.intake_deadline = self._deadline(self.item.intake, at)
        elif kind == EventType.ACCEPTED:
            promised = self.item.promised
            self.promised = Clock(self.timelines[promised.unit], promised, at)
            self.accepted_at = at
            self.late = self.rng.random() < self.odds.late_share
            self.aim = self.rng.uniform(0.6, 0.95) if self.late else self.rng.uniform(0.35, 0.95)
            if "materials_due" in data:
                self.materials_deadline = self._deadline(parse_limit(data["materials_due"]), at)
        elif kind == EventType.SUSPENDED:
            assert self.promised is not None
            self.promised.pause(at)
            expected = data.get("expected")
            self.expected_deadline = (
                self._deadline(parse_limit(expected), at) if expected else at + 5 * DAY
            )
        elif kind == EventType.RESUMED:
            assert self.promised is not None
            self.promised.resume(at)
        elif kind == EventType.EXTENDED:
            assert self.promised is not None
            self.promised.extend(parse_limit(data["by"]).seconds)

    def _target(self) -> int:
        """The instant by which the case's work is done: ``aim`` of the promised budget."""
        clock = self.promised
        assert clock is not None
        deadline = clock.deadline
        used = int(clock.budget * self.aim)
        if used == 0 or deadline is None:  # a zero budget (即办件) runs on the wall clock
            end = deadline if deadline is not None else self.accepted_at
            return self.accepted_at + int((end - self.accepted_at) * self.aim)
        target = clock.instant_for(used)
        assert target is not None  # running: every instant_for is known
        return target

    def _upto(self, room: int, low: int = 0) -> int:
        """A wait of at most ``room`` seconds (at least ``low`` when the room allows)."""
        room = max(room, 0)
        return self.rng.randrange(min(low, room), room + 1)

    def gap(self, phase: Phase, at: int) -> int:
        rng = self.rng
        if phase in (Phase.INTAKE, Phase.ACCEPT):
            assert self.intake_deadline is not None
            return self._upto(min(int((self.intake_deadline - at) * 0.8), 2 * DAY), 60)
        if phase is Phase.RESUBMIT:
            return rng.randrange(DAY, 10 * DAY)
        if phase is Phase.DELIVER:
            return rng.randrange(HOUR, 3 * DAY)
        if phase is Phase.SUSPENSION:
            return self._suspension(at)
        if phase is Phase.END:
            return self._end(at)
        room = self._target() - at
        if phase is Phase.MATERIALS and self.materials_deadline is not None:
            room = min(room, self.materials_deadline - at)
        return self._upto(int(room * _ROOM_SHARE[phase]), 60)

    def _suspension(self, at: int) -> int:
        assert self.expected_deadline is not None and self.promised is not None
        room = self.expected_deadline - at
        if self.promised.budget == 0:  # its deadline does not move while paused: no overrun
            return self._upto(int(min(room, self._target() - at) * 0.9), HOUR)
        if self.rng.random() < self.odds.overrun_share:
            return room + self.rng.randrange(HOUR, 3 * DAY)  # suspension_overdue
        return self._upto(int(room * 0.9), HOUR)

    def _end(self, at: int) -> int:
        if not self.late:
            return self._upto(self._target() - at)
        assert self.promised is not None
        deadline = self.promised.deadline
        assert deadline is not None
        return max(deadline - at, 0) + self.rng.randrange(1, 10 * DAY)

    def ending(self) -> Ending:
        odds = self.odds
        if self.late:
            return Ending.OPEN if self.rng.random() < odds.late_open_share else Ending.COMPLETED
        return Ending.WITHDRAWN if self.rng.random() < odds.withdraw_share else Ending.COMPLETED


def family_extension(item: Item) -> str:
    """An extension (延期) of ``item``: its legal cap, else a usual one in its unit family."""
    if item.extension_max is not None:
        return str(item.extension_max)
    return {Unit.WORKING_DAYS: "5wd", Unit.DAYS: "10d", Unit.HOURS: "24h"}[item.promised.unit]


def step_limits(item: Item, steps: Sequence[tuple[str, float]]) -> list[Step]:
    """Steps with limits that are shares of the item's promised limit (none for 即办件)."""
    promised = item.promised
    return [
        (name, f"{max(1, round(promised.amount * share))}{promised.unit.value}")
        if promised.amount
        else (name, None)
        for name, share in steps
    ]
