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
   request, so that a batch tells the integrator exactly which events are wrong. Then against
   its case as the read model holds it: its centre (for a token bound to centres) and who may
   write to it (``monitor.writers``). The engine judges that again when it applies the event;
   the check here only answers at once what the read model already shows.
3. Idempotency: a Redis key per ``(source, event_id)`` holds a hash of the event's canonical
   content (the parsed event, so key order, offsets and defaults do not matter). That same
   canonical JSON is what goes to Kafka: the event as validated, ``occurred_at`` in UTC,
   fields left out when null. The new events are *claimed* in one atomic step
   (``ledger.py``): of concurrent requests with one event, one claims it and the others are
   answered duplicate or conflict at once.
4. The claimed events go to Kafka in a transaction (``kafka.py``); the answer is 202 only once
   it committed, and the claims become accepted.
5. When the transaction was not committed, the answer is 503 and the claims are released: the
   events will never be applied, and the same or a corrected request may be sent again. When
   the commit was asked for and not confirmed (the broker went away meanwhile), the answer is
   503 too, saying the outcome is unknown; the claims stay, so the same content may be sent
   again (the worker drops a repeat) and different content is refused.

Refused events go back to the caller (not to the dead-letter topic) and count in their
source's feed health; so do the duplicates caught here, which the worker never sees.

This module holds the route; the body's shape and the answer are in ``envelope.py``, the
per-event checks in ``checks.py``, the idempotency keys in ``ledger.py`` and the body's OpenAPI
schema and examples in ``examples.py``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request, status
from fastapi.responses import JSONResponse
from redis.exceptions import RedisError
from starlette.background import BackgroundTask

from monitor.api.auth import Integrator, Principal
from monitor.api.bodies import check_media_type, read_body
from monitor.api.checks import check_cases, claim_new, deduplicate_within, validate
from monitor.api.deps import (
    ConfigDep,
    KafkaDep,
    ReadModelDep,
    RedisDep,
    SettingsDep,
    kafka_refusal,
)
from monitor.api.envelope import (
    IngestAnswer,
    Offer,
    answer,
    encodable,
    events_of,
)
from monitor.api.kafka import TRANSACTION_SLACK_S, KafkaLink, KafkaUnavailable, OutcomeUnknown
from monitor.api.ledger import EventKey, IdempotencyLedger
from monitor.readmodel import FeedRecord, ReadModel
from monitor.retry import Backoff, attempts
from monitor.settings import Settings
from monitor.timeutil import DAY

log = logging.getLogger("redline.api")
router = APIRouter(tags=["ingestion"])
SETTLE_BACKOFF = Backoff(base=0.05, cap=0.5)  # ending claims: up to 0.05 s, 0.1 s, 0.2 s


async def _ledger(redis: RedisDep, settings: SettingsDep) -> IdempotencyLedger:
    # async although it never awaits: a plain def dependency would cost a thread hop (deps.py)
    return IdempotencyLedger(
        redis,
        settings.ingest_prefix,
        settings.api_idempotency_days * DAY,
        pending_s=claim_lifetime_s(settings),
    )


def claim_lifetime_s(settings: Settings) -> int:
    """How long a claim in flight lives, should its API die: past the broker's transaction
    timeout, by when the transaction it stood for surely ended."""
    return math.ceil(settings.api_kafka_timeout_s + TRANSACTION_SLACK_S) + 10


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
        503: {
            "description": "Kafka unreachable or too slow: nothing of the request will be "
            "applied (or, when the body says so, the outcome is unknown: send the same "
            "request again); Retry-After"
        },
    },
    openapi_extra={"requestBody": {"required": True, "content": {}}},  # filled by openapi()
)
async def post_events(
    request: Request,
    principal: Integrator,
    settings: SettingsDep,
    config: ConfigDep,
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
    await check_cases(offers, principal, read_model, config.centers)
    deduplicate_within(offers)
    in_flight = await claim_new(offers, ledger)
    new = [offer for offer in offers if offer.pending and offer.claimed]
    if in_flight:
        await _settle(ledger.release, [(offer.key(), offer.content) for offer in new])
        raise _in_flight(in_flight, settings)
    if new:
        await _produce(new, ledger, kafka, settings)
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


def _in_flight(offers: list[Offer], settings: Settings) -> HTTPException:
    """503 for a request some of whose events another request is writing right now."""
    ids = ", ".join(repr(offer.event_id()) for offer in offers[:5])
    more = f" and {len(offers) - 5} more" if len(offers) > 5 else ""
    return HTTPException(
        status.HTTP_503_SERVICE_UNAVAILABLE,
        detail=f"event {ids}{more} is being written by another request right now: nothing of "
        "this request was applied; send it again after Retry-After seconds (it is then "
        "answered as that request ended: duplicate, or taken again if that one failed)",
        headers={"Retry-After": str(settings.api_retry_after_s)},
    )


async def _produce(
    new: list[Offer], ledger: IdempotencyLedger, kafka: KafkaLink, settings: Settings
) -> None:
    """The claimed events to Kafka in one transaction, their claims ended as it ended; 503
    unless it committed."""
    claims = [(offer.key(), offer.content) for offer in new]
    records = [(o.event.case_id.encode(), o.value) for o in new if o.event is not None]
    try:
        await kafka.send_all(settings.events_topic, records)
    except KafkaUnavailable as failure:
        unknown = isinstance(failure, OutcomeUnknown)
        log.warning(
            "Kafka %s %d events (%s): answered 503",
            "may or may not have committed" if unknown else "did not commit",
            len(new),
            failure,
        )
        await _settle(ledger.unknown if unknown else ledger.release, claims)
        raise kafka_refusal(settings, failure) from None
    await _settle(ledger.accepted, claims)


async def _settle(
    end: Callable[[list[tuple[EventKey, str]]], Awaitable[None]],
    claims: list[tuple[EventKey, str]],
) -> None:
    """End the claims, retrying briefly while Redis is away. If it stays away, a claim in flight
    expires by itself (:func:`claim_lifetime_s`): a later resend is then taken again and
    the worker drops it as a repeat, or dead-letters it as a conflict if its content changed."""
    problem = ""
    async for _ in attempts(SETTLE_BACKOFF, limit=4):
        try:
            await end(claims)
            return
        except RedisError as exc:
            problem = type(exc).__name__
    log.warning("could not end %d idempotency claims: %s", len(claims), problem)


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
