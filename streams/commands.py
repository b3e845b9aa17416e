"""Supervisors' decisions on alerts (ack / cancel), as records on ``redline-commands``.

The API does not change a case: it produces a command keyed by the case id to the commands
topic, co-partitioned with the events, and the worker that owns the case applies it
(:meth:`streams.tracker.Tracker.on_command`). The command is kept in the case (a replay keeps
it), so the record carries everything the engine needs; who decided is for the audit log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from monitor.case import Command, SupervisorAction


class CommandRefused(ValueError):
    """A commands record the worker cannot apply."""


@dataclass(frozen=True, slots=True)
class SupervisorCommand:
    """One decision on one alert of one case."""

    case_id: str
    alert_id: str
    command: Command
    at: int  # epoch seconds, when the supervisor decided
    by: str  # who: the person token's name
    note: str = ""

    def encode(self) -> tuple[bytes, bytes]:
        """The Kafka key (the case id: the case's own partition) and value."""
        value = {
            "case_id": self.case_id,
            "alert_id": self.alert_id,
            "command": self.command.value,
            "at": self.at,
            "by": self.by,
            "note": self.note,
        }
        return self.case_id.encode(), json.dumps(value, ensure_ascii=False).encode()

    @classmethod
    def decode(cls, value: bytes) -> SupervisorCommand:
        """The command a record holds; :class:`CommandRefused` names what is wrong."""
        try:
            raw = json.loads(value)
        except (ValueError, UnicodeDecodeError):
            raise CommandRefused("(json): not a JSON object") from None
        if not isinstance(raw, dict):
            raise CommandRefused("(json): not a JSON object")
        for name in ("case_id", "alert_id", "by", "note"):
            if not isinstance(raw.get(name, ""), str):
                raise CommandRefused(f"{name}: must be a string")
        try:
            command = Command(raw.get("command"))
        except ValueError:
            raise CommandRefused("command: must be 'ack' or 'cancel'") from None
        at = raw.get("at")
        if not isinstance(at, int) or isinstance(at, bool):
            raise CommandRefused("at: must be epoch seconds (an integer)")
        if not raw.get("case_id") or not raw.get("alert_id"):
            raise CommandRefused("case_id, alert_id: required")
        return cls(
            raw["case_id"], raw["alert_id"], command, at, raw.get("by", ""), raw.get("note", "")
        )

    def action(self) -> SupervisorAction:
        """What the case keeps."""
        return SupervisorAction(self.at, self.alert_id, self.command, self.note)
