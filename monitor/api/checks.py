"""The checks each event of ``POST /v1/events`` goes through, in order: the event contract and
the token (:func:`validate`), the case it writes to (:func:`check_cases`), the rest of
its own request (:func:`deduplicate_within`), and other requests, by claiming it
(:func:`claim_new`). Each marks its :class:`~monitor.api.envelope.Offer` refused or duplicate;
what stays pending is new, and claimed.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

from monitor.api.auth import Principal
from monitor.api.envelope import Offer
from monitor.api.ledger import EventKey, Held, IdempotencyLedger
from monitor.config import Center
from monitor.events import EventRefused, FieldError, parse_event
from monitor.readmodel import ReadModel
from monitor.writers import writer_refusal


def validate(offer: Offer, principal: Principal) -> None:
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


async def check_cases(
    offers: list[Offer], principal: Principal, read_model: ReadModel, centers: Mapping[str, Center]
) -> None:
    """Each event against the case it writes to, as the read model holds it (one round trip):
    a token bound to centres may not touch a case placed elsewhere (an event's own ``center``
    is only read on opening events), and only the case's opener and the sources the centres
    file lists for its centre may write to it (:mod:`monitor.writers`).

    A fast path, not the authority: a case not yet in the read model passes (its centre is the
    one its opening event names), and the engine judges every event again when it applies it.
    """
    case_ids = [o.event.case_id for o in offers if o.pending and o.event is not None]
    if not case_ids:
        return
    owners = await read_model.case_owners(case_ids)
    for offer in offers:
        event = offer.event
        owner = owners.get(event.case_id) if offer.pending and event is not None else None
        if owner is None or event is None:
            continue
        if principal.centers is not None and (
            owner.center is not None and owner.center not in principal.centers
        ):
            offer.refuse(
                FieldError(
                    "case_id",
                    f"case {event.case_id!r} belongs to centre {owner.center!r}, which this "
                    "token does not send for",
                )
            )
            continue
        refusal = writer_refusal(
            event.case_id, owner.opened_by, owner.center, event.source, centers
        )
        if refusal is not None:
            offer.refuse(refusal)


async def claim_new(offers: list[Offer], ledger: IdempotencyLedger) -> list[Offer]:
    """Claim the events still pending, in one atomic step: what another request accepted or
    left unknown makes this one a duplicate, or a conflict when the content differs. Returns
    the events another request has *in flight*: nothing can be said of them yet (that request
    may still fail, and its claim then goes), so the caller answers 503 for the whole request,
    never a "duplicate" that might turn out false."""
    pending = [offer for offer in offers if offer.pending and offer.event is not None]
    claims = await ledger.claim([(offer.key(), offer.content) for offer in pending])
    in_flight: list[Offer] = []
    for offer, claim in zip(pending, claims, strict=True):
        if claim.held is None:
            offer.claimed = True
        elif claim.held is Held.IN_FLIGHT:
            in_flight.append(offer)
        elif claim.held is Held.UNKNOWN:  # same content would have claimed it again
            offer.refuse(
                FieldError(
                    "event_id",
                    f"{offer.event_id()!r} from {offer.key().source!r} was sent before with "
                    "different content, and that attempt may yet be applied (its answer was "
                    "503, outcome unknown): resend that content, or use a new event id",
                )
            )
        else:
            _repeat(offer, claim.content, "an earlier request")
    return in_flight


def deduplicate_within(offers: list[Offer]) -> None:
    """The same (source, event_id) twice in one request: the first one counts."""
    first: dict[EventKey, Offer] = {}
    for offer in offers:
        if not offer.pending or offer.event is None:
            continue
        earlier = first.setdefault(offer.key(), offer)
        if earlier is not offer:
            _repeat(offer, earlier.content, f"event {earlier.index} of this request")


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
