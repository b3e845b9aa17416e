"""What the read model stores and hands out: case views as dicts, their versions, and the
names of lights and outcomes its keys and the gauges use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from monitor.casetypes import Light
from monitor.config import Config
from monitor.records import Version
from monitor.timeutil import instant_of

__all__ = [
    "LIGHTS",
    "OPEN_LIGHTS",
    "SEP",
    "UNKNOWN_CODE",
    "KnownCodes",
    "Version",
    "View",
    "code",
    "instant_of",
]

View = dict[str, Any]

LIGHTS: Final = tuple(light.value for light in Light)
OPEN_LIGHTS: Final = tuple(light for light in LIGHTS if light != Light.CLOSED.value)  # gauge labels
SEP: Final = "\t"  # between a code and a measure in a hash field: codes hold no control chars


UNKNOWN_CODE: Final = "(unknown)"  # every centre or department code the configuration lacks


def code(value: object) -> str:
    """A centre or department code as the aggregates key it: ``""`` for none."""
    return "" if value is None else str(value)


@dataclass(frozen=True, slots=True)
class KnownCodes:
    """The centre and department codes the configuration names (the centres file, the
    catalog's departments). The aggregates behind the ranking and the gauges count every other
    code under :data:`UNKNOWN_CODE`, so invented codes cannot grow them, or ``/metrics``,
    without bound. The case view and the open-case indexes keep the code as sent, and feed
    health reports unknown centres by name."""

    centers: frozenset[str]
    departments: frozenset[str]

    @classmethod
    def of(cls, config: Config) -> KnownCodes:
        """The codes ``config`` names."""
        departments = frozenset(item.department for item in config.catalog.values())
        return cls(frozenset(config.centers), departments)

    def center(self, value: object) -> str:
        """The centre as the aggregates count it: its code, ``""`` for none, else unknown."""
        return _bounded(code(value), self.centers)

    def department(self, value: object) -> str:
        """The department as the aggregates count it: its code, ``""`` for none, else unknown."""
        return _bounded(code(value), self.departments)


def _bounded(value: str, known: frozenset[str]) -> str:
    return value if not value or value in known else UNKNOWN_CODE
