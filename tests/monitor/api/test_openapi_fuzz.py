"""schemathesis against the running API's own OpenAPI document: no generated input, valid or
not, gets a 5xx. Every operation is called with a token that may use it (the integrator token
for ingestion, an admin token for the rest), so the generated data reaches the handlers rather
than stopping at 401/403.

The document is built from ``create_app`` when the module is collected (pytest 9 no longer
lets schemathesis load it lazily from a fixture), and the first test checks that it is exactly
the one the running API serves. Bounded: ``MAX_EXAMPLES`` per operation keeps the module near a
minute on two cores. The streaming route (``/v1/stream``) is left out: it answers for as long
as the client listens.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
import schemathesis
from apistack import ApiStack
from hypothesis import HealthCheck, settings
from redis.asyncio import Redis
from schemathesis.checks import not_a_server_error
from schemathesis.generation.case import Case

import monitor.api.app
from monitor.api.app import create_app
from monitor.api.auth import Role, TokenStore
from monitor.settings import Settings

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 100


# the demo configuration (found beside the code: under pytest, ``monitor`` also names the
# tests/monitor folder, so the package's resources cannot be looked up by name)
DATA = Path(monitor.api.app.__file__).parents[1] / "data"
DOCUMENT = create_app(
    Settings(
        catalog=DATA / "catalog.yaml", centres=DATA / "centres.yaml", policy=DATA / "policy.yaml"
    )
).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT).exclude(path="/v1/stream")


@pytest.fixture(scope="module")
async def admin_token(api_stack: ApiStack) -> str:
    """A person token with every right (the audit log needs admin)."""
    redis = Redis.from_url(api_stack.settings.redis_url)
    try:
        store = TokenStore(redis, api_stack.settings.auth_prefix)
        _, secret = await store.create("fuzz admin", "person", Role.ADMIN)
    finally:
        await redis.aclose()
    return secret


async def test_the_fuzzed_document_is_the_served_one(
    api_stack: ApiStack, http: httpx.AsyncClient
) -> None:
    served = await http.get("/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(DOCUMENT))


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_no_generated_input_gets_a_server_error(
    case: Case, api_stack: ApiStack, admin_token: str
) -> None:
    token = api_stack.ingest_token if case.path == "/v1/events" else admin_token
    response = case.call(
        base_url=api_stack.base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    )
    case.validate_response(response, checks=[not_a_server_error])
