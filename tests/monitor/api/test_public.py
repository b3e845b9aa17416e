"""GET /v1/public/cases/{id}: an applicant's view of progress, without a token, with nothing
personal in it, and a limit on walking the case numbers."""

from __future__ import annotations

import json
import math
import re

import httpx
import pytest
from apistack import ApiStack
from events import event, now
from readkit import api_with, case_when, post_events

from monitor.api.public import PUBLIC_RATE

pytestmark = pytest.mark.integration

PUBLIC_FIELDS = {
    "case_id",
    "status",
    "light",
    "item_code",
    "item_name",
    "center",
    "center_name",
    "department",
    "submitted_at",
    "accepted_at",
    "deadline",
    "closed_at",
    "timeline",
}
HANDLER, WINDOW, SOURCE = "h-zhang-san-13800138000", "W-secret-07", "win-public-secret"
DAY = 86_400
SLASHED = "GZ/2026/000042"  # a case number may hold slashes


@pytest.fixture(scope="module")
async def case_id(api_stack: ApiStack) -> str:
    """A case with a handler, a window, free-text reasons and a step: all kept from the public."""
    t = now()
    personal = {"handler": HANDLER, "window": WINDOW}
    opening = {"center": "GZ-TIANHE", "item_code": "FOOD-LICENSE", **personal}
    events = [
        event("PUB-1", 1, "submitted", t - 3 * DAY, SOURCE, **opening),
        event("PUB-1", 2, "accepted", t - 2 * DAY, SOURCE, **opening),
        event("PUB-1", 3, "step_started", t - DAY, SOURCE, data={"step": "现场核查 李四"}),
        event("PUB-1", 4, "suspended", t - 3600, SOURCE, data={"reason": "supplement"}, **personal),
    ]
    slashed = event(SLASHED, 1, "accepted", t - DAY, SOURCE, **opening)
    async with httpx.AsyncClient(base_url=api_stack.base_url, timeout=30) as http:
        await post_events(http, api_stack, *events, slashed)
        await case_when(http, api_stack, "PUB-1", lambda c: len(c.get("timeline", [])) == 4)
        await case_when(http, api_stack, SLASHED)
    return "PUB-1"


async def test_progress_without_a_token_and_nothing_personal(
    api_stack: ApiStack, http: httpx.AsyncClient, case_id: str
) -> None:
    response = await http.get(f"/v1/public/cases/{case_id}")
    assert response.status_code == 200, response.text
    public = response.json()
    assert set(public) == PUBLIC_FIELDS
    assert (public["status"], public["light"]) == ("open", "suspended")
    assert (public["item_name"], public["center_name"]) == ("食品经营许可", "天河区政务服务中心")
    assert [step["type"] for step in public["timeline"]] == [
        "case.submitted",
        "case.accepted",
        "case.step_started",
        "case.suspended",
    ]
    assert all(set(step) == {"type", "date"} for step in public["timeline"])
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", step["date"]) for step in public["timeline"])
    text = response.text
    for secret in (HANDLER, WINDOW, SOURCE, "李四", "PUB-1-1", "supplement", "event_id"):
        assert secret not in text, secret
    # the staff's view of the same case does hold them: the public view left them out
    staff = await http.get(f"/v1/cases/{case_id}", headers=api_stack.auth(api_stack.viewer_token))
    assert HANDLER in staff.text and SOURCE in staff.text


@pytest.mark.parametrize(
    "path",
    ["NO-SUCH-CASE", "..%2F..%2Fetc%2Fpasswd", "%2A", "%00", "x" * 65, "%27%20OR%201%3D1"],
)
async def test_unknown_and_malformed_ids_get_the_same_404(
    http: httpx.AsyncClient, case_id: str, path: str
) -> None:
    response = await http.get(f"/v1/public/cases/{path}")
    assert response.status_code == 404, response.text
    assert response.json() == {"detail": "case not found"}  # nothing to tell them apart


@pytest.mark.parametrize("path", [SLASHED, SLASHED.replace("/", "%2F")])
async def test_a_case_number_with_slashes(
    api_stack: ApiStack, http: httpx.AsyncClient, case_id: str, path: str
) -> None:
    public = await http.get(f"/v1/public/cases/{path}")
    assert public.status_code == 200 and public.json()["case_id"] == SLASHED
    staff = await http.get(f"/v1/cases/{path}", headers=api_stack.auth(api_stack.viewer_token))
    assert staff.status_code == 200 and staff.json()["case_id"] == SLASHED


async def _walk(http: httpx.AsyncClient, forwarded_for: str | None = None) -> list[int]:
    """Look up unknown case numbers until a 429 (then its checks) or 2 × PUBLIC_RATE + 1
    lookups; the statuses. ``forwarded_for``: an X-Forwarded-For per lookup (``{n}``: its
    number), as a client that claims another address each time."""
    # a bucket of PUBLIC_RATE lookups that refills at PUBLIC_RATE a minute: a walk much
    # quicker than that overflows it
    statuses = []
    for n in range(2 * PUBLIC_RATE + 1):
        headers = {} if forwarded_for is None else {"X-Forwarded-For": forwarded_for.format(n=n)}
        response = await http.get(f"/v1/public/cases/GZ-2026-{n:06d}", headers=headers)
        statuses.append(response.status_code)
        if response.status_code == 429:
            # the wait for one lookup's refill
            assert 1 <= int(response.headers["Retry-After"]) <= math.ceil(60 / PUBLIC_RATE)
            assert "minute" in json.loads(response.text)["detail"]
            break
    return statuses


async def test_behind_a_configured_proxy_each_forwarded_address_has_its_own_limit(
    api_stack: ApiStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    async with api_with(
        api_stack, tmp_path_factory, api_trusted_proxies="10.9.9.9, 127.0.0.1"
    ) as proxied:
        statuses = await _walk(proxied, forwarded_for="203.0.113.7")
        assert statuses[-1] == 429 and set(statuses[:-1]) <= {404, 200}
        other = await proxied.get(
            "/v1/public/cases/GZ-2026-X", headers={"X-Forwarded-For": "203.0.113.8"}
        )
        assert other.status_code == 404  # another applicant behind the same proxy


# last in the module: it empties the bucket of the test client's address
async def test_walking_case_numbers_is_limited_per_address(
    http: httpx.AsyncClient, case_id: str
) -> None:
    # claiming another address each time does not help: with no proxy configured
    # (REDLINE_API_TRUSTED_PROXIES), X-Forwarded-For is believed from no one, loopback included
    statuses = await _walk(http, forwarded_for="198.51.100.{n}")
    assert statuses[-1] == 429 and set(statuses[:-1]) <= {404, 200}
