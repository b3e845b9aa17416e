"""Time limits (时限) as integrators and operators write them: ``"10wd"``, ``"30d"``, ``"48h"``."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from monitor.timeutil import DAY, HOUR

MAX_AMOUNT = 9_999
_LIMIT = re.compile(r"^(0|[1-9][0-9]*)(wd|d|h)$")


class Unit(StrEnum):
    """How a clock runs: on working days, on every day, or all the time."""

    WORKING_DAYS = "wd"  # 工作日
    DAYS = "d"  # 自然日
    HOURS = "h"

    @property
    def family(self) -> str:
        """Units of one family can be added to each other (days with days, hours with hours)."""
        return "hours" if self is Unit.HOURS else "days"


class LimitError(ValueError):
    """A limit string that breaks the ``<n>wd | <n>d | <n>h`` rule."""


@dataclass(frozen=True, slots=True)
class Limit:
    """A budget of running time: ``amount`` units of ``unit``."""

    amount: int
    unit: Unit

    @property
    def seconds(self) -> int:
        """The budget in seconds of running time (a working day contributes 86 400 s)."""
        return self.amount * (HOUR if self.unit is Unit.HOURS else DAY)

    def __str__(self) -> str:
        return f"{self.amount}{self.unit.value}"


def parse_limit(text: object) -> Limit:
    """Parse ``"<n>wd" | "<n>d" | "<n>h"`` with ``0 <= n <= 9999``."""
    if not isinstance(text, str):
        raise LimitError('must be a string like "10wd", "30d" or "48h"')
    match = _LIMIT.match(text)
    if match is None:
        raise LimitError(
            f'{text!r} is not a limit: write "<n>wd" (working days), "<n>d" (natural days) '
            'or "<n>h" (hours) with a non-negative whole number n'
        )
    amount = int(match.group(1))
    if amount > MAX_AMOUNT:
        raise LimitError(f"{text!r} is too long: at most {MAX_AMOUNT} units")
    return Limit(amount, Unit(match.group(2)))
