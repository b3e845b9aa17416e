"""``POST /v1/events``: window systems send events over HTTP (SPEC §1, §6).

One request carries one event or ``{"events": [...]}`` (1 to ``api_max_events``). Each event is
answered on its own: ``accepted`` (produced to Kafka and confirmed by the brokers),
``duplicate`` (this ``(source, event_id)`` was accepted before with the same content: not
produced again) or ``refused`` with ``[{"field", "rule"}]``.

Order of the work, and why:

1. Token, rate, media type, body (size, time, gzip): cheap refusals first.
2. Each event against the contract (``monitor.events``), then against the token: its
   ``source`` must be the token's, and a token bound to centres must name one of them.
   A spoofed source is refused per event (field ``source``), not with a 403 for the whole
   request, so that a batch tells the integrator exactly which events are wrong.
3. Idempotency: a Redis key per ``(source, event_id)`` holds a hash of the event's canonical
   content (the parsed event, so key order, offsets and defaults do not matter). That same
   canonical JSON is what goes to Kafka: the event as validated, ``occurred_at`` in UTC,
   fields left out when null.
4. The new events go to Kafka (acks=all); the answer is 202 only once every one is confirmed.
5. Only then are their idempotency keys written. When Kafka fails, the answer is 503 and no
   key is written, so a retry is safe: at worst an event reaches Kafka twice, and the worker
   drops the second copy as a duplicate of its ``event_id``.

Refused events go back to the caller (not to the dead-letter topic) and count in their
source's feed health; so do the duplicates caught here, which the worker never sees.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from fastapi import APIRouter, HTTPException, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter
from redis.exceptions import RedisError
from starlette.background import BackgroundTask

from monitor.api.auth import Integrator, Principal
from monitor.api.bodies import read_body
from monitor.api.deps import KafkaDep, ReadModelDep, RedisDep, SettingsDep, kafka_unavailable
from monitor.api.kafka import KafkaUnavailable
from monitor.events import AnyEvent, Event, EventRefused, FieldError, parse_event
from monitor.readmodel import FeedRecord, ReadModel
from monitor.settings import Settings

log = logging.getLogger("redline.api")
router = APIRouter(tags=["ingestion"])

JSON_TYPES: Final = ("application/json",)


# -- the answer --------------------------------------------------------------------------------


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

    def refuse(self, *errors: FieldError) -> None:
        self.status = "refused"
        self.errors.extend(FieldError(_clean(e.field), _clean(e.rule)) for e in errors)

    @property
    def pending(self) -> bool:
        """Valid so far and not yet known as a duplicate."""
        return self.status == "accepted"

    def event_id(self) -> str | None:
        if self.event is not None:
            return self.event.event_id
        raw_id = self.raw.get("event_id") if isinstance(self.raw, dict) else None
        return raw_id if isinstance(raw_id, str) and _encodable(raw_id) else None

    def result(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "event_id": self.event_id()}
        out["status"] = self.status
        if self.errors:
            out["errors"] = [{"field": e.field, "rule": e.rule} for e in self.errors]
        return out


# -- the route ---------------------------------------------------------------------------------


@router.post(
    "/v1/events",
    summary="Send one event or a batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=IngestAnswer,
    responses={
        202: {"description": "Every event answered; the accepted ones are in Kafka"},
        401: {"description": "Missing, unknown or revoked token (WWW-Authenticate: Bearer)"},
        403: {"description": "A person token: only integrator tokens send events"},
        408: {"description": "The body did not arrive within the request timeout"},
        413: {"description": "Body over 1 MiB (also after gzip) or more than 1000 events"},
        415: {"description": "Not application/json, or a Content-Encoding other than gzip"},
        422: {
            "description": "Not JSON, a wrong envelope, or every event refused (same body as 202)",
            "model": IngestAnswer,
        },
        429: {"description": "Over the token's rate: wait Retry-After seconds"},
        503: {"description": "Kafka unreachable or too slow: nothing accepted; Retry-After"},
    },
    openapi_extra={"requestBody": {"required": True, "content": {}}},  # filled by openapi()
)
async def post_events(
    request: Request,
    principal: Integrator,
    settings: SettingsDep,
    read_model: ReadModelDep,
    redis: RedisDep,
    kafka: KafkaDep,
) -> JSONResponse:
    """Validate each event, produce the new ones to Kafka (acks=all) and answer once the
    brokers confirmed them. Safe to retry: `event_id` is the idempotency key."""
    _check_media_type(request.headers.get("content-type"))
    body = await read_body(request, settings.api_max_body_bytes)
    arrived_at = int(time.time())
    offers = [Offer(index, raw) for index, raw in enumerate(_envelope(body, settings))]
    for offer in offers:
        _validate(offer, principal)
    await _check_case_centres(offers, principal, read_model)
    await _check_history(offers, redis, settings)
    _deduplicate_within(offers)
    new = [offer for offer in offers if offer.pending]
    if new:
        try:
            records = [(o.event.case_id.encode(), o.value) for o in new if o.event is not None]
            await kafka.send_all(settings.events_topic, records)
        except KafkaUnavailable as exc:
            log.warning("Kafka did not confirm %d events (%s): answered 503", len(new), exc)
            raise kafka_unavailable(settings) from None
        await _remember(new, redis, settings)
    answer = _answer(offers)
    refused_all = answer["refused"] == len(offers)
    return JSONResponse(
        answer,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        if refused_all
        else status.HTTP_202_ACCEPTED,
        # feed health after the answer: the caller does not wait for the bookkeeping
        background=BackgroundTask(_count_in_feed_health, offers, principal, read_model, arrived_at),
    )


def _check_media_type(content_type: str | None) -> None:
    media, _, params = (content_type or "").partition(";")
    media = media.strip().lower()
    if media not in JSON_TYPES and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Type {content_type or '(none)'!r} is not JSON: send "
            "Content-Type: application/json (UTF-8)",
        )
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset" and value.strip().strip('"').lower() not in (
            "utf-8",
            "utf8",
        ):
            raise HTTPException(
                status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
                f"charset {value.strip()!r} is not supported: encode the JSON as UTF-8",
            )


def _envelope(body: bytes, settings: Settings) -> list[object]:
    """The events of a body: one object, or the array under ``events``; else 422 (or 413
    for too many events)."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]  # a byte-order mark some Windows tools write; not part of the JSON
    try:
        doc = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise _unprocessable("(body)", f"is not UTF-8 ({exc.reason} at byte {exc.start})") from None
    except ValueError as exc:
        raise _unprocessable("(body)", f"is not valid JSON ({exc})") from None
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
        raise _unprocessable("events", f"must hold 1 to {settings.api_max_events} events")
    if len(events) > settings.api_max_events:
        raise HTTPException(
            status.HTTP_413_CONTENT_TOO_LARGE,
            f"{len(events)} events in one request; at most {settings.api_max_events}: "
            "split the batch",
        )
    return events


