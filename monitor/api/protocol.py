"""The HTTP protocol ``redline api`` is served with: uvicorn's h11 protocol and one bound more,
on the time a client takes to send a request's headers.

uvicorn bounds an idle connection only after an answer (its keep-alive timeout), and a body not
at all (``bodies.py`` does that), but never the headers: a client that sends them a byte at a
time, or opens a connection and sends nothing, holds it for ever, and a few thousand such
clients hold every file descriptor. Here a connection must deliver a request's headers within
``header_timeout_s`` of being ready for one (opened, or its previous answer sent); else it gets
a 408 and is closed. The timer stops as soon as the headers are in, so a long upload or an
open stream is not cut by it.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

import h11
from starlette.status import HTTP_408_REQUEST_TIMEOUT
from uvicorn.protocols.http.h11_impl import H11Protocol


class HeaderTimeoutProtocol(H11Protocol):
    """uvicorn's h11 protocol, cutting a connection whose request headers come too slowly."""

    header_timeout_s: ClassVar[float] = 10.0  # redline api: REDLINE_API_HEADER_TIMEOUT_S

    @classmethod
    def within(cls, timeout_s: float) -> type[HeaderTimeoutProtocol]:
        """The protocol with this timeout, for uvicorn's ``http=`` (which takes a class)."""
        return type(cls.__name__, (cls,), {"header_timeout_s": timeout_s})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._wait_for_headers()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # the headers are in (or the request failed)
            self._stop_waiting()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # ready for the next request, unless a pipelined one already came in whole
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._wait_for_headers()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_waiting()
        super().connection_lost(exc)

    def _wait_for_headers(self) -> None:
        self._stop_waiting()
        self._header_timer = self.loop.call_later(self.header_timeout_s, self._headers_late)

    def _stop_waiting(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.write(late_answer(self.header_timeout_s))
            self.transport.close()


def late_answer(timeout_s: float) -> bytes:
    """The 408 of a request whose headers did not arrive in time, in the API's error shape
    (written below the application: h11 has no request to answer yet)."""
    detail = (
        f"the request headers did not arrive within {timeout_s:g} s: send them at once "
        "(a slow or stalled request is cut)"
    )
    body = json.dumps({"detail": detail}).encode()
    head = (
        f"HTTP/1.1 {HTTP_408_REQUEST_TIMEOUT} Request Timeout\r\n"
        "content-type: application/json\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body
