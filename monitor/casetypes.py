"""The case's vocabulary: where a case stands, its light, what became of an event, a
supervisor's action, the terms a case is measured against, and the facts it keeps.

Small types shared by the state machine (:mod:`monitor.case`), its presentation
(:mod:`monitor.caseview`), the engine, the snapshots and the adapters, so none of them needs the
state machine to speak of a case.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from fractions import Fraction
from typing import Final

from monitor.clock import Timelines
from monitor.config import Item
from monitor.events import Accepted, AnyEvent, EventType
from monitor.limits import Limit

ORDER = {event_type: rank for rank, event_type in enumerate(EventType)}
"""Each event type's rank in the contract's type table: the order of events within a second."""


class Status(StrEnum):
    """Where a case stands (SPEC §6)."""

    SUBMITTED = "submitted"  # not yet accepted
    OPEN = "open"
    COMPLETED = "completed"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Light(StrEnum):
    """The colour a supervisor sees."""

    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"
    SUSPENDED = "suspended"
    CLOSED = "closed"


class Outcome(Enum):
    """What became of one event offered to a case."""

    APPLIED = "accepted"
    DUPLICATE = "duplicate"  # same (source, event_id), same content: ignored
    CONFLICT = "conflict"  # same (source, event_id), different content: refused


class Command(Enum):
    """A supervisor's decision on one alert (督办)."""

    ACKNOWLEDGE = "ack"
    CANCEL = "cancel"


Fact = tuple[int, int, str, str, bytes]
"""One accepted event as a case keeps it: ``(at, rank, event_id, source, raw)``, its
``occurred_at``, the :data:`ORDER` of its type, its id and source, and the event as JSON.

It sorts in event-time order (ties within a second follow the order of the contract's type
table, then the event id) and costs a few hundred bytes: the event itself is kept as its JSON
and parsed again only when the case is replayed.

A plain tuple, not a NamedTuple: the garbage collector stops tracking a tuple that holds only
numbers, strings and bytes, so the facts of a worker's million cases cost its collections
nothing. A tuple subclass stays tracked: as NamedTuples, facts doubled the objects every
collection walks and cost the engine 10 % of its throughput (bench/NOTES.md)."""

# The positions in a Fact.
AT: Final = 0
RANK: Final = 1
EVENT_ID: Final = 2
SOURCE: Final = 3
RAW: Final = 4


def fact_of(event: AnyEvent, raw: bytes | None = None) -> Fact:
    """The fact of an event, keeping ``raw`` (the bytes it arrived as) when the caller has them."""
    blob = (
        raw if raw is not None else event.__pydantic_serializer__.to_json(event, exclude_none=True)
    )
    return (event.occurred_at, ORDER[event.type], event.event_id, sys.intern(event.source), blob)


@dataclass(frozen=True, slots=True)
class SupervisorAction:
    """An acknowledgement or cancellation of one alert, kept so a replay keeps it too."""

    at: int
    alert_id: str
    command: Command
    note: str = ""


@dataclass(frozen=True, slots=True)
class Terms:
    """What a case is measured against, fixed from its catalog item when first seen."""

    center: str
    department: str
    item: Item
    promised: Limit
    statutory: Limit
    yellow_at: Fraction
    timelines: Timelines
    zone_name: str
    # yellow_at as (numerator, denominator): thresholds are computed exactly, in integers
    yellow_ratio: tuple[int, int] = field(init=False)

    def __post_init__(self) -> None:
        ratio = (self.yellow_at.numerator, self.yellow_at.denominator)
        object.__setattr__(self, "yellow_ratio", ratio)


class Rules:
    """What cases need from the configuration: items, thresholds, timelines per centre."""

    def __init__(
        self,
        item: Callable[[str], Item | None],
        terms: Callable[[str, str | None, Item, Accepted | None], Terms],
    ) -> None:
        self.item = item
        self.terms = terms