def _unprocessable(field: str, rule: str) -> HTTPException:
    detail = [{"field": _clean(field), "rule": _clean(rule)}]
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)


# -- checks, one event at a time ---------------------------------------------------------------


def _validate(offer: Offer, principal: Principal) -> None:
    """The event contract, then what this token may send."""
    if not isinstance(offer.raw, dict):
        offer.refuse(FieldError("(event)", "must be a JSON object"))
        return
    try:
        event = parse_event(offer.raw)
    except EventRefused as refused:
        offer.refuse(*refused.errors)
        return
    try:
        # the event as validated, in one canonical form: what goes to Kafka, and what the
        # idempotency hash is taken of (the same event written differently is a duplicate)
        canonical = event.__pydantic_serializer__.to_json(event, exclude_none=True)
    except ValueError as exc:  # text that is not valid Unicode; pydantic refuses it before
        offer.refuse(FieldError("(event)", f"cannot be stored as UTF-8 JSON ({exc})"))
        return
    offer.event, offer.value = event, canonical
    offer.content = hashlib.sha256(canonical).hexdigest()
    if not principal.may_send(event.source):
        offer.refuse(
            FieldError(
                "source",
                f"must be {principal.source!r}: this token sends events of that source only",
            )
        )
    if principal.centers is not None:
        allowed = ", ".join(sorted(principal.centers))
        if event.center is None:
            offer.refuse(
                FieldError("center", f"is required with a token bound to centres ({allowed})")
            )
        elif event.center not in principal.centers:
            offer.refuse(
                FieldError(
                    "center", f"{event.center!r} is not a centre this token sends for ({allowed})"
                )
            )


