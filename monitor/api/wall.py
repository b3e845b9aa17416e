"""``GET /wall``: the video-wall page (电子监察大屏), plain files with no build step.

The page and its script and style ship in ``monitor/api/static/``. Serving them needs no token:
they hold no data. The page takes the viewer token from its own URL (``/wall?token=…``) and
passes it on to ``/v1/stream`` and ``/v1/stats/overview``, which check it.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from fastapi import APIRouter, Response

from monitor.api.params import not_found

router = APIRouter(include_in_schema=False)

_STATIC = resources.files("monitor.api") / "static"
_TYPES: Final = {
    "wall.html": "text/html; charset=utf-8",
    "wall.css": "text/css; charset=utf-8",
    "wall.js": "text/javascript; charset=utf-8",
}
# the page talks to this origin only; it loads nothing from elsewhere, and its URL (which holds
# the token) is never sent on as a referrer
_HEADERS: Final = {
    "Content-Security-Policy": "default-src 'self'; connect-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-cache",
}


@router.get("/wall")
async def wall_page() -> Response:
    """The wall page."""
    return _file("wall.html")


@router.get("/wall/{name}")
async def wall_asset(name: str) -> Response:
    """The wall's script and style."""
    if name not in _TYPES:
        raise not_found(f"wall file {name!r}")
    return _file(name)


def _file(name: str) -> Response:
    body = (_STATIC / name).read_bytes()
    return Response(body, media_type=_TYPES[name], headers=_HEADERS)
