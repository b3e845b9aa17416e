"""``GET /v1/stream``: the wall's live feed, as server-sent events.

On connect, a ``snapshot`` (what ``GET /v1/stats/overview`` answers); then a ``change`` for
every entry of the read model's change feed (the Redis stream ``{prefix}changes``, written by
the same Lua scripts as the views, so nothing changes unannounced; read once for all streams,
``fanout.py``), with the stream entry id as the event id: a browser that reconnects sends it
back as ``Last-Event-ID`` and resumes after it (an id it never sent is a 400, before the
stream begins). Every :data:`HEARTBEAT_S` seconds a ``heartbeat`` carries the server time and
the newest change's time, so a page can tell a quiet hour from a dead feed.

The token: ``Authorization: Bearer``, or ``?token=`` because a browser's ``EventSource`` cannot
send headers. A token in a URL can end up in proxy logs, browser history and the address bar of
a wall screen, so give the wall a **viewer** token of its own (read-only, revocable, bound to
its centres if it shows only those), never a supervisor's; the API's own access log leaves
query strings out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Request, status
from fastapi.responses import StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials

from monitor import jsontext

# the bearer scheme and role check every route uses (auth.py): only the ?token= fallback is new
from monitor.api.auth import Principal, Role, _bearer, _person, authenticated
from monitor.api.deps import ChangeHubDep, ReadModelDep
from monitor.api.directory import DirectoryDep
from monitor.api.fanout import (
    BATCH,
    ChangeHub,
    Subscriber,
    case_id_of,
    centers_of,
    change_frame,
    entry_key,
    sse_frame,
)
from monitor.api.params import DISPLAY_ZONE, bad_request, is_entry_id
from monitor.api.stats import overview
from monitor.readmodel import ReadModel

router = APIRouter(prefix="/v1", tags=["stream"])

HEARTBEAT_S: Final = 2.0  # the page calls itself stale after several missed beats
RETRY_MS: Final = 1_000  # how soon a browser reconnects after the stream broke
HUB_WAIT_S: Final = 5.0  # for the change-feed reader to find the feed's end at the start
_ID_RULE: Final = (
    "must be the id of a change this stream sent: <ms>-<n>, two whole numbers below 2^64, "
    "no later than the newest change (start without the header)"
)
_viewer = _person(Role.VIEWER)


async def stream_viewer(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    token: Annotated[
        str | None,
        Query(
            max_length=256,
            description="the viewer token, for EventSource (which cannot send headers); "
            "the Authorization header wins when both are given",
        ),
    ] = None,
) -> Principal:
    """A viewer (or higher) from the Authorization header, else from ``?token=``."""
    if credentials is None and token:
        credentials = HTTPAuthorizationCredentials(scheme="Bearer", credentials=token)
    principal: Principal = await _viewer(await authenticated(request, credentials))
    return principal


async def resume_from(
    hub: ChangeHubDep,
    read_model: ReadModelDep,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="resume after this change (the id of the last event received)",
        ),
    ] = None,
) -> str | None:
    """The change-feed position to resume after; 400 when it is not one this API sent. A
    browser sends the header back on every reconnect, so a bad one must be refused before the
    stream begins (it would otherwise break every stream it starts)."""
    if last_event_id is None or last_event_id == "":
        return None
    if not is_entry_id(last_event_id):
        raise bad_request("Last-Event-ID", _ID_RULE)
    if entry_key(last_event_id) > entry_key(hub.position):
        # ahead of this process's reader: the feed says whether it is there (the client may
        # have had it a moment sooner from another API process)
        newest = await read_model.newest_change()
        if newest is None or entry_key(last_event_id) > entry_key(newest):
            raise bad_request("Last-Event-ID", _ID_RULE)
    return last_event_id


StreamViewer = Annotated[Principal, Depends(stream_viewer)]


async def stream_slot(principal: StreamViewer, hub: ChangeHubDep) -> Subscriber:
    """A place among the hub's subscribers (429 / 503 when the caps are reached, before the
    response begins). The stream gives it back when it ends: not a dependency with ``yield``,
    whose exit FastAPI runs before a streaming response is sent."""
    try:
        async with asyncio.timeout(HUB_WAIT_S):
            await hub.started()
    except TimeoutError:
        raise HTTPException(
            status.HTTP_503_SERVICE_UNAVAILABLE,
            "the read model's change feed is not readable yet: retry after Retry-After seconds",
            headers={"Retry-After": str(hub.retry_after_s)},
        ) from None
    return hub.subscribe(principal)


@router.get(
    "/stream",
    response_class=StreamingResponse,
    summary="Live feed for the wall (server-sent events)",
    responses={
        200: {
            "content": {"text/event-stream": {"schema": {"type": "string"}}},
            "description": "`snapshot` (as GET /v1/stats/overview), then `change` events "
            "(`kind` case|alert, `id`, `case_id`, `light` or `status`, `at`) with the change "
            "feed's entry id as the event id, and a `heartbeat` every "
            f"{HEARTBEAT_S:g} s (`server_time`, `last_change_at`)",
        },
        429: {"description": "this token has its most streams open"},
        503: {"description": "the API has its most streams open, or Redis is away"},
    },
)
async def stream(
    principal: StreamViewer,
    read_model: ReadModelDep,
    directory: DirectoryDep,
    hub: ChangeHubDep,
    resume: Annotated[str | None, Depends(resume_from)],
    # last: a request refused by any other check must not have taken a place
    subscriber: Annotated[Subscriber, Depends(stream_slot)],
) -> StreamingResponse:
    """Snapshot, then every change of the read model, with heartbeats.

    The frames are written here rather than by FastAPI's own server-sent events (a pydantic
    event, its JSON and two in-memory streams per message): a change is encoded once for every
    stream (``fanout.change_frame``), and what a stream has queued goes out as one chunk. With
    a thousand walls that is the difference between an API that answers and one that does not
    (bench/NOTES.md, "A thousand walls")."""
    try:
        # the hub queues every change after `start` for this stream: a change between it and
        # the snapshot is sent (perhaps twice), never lost
        start = hub.position
        snapshot = await overview(read_model, principal, directory, time.time())
    except BaseException:
        hub.unsubscribe(subscriber)
        raise
    position = resume if resume is not None else start
    first = sse_frame("snapshot", jsontext.dumps(snapshot.model_dump()), position, RETRY_MS)
    return StreamingResponse(
        _frames(principal, read_model, hub, subscriber, first, start, position),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _frames(
    principal: Principal,
    read_model: ReadModel,
    hub: ChangeHub,
    subscriber: Subscriber,
    first: bytes,
    start: str,
    position: str,
) -> AsyncIterator[bytes]:
    try:
        yield first
        # a resumed stream first catches up from the feed, up to where the hub's queue begins
        while entry_key(position) < entry_key(start):
            missed = await read_model.changes_after(position, BATCH, None)
            if not missed:
                break
            centers = {} if principal.centers is None else await centers_of(read_model, missed)
            caught_up: list[bytes] = []
            for entry in missed:
                if entry_key(entry.id) > entry_key(start):
                    break
                position = entry.id
                if _visible(principal, centers.get(case_id_of(entry))):
                    caught_up.append(change_frame(entry))
            if caught_up:
                yield b"".join(caught_up)
        beat_at = time.monotonic() + HEARTBEAT_S
        queue = subscriber.queue
        while not subscriber.dropped or not queue.empty():
            try:
                async with asyncio.timeout(max(0.0, beat_at - time.monotonic())):
                    item = await queue.get()
            except TimeoutError:
                yield sse_frame("heartbeat", jsontext.dumps(_heartbeat(hub)))
                beat_at = time.monotonic() + HEARTBEAT_S
                continue
            # what else is queued goes in the same chunk: one write for a burst of changes
            chunk: list[bytes] = []
            while True:
                entry, center, frame = item
                if entry_key(entry.id) > entry_key(position):  # else: sent while catching up
                    position = entry.id
                    if _visible(principal, center):
                        chunk.append(frame)
                if queue.empty() or len(chunk) >= BATCH:
                    break
                item = queue.get_nowait()
            if chunk:
                yield b"".join(chunk)
    finally:
        hub.unsubscribe(subscriber)


def _visible(principal: Principal, center: str | None) -> bool:
    """Whether the token may see a change of a case in ``center`` (a token bound to centres
    sees the cases the read model places in them)."""
    return principal.centers is None or (center is not None and principal.may_see(center))


def _heartbeat(hub: ChangeHub) -> dict[str, Any]:
    now = time.time()
    changed_ms = hub.last_change_ms
    return {
        "server_time": DISPLAY_ZONE.format(int(now)),
        "server_epoch_ms": int(now * 1000),
        "last_change_at": None if changed_ms is None else DISPLAY_ZONE.format(changed_ms // 1000),
        "last_change_epoch_ms": changed_ms,
    }
