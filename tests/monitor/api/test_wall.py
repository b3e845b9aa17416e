"""The /wall page in headless Chromium (Debian's ``chromium``) on the real stack: a red case
posted through the API appears in the page's red list within 2 s; the page goes visibly stale
when its API stops answering, and comes back by itself, snapshot included, when an API is back.

Screenshots go to tests/artifacts/ (git-ignored).
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from apistack import ApiStack
from events import event, now
from playwright.async_api import Browser, Page, async_playwright, expect
from readkit import post_events

from bench.processes import ApiProcess

pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(shutil.which("chromium") is None, reason="scripts/services.sh install"),
]

ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
VISIBLE_WITHIN_S = 2.0  # the promise: a red case on the wall within 2 s of its POST
STALE_S = 4  # the page's ?stale=: seconds without a heartbeat before it says so
HOUR = 3600


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium from the system (Playwright's own browsers are not downloaded)."""
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=shutil.which("chromium"), headless=True
        )
        try:
            yield launched
        finally:
            await launched.close()


async def _open_wall(browser: Browser, base_url: str, token: str, **params: Any) -> Page:
    """The wall, once its first snapshot is on the page."""
    page = await browser.new_page(viewport={"width": 1920, "height": 1080})
    query = "&".join(f"{name}={value}" for name, value in {"token": token, **params}.items())
    await page.goto(f"{base_url}/wall?{query}")
    # expect() polls from Playwright's own world: the page's CSP forbids eval (wait_for_function)
    await expect(page.locator("#totals [data-light=red] .count")).not_to_have_text("—")
    return page


def _late_case(case_id: str, center: str = "GZ-TIANHE") -> list[dict[str, Any]]:
    """A case accepted two hours ago with a one-hour promise, whose window reported a step a
    minute ago: red the moment the worker applies it."""
    t = now()
    opening = {"center": center, "item_code": "FOOD-LICENSE", "window": "W-03"}
    return [
        event(case_id, 1, "accepted", t - 2 * HOUR, **opening, data={"promised": "1h"}),
        event(case_id, 2, "step_started", t - 60, data={"step": "review"}),
    ]


async def test_a_red_case_posted_through_the_api_is_on_the_wall_within_2s(
    api_stack: ApiStack, http: httpx.AsyncClient, browser: Browser
) -> None:
    page = await _open_wall(browser, api_stack.base_url, api_stack.viewer_token)
    try:
        assert await page.title() == "电子监察 · 实时监控"  # Chinese by default
        assert "token=" not in page.url  # taken out of the address bar of the wall screen
        assert await page.locator("#red-list tr[data-case-id='WALL-1']").count() == 0
        red_before = int(await page.locator("#totals [data-light=red] .count").inner_text())

        await post_events(http, api_stack, *_late_case("WALL-1"))
        accepted = time.monotonic()  # the 202: the broker has the events
        row = page.locator("#red-list tr[data-case-id='WALL-1']")
        await row.wait_for(timeout=VISIBLE_WITHIN_S * 1000)
        took = time.monotonic() - accepted
        assert took <= VISIBLE_WITHIN_S, f"on the wall after {took:.2f} s"

        cells = await row.locator("td").all_inner_texts()
        assert cells[:4] == ["WALL-1", "食品经营许可", "market", "天河区政务服务中心"]
        first = await row.locator("td.overdue-for").inner_text()
        assert first.startswith("00:59:") or first.startswith("01:00:")  # deadline 1 h ago
        red_count = page.locator("#totals [data-light=red] .count")
        await expect(red_count).to_have_text(str(red_before + 1))
        # the overdue time ticks on the page, without new data
        await expect(row.locator("td.overdue-for")).not_to_have_text(first)
        assert await page.locator("#stale-banner").is_hidden()
        ARTIFACTS.mkdir(exist_ok=True)
        await page.screenshot(path=str(ARTIFACTS / "wall.png"))
    finally:
        await page.close()