async def _check_case_centres(
    offers: list[Offer], principal: Principal, read_model: ReadModel
) -> None:
    """A token bound to centres may not touch a case the read model places elsewhere (an
    event's own ``center`` is only read on opening events). A case not yet in the read model
    passes: its centre is the one its opening event names."""
    if principal.centers is None:
        return
    case_ids = sorted({o.event.case_id for o in offers if o.pending and o.event is not None})
    if not case_ids:
        return
    homes = await read_model.case_centers(case_ids)  # one round trip for the batch
    for offer in offers:
        if not offer.pending or offer.event is None:
            continue
        home = homes.get(offer.event.case_id)
        if isinstance(home, str) and home not in principal.centers:
            offer.refuse(
                FieldError(
                    "case_id",
                    f"case {offer.event.case_id!r} belongs to centre {home!r}, which this "
                    "token does not send for",
                )
            )


def _deduplicate_within(offers: list[Offer]) -> None:
    """The same (source, event_id) twice in one request: the first one counts."""
    first: dict[tuple[str, str], Offer] = {}
    for offer in offers:
        if not offer.pending or offer.event is None:
            continue
        key = (offer.event.source, offer.event.event_id)
        earlier = first.setdefault(key, offer)
        if earlier is not offer:
            _repeat(offer, earlier.content, f"event {earlier.index} of this request")


async def _check_history(offers: list[Offer], redis: RedisDep, settings: Settings) -> None:
    """Events accepted by an earlier request: duplicates, or conflicts when the content
    differs."""
    pending = [offer for offer in offers if offer.pending and offer.event is not None]
    if not pending:
        return
    stored = await redis.mget([_key(settings, offer) for offer in pending])
    for offer, content in zip(pending, stored, strict=True):
        if content is not None:
            text = content.decode() if isinstance(content, bytes) else content
            _repeat(offer, text, "an earlier request")


def _repeat(offer: Offer, earlier_content: str, where: str) -> None:
    assert offer.event is not None
    if earlier_content == offer.content:
        offer.status = "duplicate"
        return
    offer.refuse(
        FieldError(
            "event_id",
            f"{offer.event.event_id!r} from {offer.event.source!r} was already received with "
            f"different content, in {where} (an event id is an idempotency key)",
        )
    )


async def _remember(new: list[Offer], redis: RedisDep, settings: Settings) -> None:
    """The idempotency keys of events the brokers confirmed: one script call, not a command
    per event (a batch of 100 would otherwise spend more time in the Redis client than in
    validation)."""
    ttl = settings.api_idempotency_days * 86_400
    try:
        script = redis.register_script(_REMEMBER)  # EVALSHA; the script loads itself once
        await script(keys=[_key(settings, o) for o in new], args=[ttl, *(o.content for o in new)])
    except RedisError as exc:
        # the events are in Kafka: the answer stays 202; a retry reaches Kafka again and the
        # worker drops it as a duplicate
        log.warning("could not record %d idempotency keys: %s", len(new), type(exc).__name__)


# KEYS: the idempotency keys. ARGV[1]: seconds to keep them, then one content hash per key.
_REMEMBER = """
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i + 1], 'EX', ARGV[1])
end
return #KEYS
"""


def _key(settings: Settings, offer: Offer) -> str:
    assert offer.event is not None
    # a tab cannot occur in a source or an event id (no control characters)
    return f"{settings.ingest_prefix}{offer.event.source}\t{offer.event.event_id}"


def _answer(offers: list[Offer]) -> dict[str, Any]:
    counts = {"accepted": 0, "duplicate": 0, "refused": 0}
    for offer in offers:
        counts[offer.status] += 1
    return {**counts, "results": [offer.result() for offer in offers]}


async def _count_in_feed_health(
    offers: list[Offer], principal: Principal, read_model: ReadModel, arrived_at: int
) -> None:
    """Refusals and duplicates in the feed health of the source that sent them (the worker
    counts the accepted events when it applies them)."""
    records = [
        FeedRecord(
            _feed_source(offer, principal),
            offer.event.occurred_at if offer.event is not None else None,
            arrived_at,
            offer.status,
            "; ".join(map(str, offer.errors)) or None,
        )
        for offer in offers
        if offer.status != "accepted"
    ]
    try:
        await read_model.record_events(records)  # one script call per source
    except RedisError as exc:
        log.warning("feed health not updated: %s", type(exc).__name__)


