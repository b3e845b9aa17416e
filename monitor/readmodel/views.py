"""What the read model stores and hands out: case views as dicts, their versions, and the
names of lights and outcomes its keys and the gauges use."""

from __future__ import annotations

from typing import Any, Final

from monitor.casetypes import Light
from monitor.records import Version
from monitor.timeutil import InstantError, parse_instant

__all__ = ["LIGHTS", "OPEN_LIGHTS", "SEP", "Version", "View", "code", "instant_of"]

View = dict[str, Any]

LIGHTS: Final = tuple(light.value for light in Light)
OPEN_LIGHTS: Final = tuple(light for light in LIGHTS if light != Light.CLOSED.value)  # gauge labels
SEP: Final = "\t"  # between a code and a measure in a hash field: codes hold no control chars


def code(value: object) -> str:
    """A centre or department code as the aggregates key it: ``""`` for none."""
    return "" if value is None else str(value)


def instant_of(value: object) -> int | None:
    """Epoch seconds of an RFC 3339 field of a view, None when absent or not an instant."""
    if not isinstance(value, str):
        return None
    try:
        return parse_instant(value)
    except InstantError:
        return None
