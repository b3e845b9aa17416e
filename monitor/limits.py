"""Time limits (时限) as integrators and operators write them: ``"10wd"``, ``"30d"``, ``"48h"``;
and the waits of the escalation policy (SPEC §5.1), the same amounts of a unit that may also be
minutes or seconds: ``"30m"``, ``"45s"``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from monitor.timeutil import DAY, HOUR, MINUTE

MAX_AMOUNT = 9_999
_LIMIT = re.compile(r"^(0|[1-9][0-9]*)(wd|d|h)$")
_WAIT = re.compile(r"^([1-9][0-9]*)(wd|d|h|m|s)$")


class Unit(StrEnum):
    """How a clock runs: on working days, on every day, or all the time."""

    WORKING_DAYS = "wd"  # 工作日
    DAYS = "d"  # 自然日
    HOURS = "h"

    @property
    def family(self) -> str:
        """Units of one family can be added to each other (days with days, hours with hours)."""
        return "hours" if self is Unit.HOURS else "days"


class WaitUnit(StrEnum):
    """The units of a policy's waits: a clock's, and minutes and seconds (no clock runs in
    those, so they are not :class:`Unit`'s)."""

    WORKING_DAYS = "wd"
    DAYS = "d"
    HOURS = "h"
    MINUTES = "m"
    SECONDS = "s"


class LimitError(ValueError):
    """A limit string that breaks the ``<n>wd | <n>d | <n>h`` rule (or a wait, its own)."""


_UNIT_SECONDS = {"wd": DAY, "d": DAY, "h": HOUR, "m": MINUTE, "s": 1}


@dataclass(frozen=True, slots=True)
class Limit:
    """A budget of running time: ``amount`` units of ``unit``."""

    amount: int
    unit: Unit

    @property
    def seconds(self) -> int:
        """The budget in seconds of running time (a working day contributes 86 400 s)."""
        return self.amount * _UNIT_SECONDS[self.unit]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


@dataclass(frozen=True, slots=True)
class Wait:
    """A policy's wait (escalate after, repeat every, ack timeout): ``amount`` of ``unit``;
    working days are counted on the alert's centre's calendar when the wait is used."""

    amount: int
    unit: WaitUnit

    @property
    def seconds(self) -> int:
        """In seconds of running time (a working day contributes 86 400 s)."""
        return self.amount * _UNIT_SECONDS[self.unit]

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


def parse_limit(text: object) -> Limit:
    """Parse ``"<n>wd" | "<n>d" | "<n>h"`` with ``0 <= n <= 9999``."""
    amount, unit = _parse(
        text,
        _LIMIT,
        'must be a string like "10wd", "30d" or "48h"',
        'is not a limit: write "<n>wd" (working days), "<n>d" (natural days) or "<n>h" (hours) '
        "with a non-negative whole number n",
    )
    return Limit(amount, Unit(unit))


def parse_wait(text: object) -> Wait:
    """Parse a policy's wait, ``"<n>s" | "<n>m" | "<n>h" | "<n>d" | "<n>wd"`` with
    ``1 <= n <= 9999`` (working days are counted later, on the alert's centre's calendar)."""
    amount, unit = _parse(
        text,
        _WAIT,
        'must be a string like "30m", "2h" or "1wd"',
        'is not a duration: write "<n>s", "<n>m", "<n>h" (all the time), "<n>d" (natural days) '
        'or "<n>wd" (working days) with a whole number n from 1',
    )
    return Wait(amount, WaitUnit(unit))


def _parse(text: object, pattern: re.Pattern[str], not_text: str, refusal: str) -> tuple[int, str]:
    if not isinstance(text, str):
        raise LimitError(not_text)
    match = pattern.match(text)
    if match is None:
        raise LimitError(f"{text!r} {refusal}")
    amount = int(match.group(1))
    if amount > MAX_AMOUNT:
        raise LimitError(f"{text!r} is too long: at most {MAX_AMOUNT} units")
    return amount, match.group(2)