@pytest.mark.parametrize(
    ("path", "kind"),
    [("/wall", "text/html"), ("/wall/wall.js", "text/javascript"), ("/wall/wall.css", "text/css")],
)
async def test_the_page_needs_no_token_and_keeps_its_url_to_itself(
    http: httpx.AsyncClient, path: str, kind: str
) -> None:
    response = await http.get(path)  # no data in it: the data routes check the token
    assert response.status_code == 200 and response.headers["content-type"].startswith(kind)
    assert response.headers["referrer-policy"] == "no-referrer"  # the URL holds the token
    assert "connect-src 'self'" in response.headers["content-security-policy"]
    for other in ("/wall/app.js", "/wall/..%2Fapp.py", "/wall/%2E%2E%2F__init__.py"):
        assert (await http.get(other)).status_code == 404


async def test_english_labels_on_request(api_stack: ApiStack, browser: Browser) -> None:
    page = await _open_wall(browser, api_stack.base_url, api_stack.viewer_token, lang="en")
    try:
        assert await page.locator("[data-light=red] .label").inner_text() == "Red"
        assert await page.title() == "Supervision · Live"
    finally:
        await page.close()


async def test_a_bad_token_says_so_on_the_page(api_stack: ApiStack, browser: Browser) -> None:
    page = await browser.new_page()
    try:
        await page.goto(f"{api_stack.base_url}/wall?token=rl_revoked-or-never-made")
        banner = page.locator("#auth-banner")
        await banner.wait_for(timeout=10_000)
        assert "令牌" in await banner.inner_text()
    finally:
        await page.close()


async def test_the_wall_goes_stale_when_its_api_stops_and_recovers_by_itself(
    api_stack: ApiStack,
    http: httpx.AsyncClient,
    browser: Browser,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # an API of this test's own, on the module's stack, that can be frozen and killed
    logs = tmp_path_factory.mktemp("wall-api")
    api = _api(api_stack, logs)
    await api.wait_until(200, "/readyz")
    page = await _open_wall(browser, api.base_url, api_stack.viewer_token, stale=STALE_S)
    banner = page.locator("#stale-banner")
    try:
        assert await banner.is_hidden()
        # frozen: the connection stays open but nothing comes (the case a socket error misses)
        os.kill(api.process.pid, signal.SIGSTOP)
        try:
            await banner.wait_for(state="visible", timeout=(STALE_S + 6) * 1000)
            assert "数据已停止更新" in await banner.inner_text()
            assert "stale" in (await page.get_attribute("body", "class") or "")
            ARTIFACTS.mkdir(exist_ok=True)
            await page.screenshot(path=str(ARTIFACTS / "wall-stale.png"))
        finally:
            os.kill(api.process.pid, signal.SIGCONT)
        await banner.wait_for(state="hidden", timeout=(STALE_S + 6) * 1000)

        # crashed: the stream breaks; a case turns red meanwhile; a new API on the same port
        api.process.kill()
        api.stop()
        await banner.wait_for(state="visible", timeout=(STALE_S + 6) * 1000)
        await post_events(http, api_stack, *_late_case("WALL-GONE"))
        api = _api(api_stack, logs, port=api.port)
        await api.wait_until(200, "/readyz")
        await banner.wait_for(state="hidden", timeout=30_000)  # EventSource reconnected
        await page.locator("#red-list tr[data-case-id='WALL-GONE']").wait_for(timeout=10_000)
    finally:
        await page.close()
        api.stop()


def _api(stack: ApiStack, logs: Path, port: int | None = None) -> ApiProcess:
    """`redline api` on the stack's settings and dev tokens, on ``port`` if given."""
    extra = {} if port is None else {"REDLINE_API_PORT": str(port)}
    api = ApiProcess(stack.settings, logs, stack.ingest_token, stack.supervisor_token, extra)
    if port is not None:  # the process listens where the variable says
        api.port, api.base_url = port, f"http://127.0.0.1:{port}"
    return api
