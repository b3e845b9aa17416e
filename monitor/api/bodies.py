"""Request bodies with bounds: how many bytes, how long to receive them, how far gzip expands,
and what they may be (JSON in UTF-8).

A caller that sends slowly or endlessly must not hold a worker of the API: every route's body is
received through :class:`BodyLimits`, which stops at ``api_max_body_bytes`` (413) and at
``api_body_timeout_s`` after the request began (408). Ingestion also accepts gzip, and the
decompressed size is bounded the same way, so a small bomb cannot expand into gigabytes.
Every route that takes a body takes JSON: another media type is a 415 (:func:`check_media_type`,
and :data:`JsonBody` for the routes whose body FastAPI reads).
"""

from __future__ import annotations

import asyncio
import zlib
from typing import Annotated, Final

from fastapi import Depends, HTTPException, Request, status
from starlette.types import ASGIApp, Message, Receive, Scope, Send

ENCODINGS = ("identity", "gzip", "x-gzip")
JSON_TYPES: Final = ("application/json",)


class BodyTooLarge(HTTPException):
    """A body (sent or decompressed) over the limit: 413. An HTTPException, so that FastAPI
    passes it through its own body parsing on every route."""

    def __init__(self, limit: int) -> None:
        detail = (
            f"the request body is over {limit} bytes ({limit // 1024} KiB), gzip-decompressed "
            "included: split the batch"
        )
        super().__init__(status.HTTP_413_CONTENT_TOO_LARGE, detail, _CLOSE)


class BodyTimeout(HTTPException):
    """A body not received in time: 408."""

    def __init__(self, timeout_s: float) -> None:
        detail = (
            f"the request body did not arrive within {timeout_s:g} s: send it at once "
            "(a slow or stalled upload is cut)"
        )
        super().__init__(status.HTTP_408_REQUEST_TIMEOUT, detail, _CLOSE)


# the connection cannot carry another request after a cut body
_CLOSE = {"Connection": "close"}
# Before answering 413, the rest of an over-long body is read and thrown away, up to this many
# times the limit (and within the body timeout): a server that answers and closes while the
# client is still sending resets the connection, and the client never sees the 413.
DRAIN_FACTOR = 8


class BodyLimits:
    """ASGI middleware: each request's body is cut at ``max_bytes`` and must arrive within
    ``timeout_s`` of the request's start. Once the body is in, ``receive`` is passed through
    untouched (a streaming response listens on it for the client's disconnect)."""

    def __init__(self, app: ASGIApp, max_bytes: int, timeout_s: float) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_s = timeout_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        deadline = asyncio.get_running_loop().time() + self.timeout_s
        received = 0
        done = False
        max_bytes, timeout_s = self.max_bytes, self.timeout_s

        async def bounded() -> Message:
            nonlocal received, done
            if done:
                return await receive()
            try:
                async with asyncio.timeout_at(deadline):
                    message = await receive()
            except TimeoutError:
                raise BodyTimeout(timeout_s) from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                done = not message.get("more_body", False)
                if received > max_bytes:
                    if not done:
                        await drain()
                    raise BodyTooLarge(max_bytes)
            else:
                done = True  # disconnected: nothing more will come
            return message

        async def drain() -> None:
            nonlocal received
            try:
                async with asyncio.timeout_at(deadline):
                    while received <= max_bytes * DRAIN_FACTOR:
                        message = await receive()
                        received += len(message.get("body", b""))
                        if message["type"] != "http.request" or not message.get("more_body"):
                            return
            except TimeoutError:
                return  # the 413 goes out anyway; the connection closes after it

        await self.app(scope, bounded, send)


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, decompressed when ``Content-Encoding: gzip``, at most ``max_bytes``."""
    encoding = request.headers.get("content-encoding", "identity").strip().lower() or "identity"
    if encoding not in ENCODINGS:
        raise HTTPException(
            status.HTTP_415_UNSUPPORTED_MEDIA_TYPE,
            f"Content-Encoding {encoding!r} is not supported: send gzip or no encoding",
        )
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > max_bytes:
        async for _ in request.stream():  # BodyLimits drains it and answers 413
            pass
        raise BodyTooLarge(max_bytes)
    if encoding == "identity":
        chunks = [chunk async for chunk in request.stream()]
        return b"".join(chunks)
    return await _gunzip(request, max_bytes)


async def _gunzip(request: Request, max_bytes: int) -> bytes:
    """Decompress as the bytes arrive, never past ``max_bytes`` of output (a gzip bomb stops
    after the first megabyte, whatever it would expand to)."""
    inflate = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    out = bytearray()
    try:
        async for chunk in request.stream():
            data = chunk
            while data and not inflate.eof:
                out += inflate.decompress(data, max_bytes + 1 - len(out))
                if len(out) > max_bytes:
                    raise BodyTooLarge(max_bytes)
                data = inflate.unconsumed_tail
        if not inflate.eof:
            raise zlib.error("the stream ends before its end marker")
    except zlib.error as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            [{"field": "(body)", "rule": f"is not valid gzip ({exc})"}],
        ) from None
    return bytes(out)


def check_media_type(content_type: str | None) -> None:
    """JSON in UTF-8 (``application/json`` or ``application/…+json``), else 415."""
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


async def json_media_type(request: Request) -> None:
    """415 for a body that is not JSON in UTF-8; a request without a body passes."""
    if request.headers.get("content-length", "0") != "0" or "transfer-encoding" in request.headers:
        check_media_type(request.headers.get("content-type"))


# a route whose optional JSON body FastAPI reads: put it after the token's dependency, so that
# a caller without a token hears 401 first
JsonBody = Annotated[None, Depends(json_media_type)]


def not_json(exc: ValueError) -> str:
    """The rule of a body that does not parse, as every route says it."""
    return f"is not valid JSON ({exc})"
