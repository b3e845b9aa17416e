"""What the routes share: query and path parameters with their rules, a response model's OpenAPI
example, and what a principal may see.

Codes follow the event contract's rule (1–64 characters, no control characters), so a filter
can only name something an event could have carried; FastAPI answers any other value with 422
naming the parameter. A person token bound to centres sees only their cases and alerts: a case
of another centre is answered as unknown (404), so its existence does not leak.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Annotated, Any, Final

from fastapi import HTTPException, Path, Query, status
from pydantic import ConfigDict

from monitor.api.auth import Principal
from monitor.casetypes import Light
from monitor.readmodel import CursorError, Page, ReadModel
from monitor.readmodel.cursors import decode_cursor
from monitor.timeutil import Zone, zone

DISPLAY_ZONE: Final[Zone] = zone("Asia/Shanghai")  # instants without a centre (feeds, the wall)
MAX_LIMIT: Final = 500
CODE_PATTERN: Final = r"^[^\x00-\x1f\x7f]+$"  # the event contract's rule for codes
_ENTRY_ID: Final = re.compile(r"^(\d{1,20})-(\d{1,20})$")
_MAX_ENTRY_PART: Final = 2**64 - 1


class OpenLight(StrEnum):
    """The light of an open case (a closed case is in no list)."""

    GREEN = Light.GREEN.value  # 绿灯
    YELLOW = Light.YELLOW.value  # 黄灯
    RED = Light.RED.value  # 红灯
    SUSPENDED = Light.SUSPENDED.value  # 暂停


def _code(param: Callable[..., Any], description: str, example: str, max_length: int) -> Any:
    return param(
        min_length=1,
        max_length=max_length,
        pattern=CODE_PATTERN,
        description=description,
        examples=[example],
    )


def code_query(description: str, example: str) -> Any:
    """A query parameter holding a code (centre, department) under the contract's rule."""
    return _code(Query, description + " (1–64 characters, no control characters)", example, 64)


def code_path(description: str, example: str, max_length: int = 64) -> Any:
    """A path parameter holding an id (a case, an alert) under the contract's rule for codes."""
    return _code(Path, description, example, max_length)


def example_config(example: dict[str, Any]) -> ConfigDict:
    """A model's config whose OpenAPI schema shows ``example``, as ``/docs`` presents it."""
    return ConfigDict(json_schema_extra={"examples": [example]})


CenterQuery = Annotated[str | None, code_query("service centre code (中心)", "GZ-TIANHE")]
DepartmentQuery = Annotated[str | None, code_query("department code (部门)", "market")]
LimitQuery = Annotated[
    int, Query(ge=1, le=MAX_LIMIT, description=f"page size, 1–{MAX_LIMIT}", examples=[50])
]
CursorQuery = Annotated[
    str | None,
    Query(
        max_length=200,
        description="opaque: the `next_cursor` of the previous page; absent for the first",
    ),
]


def bad_request(field: str, rule: str) -> HTTPException:
    """400 for a value that is well-formed but not one this API handed out (a cursor)."""
    return HTTPException(status.HTTP_400_BAD_REQUEST, detail=[{"field": field, "rule": rule}])


def is_entry_id(text: str) -> bool:
    """Whether ``text`` is a Redis stream entry id, as the change feed and the audit log hand
    them out: ``<ms>-<n>``, both whole numbers below 2^64 (Redis refuses larger ones with an
    error, which must not reach the caller as a 503)."""
    match = _ENTRY_ID.match(text)
    return match is not None and all(int(part) <= _MAX_ENTRY_PART for part in match.groups())


def not_found(what: str) -> HTTPException:
    """404 for something unknown, or hidden from this principal (the same answer for both)."""
    return HTTPException(status.HTTP_404_NOT_FOUND, detail=f"{what} not found")


def check_cursor(cursor: str | None) -> None:
    """400 naming ``cursor`` when it is not one this API handed out."""
    if cursor is None:
        return
    try:
        decode_cursor(cursor)
    except CursorError as exc:
        raise bad_request("cursor", str(exc)) from None


def text_or_none(value: object) -> str | None:
    """A view's field as text, None when absent."""
    return None if value is None else str(value)


async def open_cases(
    read_model: ReadModel,
    principal: Principal,
    light: str | None = None,
    center: str | None = None,
    department: str | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page:
    """Open cases the principal may see, by deadline; :func:`check_cursor` first."""
    if center is not None and not principal.may_see(center):
        return Page([], None)  # a filter outside the principal's centres matches nothing
    within = principal.centers if center is None else None
    return await read_model.cases(light, center, department, limit, cursor, within=within)