def _feed_source(offer: Offer, principal: Principal) -> str | None:
    """Whose feed a refusal counts in: the token's source (a spoofed source must not blame
    another integrator), else what the event says, if it is a usable code."""
    if principal.source is not None:
        return principal.source
    if offer.event is not None:
        return offer.event.source
    raw = offer.raw.get("source") if isinstance(offer.raw, dict) else None
    if isinstance(raw, str) and 1 <= len(raw) <= 64 and raw.isprintable() and _encodable(raw):
        return raw
    return None  # counted under UNKNOWN_SOURCE, as the worker counts such refusals


def _encodable(text: str) -> bool:
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def _clean(text: str) -> str:
    """Text from the caller made safe to echo in JSON and to store in Redis: an unpaired
    surrogate (valid in a JSON escape, not in UTF-8) is written as its escape."""
    return text.encode("utf-8", "backslashreplace").decode()


# -- OpenAPI: the body is read by hand, so its schema and examples are declared here ----------

_EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)
SCHEMA_PREFIX: Final = "Event"

ONE_EVENT: Final = {
    "event_id": "gz-win-000101",
    "type": "case.accepted",
    "case_id": "440106-2026-000101",
    "occurred_at": "2026-11-04T10:30:00+08:00",
    "source": "gz-window",
    "center": "GZ-TIANHE",
    "item_code": "FOOD-LICENSE",
    "handler": "zhou.ming",
    "data": {"promised": "10wd"},
}
BATCH: Final = {
    "events": [
        ONE_EVENT,
        {
            "event_id": "gz-win-000102",
            "type": "case.completed",
            "case_id": "440106-2026-000101",
            "occurred_at": "2026-11-19T16:30:00+08:00",
            "source": "gz-window",
            "data": {"result": "approved"},
        },
    ]
}
ANSWER: Final = {
    "accepted": 1,
    "duplicate": 1,
    "refused": 1,
    "results": [
        {"index": 0, "event_id": "gz-win-000101", "status": "duplicate"},
        {"index": 1, "event_id": "gz-win-000102", "status": "accepted"},
        {
            "index": 2,
            "event_id": "gz-win-000103",
            "status": "refused",
            "errors": [
                {
                    "field": "occurred_at",
                    "rule": "must be an RFC 3339 timestamp with an offset, "
                    "e.g. 2026-09-28T10:00:00+08:00",
                }
            ],
        },
    ],
}


def openapi_components() -> dict[str, Any]:
    """The event schemas, named ``Event…`` in ``components.schemas``."""
    schema = _EVENT_ADAPTER.json_schema(
        mode="validation", ref_template=f"#/components/schemas/{SCHEMA_PREFIX}{{model}}"
    )
    components = {SCHEMA_PREFIX + name: value for name, value in schema.pop("$defs", {}).items()}
    components[SCHEMA_PREFIX] = {"title": "Event (SPEC §1)", **schema}
    components[SCHEMA_PREFIX + "Batch"] = {
        "title": "EventBatch",
        "type": "object",
        "properties": {
            "events": {
                "type": "array",
                "items": {"$ref": f"#/components/schemas/{SCHEMA_PREFIX}"},
                "minItems": 1,
                "maxItems": 1000,
            }
        },
        "required": ["events"],
        "additionalProperties": False,
    }
    return components


def document(openapi: dict[str, Any]) -> None:
    """Add the request body of ``POST /v1/events`` (schema and examples) to the document."""
    openapi.setdefault("components", {}).setdefault("schemas", {}).update(openapi_components())
    operation = openapi["paths"]["/v1/events"]["post"]
    operation["requestBody"] = {
        "required": True,
        "description": "One event, or a batch of 1 to 1000 under `events`. At most 1 MiB, "
        "also after gzip (`Content-Encoding: gzip`).",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": f"#/components/schemas/{SCHEMA_PREFIX}"},
                        {"$ref": f"#/components/schemas/{SCHEMA_PREFIX}Batch"},
                    ]
                },
                "examples": {
                    "one": {"summary": "One event", "value": ONE_EVENT},
                    "batch": {"summary": "A batch", "value": BATCH},
                },
            }
        },
    }
    operation["responses"]["202"]["content"]["application/json"]["example"] = ANSWER
