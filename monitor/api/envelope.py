"""The shape of ``POST /v1/events``: the body in (one event, or ``{"events": [...]}``), each event
on its way through the checks as an :class:`Offer`, and the answer out, one result per event.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Literal

from fastapi import HTTPException, status
from pydantic import BaseModel

from monitor.api.bodies import not_json
from monitor.api.ledger import EventKey
from monitor.events import AnyEvent, FieldError

# -- the body in -------------------------------------------------------------------------------


def events_of(body: bytes, max_events: int) -> list[object]:
    """The events of a body: one object, or the array under ``events``; else 422 (or 413
    for more than ``max_events``)."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]  # a byte-order mark some Windows tools write; not part of the JSON
    try:
        doc = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _unprocessable("(body)", f"is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise _unprocessable("(body)", not_json(exc)) from None
    except RecursionError:
        raise _unprocessable("(body)", "is nested too deeply to be an event") from None
    if not isinstance(doc, dict):
        raise _unprocessable(
            "(body)", 'must be one event (a JSON object) or {"events": [event, ...]}'
        )
    if "events" not in doc:
        return [doc]
    extra = sorted(name for name in doc if name != "events")
    if extra:
        raise _unprocessable(extra[0], 'is not a field of the batch envelope {"events": [...]}')
    events = doc["events"]
    if not isinstance(events, list):
        raise _unprocessable("events", "must be a JSON array of events")
    if not events:
        raise _unprocessable("events", f"must hold 1 to {max_events} events")
    if len(events) > max_events:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(events)} events in one request; at most {max_events}: split the batch",
        )
    return events


def _unprocessable(field: str, rule: str) -> HTTPException:
    detail = [{"field": clean(field), "rule": clean(rule)}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


# -- one event on its way ----------------------------------------------------------------------


@dataclass(slots=True)
class Offer:
    """One event of a request on its way through the checks."""

    index: int
    raw: object
    event: AnyEvent | None = None
    value: bytes = b""  # what goes to Kafka: the canonical JSON of the validated event
    content: str = ""  # hash of the canonical content: the idempotency value
    status: str = "accepted"
    errors: list[FieldError] = field(default_factory=list)
    claimed: bool = False  # its idempotency claim is this request's (monitor.api.ledger)

    def refuse(self, *errors: FieldError) -> None:
        self.status = "refused"
        self.errors.extend(FieldError(clean(e.field), clean(e.rule)) for e in errors)

    @property
    def pending(self) -> bool:
        """Valid so far and not yet known as a duplicate."""
        return self.status == "accepted"

    def key(self) -> EventKey:
        """The idempotency key of a validated event."""
        assert self.event is not None
        return EventKey(self.event.source, self.event.event_id)

    def event_id(self) -> str | None:
        if self.event is not None:
            return self.event.event_id
        raw_id = self.raw.get("event_id") if isinstance(self.raw, dict) else None
        return raw_id if isinstance(raw_id, str) and encodable(raw_id) else None

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "event_id": self.event_id()}
        out["status"] = self.status
        if self.errors:
            out["errors"] = [{"field": e.field, "rule": e.rule} for e in self.errors]
        return out


# -- the answer out ----------------------------------------------------------------------------


class FieldProblem(BaseModel):
    """One broken rule: the field's dotted path and the rule."""

    field: str
    rule: str


class EventResult(BaseModel):
    """What became of one event of the request, by its position."""

    index: int
    event_id: str | None
    status: Literal["accepted", "duplicate", "refused"]
    errors: list[FieldProblem] | None = None


class IngestAnswer(BaseModel):
    """Counts, then one result per event in the order sent."""

    accepted: int
    duplicate: int
    refused: int
    results: list[EventResult]


def answer(offers: list[Offer]) -> dict[str, Any]:
    """The body of the answer (:class:`IngestAnswer`)."""
    counts = {"accepted": 0, "duplicate": 0, "refused": 0}
    for offer in offers:
        counts[offer.status] += 1
    return {**counts, "results": [offer.result() for offer in offers]}


def encodable(text: str) -> bool:
    """Whether ``text`` is valid UTF-8 once encoded (no unpaired surrogate)."""
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def clean(text: str) -> str:
    """Text from the caller made safe to echo in JSON and to store in Redis: an unpaired
    surrogate (valid in a JSON escape, not in UTF-8) is written as its escape."""
    return text.encode("utf-8", "backslashreplace").decode()
