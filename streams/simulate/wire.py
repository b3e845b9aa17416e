"""The wire: what real feeds do to a case's events on the way. Some cases are sent shuffled
within small windows; some events are resent verbatim (a retry after a lost acknowledgement), or
followed by a malformed line derived from them. Each line says what it is (:class:`Role`) and,
when malformed, how it is broken and which field a refusal names (:class:`Fault`)."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, replace
from enum import StrEnum

from monitor.events import EventType
from streams.simulate.lives import Event, chance
from streams.simulate.load import Shares


class Role(StrEnum):
    """What a line is."""

    EVENT = "event"  # an event, sent for the first time
    DUPLICATE = "duplicate"  # an event sent again, verbatim
    MALFORMED = "malformed"  # a line the contract (or the idempotency key) refuses


class FaultKind(StrEnum):
    """How a malformed line is broken."""

    BROKEN_JSON = "broken_json"  # cut short
    UNKNOWN_TYPE = "unknown_type"
    MISSING_FIELD = "missing_field"
    OVERSIZED_VALUE = "oversized_value"  # longer than the contract allows
    CONFLICT = "conflict"  # an event id already sent, with different content


@dataclass(frozen=True, slots=True)
class Fault:
    """A malformed line's flaw and the field a refusal names."""

    kind: FaultKind
    field: str


@dataclass(frozen=True, slots=True)
class Line:
    """One record for the topic (or line for the file), and what it is."""

    key: bytes  # the case id
    value: bytes  # JSON, UTF-8
    role: Role
    type: str  # of the event it is, or derives from
    occurred_at: int  # of that event
    send_at: int  # the simulated instant it goes out (after occurred_at when held back)
    first: bool = False  # the first line of its case to go out
    shuffled: bool = False  # its case is sent out of order
    fault: Fault | None = None


def dumps(event: Event) -> bytes:
    """An event as the window system sends it: compact JSON, Chinese as UTF-8."""
    return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()


def case_lines(history: list[tuple[int, Event]], rng: random.Random, shares: Shares) -> list[Line]:
    """The lines of one case, in the order they are queued, with what the wire does to them."""
    key = history[0][1]["case_id"].encode()
    send_at = [at for at, _ in history]
    order = list(range(len(history)))
    shuffled = len(history) > 1 and chance(rng, shares.out_of_order)
    if shuffled:
        order = _shuffle(rng, send_at)
    lines: list[Line] = []
    for index in order:
        at, event = history[index]
        line = Line(
            key,
            dumps(event),
            Role.EVENT,
            event["type"],
            at,
            send_at[index],
            first=not lines,
            shuffled=shuffled,
        )
        lines.append(line)
        if chance(rng, shares.duplicate):  # a retry after a lost acknowledgement
            later = line.send_at + rng.randrange(600)
            lines.append(replace(line, role=Role.DUPLICATE, send_at=later, first=False))
        if chance(rng, shares.malformed):
            lines.append(_malformed(rng, event, line))
    return lines


def _shuffle(rng: random.Random, send_at: list[int]) -> list[int]:
    """Windows of 2–3 consecutive events, each held until its last event happened and then
    sent in a shuffled order (never the right one). Updates ``send_at``; returns the order."""
    order: list[int] = []
    first = 0
    while first < len(send_at):
        window = list(range(first, min(first + rng.randrange(2, 4), len(send_at))))
        shuffled = window[:]
        rng.shuffle(shuffled)
        if shuffled == window:
            shuffled.reverse()
        for index in window:
            send_at[index] = send_at[window[-1]]
        order.extend(shuffled)
        first = window[-1] + 1
    return order


_UNKNOWN_TYPES = ("case.approved", "case.reopened", "case.transferred")
_REQUIRED = ("event_id", "case_id", "occurred_at", "source")
_OPENING_REQUIRED = ("center", "item_code")
_MAX_LENGTH = {"event_id": 128, "case_id": 64, "source": 64, "handler": 64}


def _malformed(rng: random.Random, event: Event, original: Line) -> Line:
    """A malformed line derived from ``event``, sent a little after it."""
    kind = rng.choice(list(FaultKind))
    if kind is FaultKind.BROKEN_JSON:
        text = original.value.decode()
        value, fault = text[: rng.randrange(1, len(text) - 1)].encode(), Fault(kind, "(body)")
    else:
        broken = dict(event)
        if kind is FaultKind.UNKNOWN_TYPE:
            broken["type"] = rng.choice(_UNKNOWN_TYPES)
            name = "type"
        elif kind is FaultKind.MISSING_FIELD:
            opening = event["type"] in (EventType.SUBMITTED, EventType.ACCEPTED)
            name = rng.choice(_REQUIRED + _OPENING_REQUIRED if opening else _REQUIRED)
            del broken[name]
        elif kind is FaultKind.OVERSIZED_VALUE:
            name = rng.choice(list(_MAX_LENGTH))
            broken[name] = "X" * (_MAX_LENGTH[name] + 1 + rng.randrange(200))
        else:  # the same event id reused for an edited event
            broken["handler"] = f"edited-{rng.randrange(1000)}"
            name = "event_id"
        value, fault = dumps(broken), Fault(kind, name)
    return replace(
        original,
        value=value,
        role=Role.MALFORMED,
        send_at=original.send_at + rng.randrange(600),
        first=False,
        fault=fault,
    )
