"""Timeline helpers for the engine's unit tests: events from short specs, Beijing local times.

A test reads as a story::

    story = Story(engine, item="T5")
    story.accepted("2026-09-28 10:00")
    assert story.view("2026-10-10 23:59:59")["light"] == "yellow"

Every local time is Beijing time (+08:00), the centre time of the test catalog. Views advance the
case's time, so a story asks for them in increasing time order, as a supervisor would see them.
"""

from __future__ import annotations

from typing import Any

from monitor.casetypes import Outcome
from monitor.engine import Engine, Result
from monitor.events import parse_event
from monitor.timeutil import parse_instant

OFFSET = "+08:00"

# Items of the test catalog (written by conftest.py); each one exists for the rule it exercises.
CATALOG_YAML = """\
items:
  - code: T5          # 5wd promised, 10wd statutory, extensions capped at 5wd
    name: 五日件
    department: market
    promised: 5wd
    statutory: 10wd
    extension_max: 5wd
  - code: T10         # the shape of FOOD-LICENSE: 10wd / 20wd, cap 10wd
    name: 十日件
    department: market
    promised: 10wd
    statutory: 20wd
    extension_max: 10wd
  - code: NOCAP       # no extension_max: statutory grows with every extension
    name: 无上限件
    department: market
    promised: 5wd
    statutory: 10wd
  - code: ONE         # 1wd promised: yellow lands inside a day (0.8 × 86 400 s = 19:12)
    name: 一日件
    department: housing
    promised: 1wd
    statutory: 2wd
  - code: THREE       # 3wd: yellow at 2.4wd lands at 09:36 of the third working day
    name: 三日件
    department: housing
    promised: 3wd
    statutory: 6wd
  - code: HALF        # yellow_at 0.5 from the catalog
    name: 半程预警件
    department: housing
    promised: 3wd
    statutory: 6wd
    yellow_at: 0.5
  - code: ZERO        # 即办件: promised by the end of the start day
    name: 即办件
    department: hrss
    promised: 0wd
    statutory: 1wd
  - code: D10         # natural days
    name: 自然日件
    department: police
    promised: 10d
    statutory: 20d
  - code: H24         # hours
    name: 小时件
    department: police
    promised: 24h
    statutory: 72h
  - code: FAST-INTAKE # intake of 1wd instead of the default 5wd
    name: 快速受理件
    department: market
    promised: 10wd
    statutory: 20wd
    intake: 1wd
"""


def iso(local: str) -> str:
    """RFC 3339 text of a Beijing local time written ``2026-09-28 10:00[:ss]``."""
    text = local.strip().replace(" ", "T")
    if len(text) == len("2026-09-28T10:00"):
        text += ":00"
    return text + OFFSET


def at(local: str) -> int:
    """Epoch seconds of a Beijing local time written ``2026-09-28 10:00[:ss]``."""
    return parse_instant(iso(local))


_OPENING = {"case.submitted", "case.accepted"}


class Story:
    """One case told event by event: builds the JSON events, offers them, reads the view."""

    def __init__(
        self,
        engine: Engine,
        case_id: str = "CASE-1",
        item: str = "T5",
        center: str = "C1",
        source: str = "window-sys",
    ) -> None:
        self.engine = engine
        self.case_id = case_id
        self.item = item
        self.center = center
        self.source = source
        self._count = 0

    # -- events -----------------------------------------------------------------------------

    def event(
        self, kind: str, when: str, data: dict[str, Any] | None = None, **fields: Any
    ) -> dict[str, Any]:
        """The JSON object of one event: ``kind`` without the ``case.`` prefix."""
        self._count += 1
        event: dict[str, Any] = {
            "event_id": f"{self.case_id}-{self._count}",
            "type": f"case.{kind}",
            "case_id": self.case_id,
            "occurred_at": iso(when),
            "source": self.source,
        }
        if event["type"] in _OPENING:
            event["center"] = self.center
            event["item_code"] = self.item
        if data is not None:
            event["data"] = data
        event.update(fields)
        return event

    def offer(self, event: dict[str, Any]) -> Result:
        """Offer an already built event; it must be applied."""
        result = self.engine.offer(parse_event(event))
        assert result.outcome is Outcome.APPLIED, (result.outcome, result.errors)
        return result

    def send(
        self, kind: str, when: str, data: dict[str, Any] | None = None, **fields: Any
    ) -> Result:
        """Build and offer one event; it must be applied."""
        return self.offer(self.event(kind, when, data, **fields))

    def send_refused(
        self, kind: str, when: str, data: dict[str, Any] | None = None, **fields: Any
    ) -> Result:
        """Build and offer one event; it must be refused."""
        result = self.engine.offer(parse_event(self.event(kind, when, data, **fields)))
        assert result.outcome is None and result.refused, (result.outcome, result.errors)
        return result

    def submitted(self, when: str, **fields: Any) -> Result:
        return self.send("submitted", when, **fields)

    def accepted(self, when: str, **data: Any) -> Result:
        return self.send("accepted", when, data or None)

    def suspended(self, when: str, reason: str = "hearing", **data: Any) -> Result:
        return self.send("suspended", when, {"reason": reason, **data})

    def resumed(self, when: str) -> Result:
        return self.send("resumed", when)

    def extended(self, when: str, by: str) -> Result:
        return self.send("extended", when, {"by": by, "approved_by": "局长"})

    def completed(self, when: str) -> Result:
        return self.send("completed", when, {"result": "approved"})

    # -- what a supervisor sees ---------------------------------------------------------------

    def view(self, when: str) -> dict[str, Any]:
        """The case object as of a local time (advances the case's time to it)."""
        return self.engine.view(self.case_id, at(when))

    def light(self, when: str) -> str:
        return str(self.view(when)["light"])

    def alerts(self, when: str, kind: str | None = None) -> list[dict[str, Any]]:
        """The case's alerts as of a local time, optionally of one kind."""
        alerts = self.view(when)["alerts"]
        return [a for a in alerts if kind is None or a["kind"] == kind]

    def alert(self, when: str, kind: str) -> dict[str, Any]:
        """The one alert of ``kind`` as of a local time."""
        found = self.alerts(when, kind)
        assert len(found) == 1, found
        return found[0]

    def kinds(self, when: str) -> list[str]:
        return [a["kind"] for a in self.alerts(when)]


def firing(alert: dict[str, Any]) -> tuple[str, str | None, str | None]:
    """(status, resolved_at, resolution) of an alert, for one-line assertions."""
    return alert["status"], alert["resolved_at"], alert["resolution"]


# SPEC §6: the fields every case object carries at least (replay and the API)
SPEC_CASE_FIELDS = {
    "case_id",
    "status",
    "light",
    "deadline",
    "statutory_deadline",
    "remaining_s",
    "breached",
    "on_time",
    "calendar_provisional",
    "alerts",
}
