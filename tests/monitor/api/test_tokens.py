"""`redline token create|list|revoke` against the real Redis, and the tokens it makes against
the real API: the secret is shown once, only its hash is kept, a revoked token stops at once."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess

import httpx
import pytest
from apistack import ApiStack
from events import OPENING, event, now
from redis.asyncio import Redis

from bench.processes import REDLINE, ApiProcess

pytestmark = pytest.mark.integration


def _token(
    stack: ApiStack, *args: str, prefix: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "REDLINE_REDIS_URL": stack.settings.redis_url,
        "REDLINE_AUTH_PREFIX": prefix or stack.settings.auth_prefix,
    }
    return subprocess.run(
        [REDLINE, "token", *args], env=env, capture_output=True, text=True, timeout=60, check=False
    )


async def _everything_stored(stack: ApiStack) -> str:
    """Every key and value under the token prefix, as one text."""
    redis = Redis.from_url(stack.settings.redis_url, decode_responses=True)
    parts: list[str] = []
    try:
        async for key in redis.scan_iter(match=stack.settings.auth_prefix + "*"):
            parts.append(key)
            kind = await redis.type(key)
            if kind == "string":
                parts.append(str(await redis.get(key)))
            elif kind == "hash":
                parts += [f"{k!s}={v!s}" for k, v in (await redis.hgetall(key)).items()]
    finally:
        await redis.aclose()
    return "\n".join(parts)


async def test_create_shows_the_secret_once_and_only_its_hash_is_kept(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    made = _token(
        api_stack,
        "create",
        "--name",
        "海珠区 window",
        "--kind",
        "integrator",
        "--source",
        "win-cli",
        "--center",
        "GZ-TIANHE",
        "--rate",
        "20",
    )
    assert made.returncode == 0, made.stderr
    secret = made.stdout.strip()
    assert made.stdout == secret + "\n" and secret.startswith("rl_") and len(secret) >= 40
    assert "source win-cli, centres GZ-TIANHE, 20 req/s" in made.stderr
    assert "shown this once" in made.stderr
    token_id = made.stderr.split()[1]
    assert token_id.startswith("tok_")

    body = event("TOK-1", 1, "submitted", now(), source="win-cli", **OPENING)
    response = await http.post("/v1/events", json=body, headers=api_stack.auth(secret))
    assert response.status_code == 202, response.text

    stored = await _everything_stored(api_stack)
    assert token_id in stored and hashlib.sha256(secret.encode()).hexdigest() in stored
    assert secret not in stored

    listing = _token(api_stack, "list")
    assert listing.returncode == 0, listing.stderr
    [line] = [row for row in listing.stdout.splitlines() if row.startswith(token_id)]
    assert "'海珠区 window'" in line and "integrator" in line and line.endswith("live")
    for shown in (listing.stdout, listing.stderr):
        assert secret not in shown
        assert hashlib.sha256(secret.encode()).hexdigest() not in shown


async def test_revoke_stops_a_token_at_once(api_stack: ApiStack, http: httpx.AsyncClient) -> None:
    made = _token(api_stack, "create", "--name", "desk 3", "--kind", "person", "--role", "viewer")
    assert made.returncode == 0, made.stderr
    secret, token_id = made.stdout.strip(), made.stderr.split()[1]
    assert "role viewer, all centres" in made.stderr
    assert (await http.get("/v1/cases", headers=api_stack.auth(secret))).status_code == 200

    revoked = _token(api_stack, "revoke", token_id)
    assert revoked.returncode == 0 and revoked.stdout.strip() == f"revoked {token_id}"
    response = await http.get("/v1/cases", headers=api_stack.auth(secret))
    assert response.status_code == 401
    again = _token(api_stack, "revoke", token_id)
    assert again.returncode == 1 and "no live token" in again.stderr
    [line] = [r for r in _token(api_stack, "list").stdout.splitlines() if r.startswith(token_id)]
    assert " revoked 20" in line  # with the instant it was revoked
    assert _token(api_stack, "revoke", "tok_nosuchtoken").returncode == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--name", "x", "--kind", "robot", "--source", "s"], "kind: must be one of"),
        (["--name", "x", "--kind", "person"], "role: a person token needs one"),
        (["--name", "x", "--kind", "person", "--role", "boss"], "--role: must be viewer"),
        (["--name", "x", "--kind", "integrator"], "--source: an integrator token is bound"),
        (["--name", "x", "--kind", "integrator", "--source", "s", "--role", "admin"], "role:"),
        (["--name", "x", "--kind", "integrator", "--source", "s", "--rate", "0"], "rate:"),
        (["--name", "x", "--kind", "integrator", "--source", "a\tb"], "source:"),
        (["--name", " ", "--kind", "person", "--role", "viewer"], "name:"),
    ],
)
def test_create_refuses_what_cannot_be_made(
    api_stack: ApiStack, args: list[str], message: str
) -> None:
    made = _token(api_stack, "create", *args)
    assert made.returncode == 2, (made.stdout, made.stderr)
    assert message in made.stderr and made.stdout == ""


def test_list_on_a_store_without_tokens_says_so(api_stack: ApiStack) -> None:
    listing = _token(api_stack, "list", prefix=f"test-auth-empty:{api_stack.settings.app_id}:")
    assert listing.returncode == 0 and "no token yet" in listing.stdout


def test_an_unreachable_redis_is_named(api_stack: ApiStack) -> None:
    env = {**os.environ, "REDLINE_REDIS_URL": "redis://:hunter2@127.0.0.1:1/0"}
    done = subprocess.run(
        [REDLINE, "token", "list"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1 and "redis://127.0.0.1:1/0" in done.stderr
    assert "hunter2" not in done.stderr  # the URL's password is left out


def test_the_dev_tokens_are_listed_by_name(api_stack: ApiStack) -> None:
    listing = _token(api_stack, "list").stdout
    assert "dev-ingest  integrator" in listing and "source (any), all centres" in listing
    assert "dev-supervisor  person" in listing and "role supervisor" in listing
    assert api_stack.ingest_token not in listing and api_stack.supervisor_token not in listing
    assert json.dumps(api_stack.ingest_token) not in listing


async def test_unset_dev_tokens_are_generated_and_printed_once(
    api_stack: ApiStack, tmp_path_factory: pytest.TempPathFactory
) -> None:
    prefix = f"test-auth-gen:{api_stack.settings.app_id}:"  # not the stack's dev tokens
    settings = api_stack.settings.model_copy(update={"auth_prefix": prefix})
    api = ApiProcess(settings, tmp_path_factory.mktemp("api-gen"), None, None)
    try:
        await api.wait_until(200, "/readyz")
        log = api.log()
        printed = re.findall(r"generated (a dev [a-z ()]+):\n  (rl_\S+)", log)
        assert [what for what, _ in printed] == [
            "a dev integrator token (any source)",
            "a dev supervisor token",
        ]
        ingest, supervisor = (secret for _, secret in printed)
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
            body = event("TOK-GEN", 1, "submitted", now(), source="any-source", **OPENING)
            sent = await client.post("/v1/events", json=body, headers=api_stack.auth(ingest))
            assert sent.status_code == 202, sent.text
            read = await client.get("/v1/cases", headers=api_stack.auth(supervisor))
            assert read.status_code == 200, read.text
        assert log.count(ingest) == 1 and log.count(supervisor) == 1  # once, at start
    finally:
        api.stop()
        redis = Redis.from_url(api_stack.settings.redis_url)
        async for key in redis.scan_iter(match=prefix + "*"):
            await redis.unlink(key)
        await redis.aclose()
    assert api.log().count(ingest) == 1  # and never again, to the end
