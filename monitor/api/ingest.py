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

This module holds the route; the body's shape and the answer are in ``envelope.py``, the
per-event checks in ``checks.py``, the idempotency keys in ``ledger.py`` and the body's OpenAPI
schema and examples in ``examples.py``.
"""

from __future__ import annotations

import logging
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.background import BackgroundTask

from monitor.api.auth import Integrator, Principal
from monitor.api.bodies import read_body
from monitor.api.checks import check_case_centers, check_history, deduplicate_within, validate
from monitor.api.deps import KafkaDep, ReadModelDep, RedisDep, SettingsDep, kafka_unavailable
from monitor.api.envelope import (
    IngestAnswer,
    Offer,
    answer,
    check_media_type,
    encodable,
    events_of,
)
from monitor.api.kafka import KafkaUnavailable
from monitor.api.ledger import IdempotencyLedger
from monitor.readmodel import FeedRecord, ReadModel
from monitor.timeutil import DAY

log = logging.getLogger("redline.api")
router = APIRouter(tags=["ingestion"])


async def _ledger(redis: RedisDep, settings: SettingsDep) -> IdempotencyLedger:
    # async although it never awaits: a plain def dependency would cost a thread hop (deps.py)
    return IdempotencyLedger(redis, settings.ingest_prefix, settings.api_idempotency_days * DAY)


LedgerDep = Annotated[IdempotencyLedger, Depends(_ledger)]


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
    ledger: LedgerDep,
    kafka: KafkaDep,
) -> JSONResponse:
    """Validate each event, produce the new ones to Kafka (acks=all) and answer once the
    brokers confirmed them. Safe to retry: `event_id` is the idempotency key."""
    check_media_type(request.headers.get("content-type"))
    body = await read_body(request, settings.api_max_body_bytes)
    arrived_at = int(time.time())
    raws = events_of(body, settings.api_max_events)
    offers = [Offer(index, raw) for index, raw in enumerate(raws)]
    for offer in offers:
        validate(offer, principal)
    await check_case_centers(offers, principal, read_model)
    await check_history(offers, ledger)
    deduplicate_within(offers)
    new = [offer for offer in offers if offer.pending]
    if new:
        try:
            records = [(o.event.case_id.encode(), o.value) for o in new if o.event is not None]
            await kafka.send_all(settings.events_topic, records)
        except KafkaUnavailable as exc:
            log.warning("Kafka did not confirm %d events (%s): answered 503", len(new), exc)
            raise kafka_unavailable(settings) from None
        await _remember(new, ledger)
    reply = answer(offers)
    refused_all = reply["refused"] == len(offers)
    return JSONResponse(
        reply,
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT
        if refused_all
        else status.HTTP_202_ACCEPTED,
        # feed health after the answer: the caller does not wait for the bookkeeping
        background=BackgroundTask(_count_in_feed_health, offers, principal, read_model, arrived_at),
    )


async def _remember(new: list[Offer], ledger: IdempotencyLedger) -> None:
    """The idempotency keys of events the brokers confirmed."""
    try:
        await ledger.remember([(offer.key(), offer.content) for offer in new])
    except RedisError as exc:
        # the events are in Kafka: the answer stays 202; a retry reaches Kafka again and the
        # worker drops it as a duplicate
        log.warning("could not record %d idempotency keys: %s", len(new), type(exc).__name__)


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
    if isinstance(raw, str) and 1 <= len(raw) <= 64 and raw.isprintable() and encodable(raw):
        return raw
    return None  # counted under UNKNOWN_SOURCE, as the worker counts such refusals
