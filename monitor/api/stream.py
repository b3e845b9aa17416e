"""``GET /v1/stream``: the wall's live feed, as server-sent events.

On connect, a ``snapshot`` (what ``GET /v1/stats/overview`` answers); then a ``change`` for
every entry of the read model's change feed (the Redis stream ``{prefix}changes``, written by
the same Lua scripts as the views, so nothing changes unannounced), with the stream entry id as
the event id: a browser that reconnects sends it back as ``Last-Event-ID`` and resumes after
it. Every :data:`HEARTBEAT_S` seconds a ``heartbeat`` carries the server time and the newest
change's time, so a page can tell a quiet hour from a dead feed.

The token: ``Authorization: Bearer``, or ``?token=`` because a browser's ``EventSource`` cannot
send headers. A token in a URL can end up in proxy logs, browser history and the address bar of
a wall screen, so give the wall a **viewer** token of its own (read-only, revocable, bound to
its centres if it shows only those), never a supervisor's; the API's own access log leaves
query strings out.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator
from typing import Annotated, Any, Final

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials
from fastapi.sse import EventSourceResponse, ServerSentEvent

# the bearer scheme and role check every route uses (auth.py): only the ?token= fallback is new
from monitor.api.auth import Principal, Role, _bearer, _person, authenticated
from monitor.api.deps import ReadModelDep
from monitor.api.directory import DirectoryDep
from monitor.api.params import DISPLAY_ZONE, bad_request
from monitor.api.stats import overview
from monitor.readmodel import Change, ReadModel

router = APIRouter(prefix="/v1", tags=["stream"])

HEARTBEAT_S: Final = 2.0  # the page calls itself stale after several missed beats
RETRY_MS: Final = 1_000  # how soon a browser reconnects after the stream broke
BATCH: Final = 500  # change entries read at a time
_ENTRY_ID = re.compile(r"^\d{1,20}-\d{1,20}$")
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


def resume_from(
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            max_length=64,
            description="resume after this change (the id of the last event received)",
        ),
    ] = None,
) -> str | None:
    """The change-feed position to resume after; 400 when it is not one this API sent."""
    if last_event_id is None or last_event_id == "":
        return None
    if not _ENTRY_ID.match(last_event_id):
        raise bad_request("Last-Event-ID", "must be the id of an event this stream sent")
    return last_event_id


StreamViewer = Annotated[Principal, Depends(stream_viewer)]


@router.get(
    "/stream",
    response_class=EventSourceResponse,
    summary="Live feed for the wall (server-sent events)",
    responses={
        200: {
            "description": "`snapshot` (as GET /v1/stats/overview), then `change` events "
            "(`kind` case|alert, `id`, `case_id`, `light` or `status`, `at`) with the change "
            "feed's entry id as the event id, and a `heartbeat` every "
            f"{HEARTBEAT_S:g} s (`server_time`, `last_change_at`)"
        }
    },
)
async def stream(
    principal: StreamViewer,
    read_model: ReadModelDep,
    directory: DirectoryDep,
    resume: Annotated[str | None, Depends(resume_from)],
) -> AsyncIterator[ServerSentEvent]:
    """Snapshot, then every change of the read model, with heartbeats."""
    # the position is taken before the snapshot: a change in between is sent, not lost
    position = resume or await read_model.newest_change() or "0-0"
    snapshot = await overview(read_model, principal, directory, time.time())
    yield ServerSentEvent(event="snapshot", data=snapshot.model_dump(), id=position, retry=RETRY_MS)
    beat_at = time.monotonic() + HEARTBEAT_S
    while True:
        wait_ms = max(1, int((beat_at - time.monotonic()) * 1000))
        for entry in await read_model.changes_after(position, BATCH, wait_ms):
            position = entry.id
            change = _change(entry)
            if await _visible(read_model, principal, change):
                yield ServerSentEvent(event="change", data=change, id=position)
        if time.monotonic() >= beat_at:
            yield ServerSentEvent(event="heartbeat", data=await _heartbeat(read_model))
            beat_at = time.monotonic() + HEARTBEAT_S


def _change(entry: Change) -> dict[str, Any]:
    change: dict[str, Any] = dict(entry.fields)
    change["at"] = DISPLAY_ZONE.format(int(entry.id.split("-", 1)[0]) // 1000)
    return change


async def _visible(read_model: ReadModel, principal: Principal, change: dict[str, Any]) -> bool:
    if principal.centers is None:
        return True
    case = await read_model.case(str(change.get("case_id", "")))
    return case is not None and principal.may_see(case.get("center"))


async def _heartbeat(read_model: ReadModel) -> dict[str, Any]:
    now = time.time()
    changed_ms = await read_model.last_change_ms()
    return {
        "server_time": DISPLAY_ZONE.format(int(now)),
        "server_epoch_ms": int(now * 1000),
        "last_change_at": None if changed_ms is None else DISPLAY_ZONE.format(changed_ms // 1000),
        "last_change_epoch_ms": changed_ms,
    }
