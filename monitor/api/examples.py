"""``POST /v1/events`` in the OpenAPI document: its body is read by hand (``monitor.api.envelope``),
so FastAPI cannot see it; its schema and examples are declared here.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import TypeAdapter

from monitor.events import AnyEvent, Event

_EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(Event)
SCHEMA_PREFIX: Final = "Event"


def _example(number: int, kind: str, occurred_at: str, **fields: object) -> dict[str, object]:
    """One event of the examples' case, from the Guangzhou window system."""
    return {
        "event_id": f"gz-win-{number:06d}",
        "type": kind,
        "case_id": "440106-2026-000101",
        "occurred_at": occurred_at,
        "source": "gz-window",
        **fields,
    }


ONE_EVENT: Final = _example(
    101,
    "case.accepted",
    "2026-11-04T10:30:00+08:00",
    center="GZ-TIANHE",
    item_code="FOOD-LICENSE",
    handler="zhou.ming",
    data={"promised": "10wd"},
)
BATCH: Final = {
    "events": [
        ONE_EVENT,
        _example(102, "case.completed", "2026-11-19T16:30:00+08:00", data={"result": "approved"}),
    ]
}
ANSWER: Final = {
    "accepted": 1,
    "duplicate": 1,
    "refused": 1,
    "results": [
        {"index": 0, "event_id": "gz-win-000101", "status": "duplicate"},
        {"index": 1, "event_id": "gz-win-000102", "status": "accepted"},
        {
            "index": 2,
            "event_id": "gz-win-000103",
            "status": "refused",
            "errors": [
                {
                    "field": "occurred_at",
                    "rule": "must be an RFC 3339 timestamp with an offset, "
                    "e.g. 2026-09-28T10:00:00+08:00",
                }
            ],
        },
    ],
}


def openapi_components() -> dict[str, Any]:
    """The event schemas, named ``Event…`` in ``components.schemas``."""
    schema = _EVENT_ADAPTER.json_schema(
        mode="validation", ref_template=f"#/components/schemas/{SCHEMA_PREFIX}{{model}}"
    )
    components = {SCHEMA_PREFIX + name: value for name, value in schema.pop("$defs", {}).items()}
    components[SCHEMA_PREFIX] = {"title": "Event (SPEC §1)", **schema}
    components[SCHEMA_PREFIX + "Batch"] = {
        "title": "EventBatch",
        "type": "object",
        "properties": {
            "events": {
                "type": "array",
                "items": {"$ref": f"#/components/schemas/{SCHEMA_PREFIX}"},
                "minItems": 1,
                "maxItems": 1000,
            }
        },
        "required": ["events"],
        "additionalProperties": False,
    }
    return components


def document(openapi: dict[str, Any]) -> None:
    """Add the request body of ``POST /v1/events`` (schema and examples) to the document."""
    openapi.setdefault("components", {}).setdefault("schemas", {}).update(openapi_components())
    operation = openapi["paths"]["/v1/events"]["post"]
    operation["requestBody"] = {
        "required": True,
        "description": "One event, or a batch of 1 to 1000 under `events`. At most 1 MiB, "
        "also after gzip (`Content-Encoding: gzip`).",
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        {"$ref": f"#/components/schemas/{SCHEMA_PREFIX}"},
                        {"$ref": f"#/components/schemas/{SCHEMA_PREFIX}Batch"},
                    ]
                },
                "examples": {
                    "one": {"summary": "One event", "value": ONE_EVENT},
                    "batch": {"summary": "A batch", "value": BATCH},
                },
            }
        },
    }
    operation["responses"]["202"]["content"]["application/json"]["example"] = ANSWER
