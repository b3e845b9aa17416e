"""The running configuration, as the API runs it and as every process reports it.

``GET /v1/config`` (any person's token) says which configuration version this API runs, its
digest, who applied it and when, the files, and per calendar which years are official and which
are still counted on the provisional rule; then what each worker and API reported (its version,
and a worker's progress in the recompute a calendar change started: cases recomputed, left,
time).

The API takes a new version as it is applied (:func:`follow`): ingestion's checks (the centres'
sources), the names on the wall and the metrics' label values switch at once.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from pydantic import BaseModel, Field
from redis.exceptions import RedisError

from monitor.api.auth import Viewer
from monitor.api.params import example_config
from monitor.config import Config
from monitor.configlink import ConfigFollower
from monitor.configrecord import ConfigRecord

log = logging.getLogger("redline.api")

router = APIRouter(prefix="/v1/config", tags=["config"])


def this_year() -> int:
    return dt.datetime.now(dt.UTC).year


class ConfigAnswer(BaseModel):
    """The version this API runs, and what every running process reported."""

    model_config = example_config(
        {
            "version": 3,
            "digest": "sha256:5b0c…",
            "applied_by": "ops@redline-1",
            "applied_at": 1796000000,
            "how": "apply",
            "files": {
                "catalog": "/etc/redline/catalog.yaml",
                "centres": "/etc/redline/centres.yaml",
                "policy": None,
                "calendars": ["/etc/redline/calendars/cn-2027.yaml"],
            },
            "calendars": {
                "cn": {
                    "official": {"2026": "国办发明电〔2025〕7号", "2027": "国办发明电〔2026〕9号"},
                    "provisional": [2028],
                }
            },
            "processes": [
                {
                    "process": "worker",
                    "id": "redline-1:4242",
                    "version": 3,
                    "recompute": {
                        "version": 3,
                        "cases": 812,
                        "done": 812,
                        "left": 0,
                        "seconds": 0.4,
                        "finished": True,
                    },
                }
            ],
        }
    )

    version: int = Field(description="offset + 1 of the record on redline-config; 0: files on disk")
    digest: str
    applied_by: str
    applied_at: int = Field(description="epoch seconds")
    how: str = Field(description="seed (the files on disk, first start), apply, or files")
    files: dict[str, Any]
    calendars: dict[str, dict[str, Any]]
    processes: list[dict[str, Any]] = Field(
        description="what each worker and API reported in the last seconds: its version, and a "
        "worker's recompute"
    )


@router.get("", summary="The running configuration", response_model=ConfigAnswer)
async def running_config(request: Request, principal: Viewer) -> dict[str, Any]:
    """The version this API runs and the years in force; every worker's version and the
    progress of its recompute."""
    state = request.app.state
    record: ConfigRecord = state.config_record
    answer = record.summary(state.config, this_year())
    answer["processes"] = await state.read_model.config_reports()
    return answer


REPORT_EVERY_S = 2.0


async def keep_reporting(app: FastAPI) -> None:
    """This API's configuration version in the read model, every 2 s (``redline config
    show`` lists it with the workers)."""
    state = app.state
    while True:
        record: ConfigRecord = state.config_record
        entry = {
            "process": "api",
            "id": state.settings.api_instance,
            "version": record.version,
            "digest": record.digest,
        }
        try:
            await state.read_model.report_config(f"api:{state.settings.api_instance}", entry)
        except (RedisError, OSError) as exc:
            log.info("configuration report not written (%s)", exc)
        await asyncio.sleep(REPORT_EVERY_S)


def follow(app: FastAPI) -> ConfigFollower:
    """The follower that switches ``app`` to each new version as it is applied."""
    state = app.state

    async def switch(record: ConfigRecord, config: Config) -> None:
        state.config = config
        state.config_record = record
        state.directory = None  # built again from the new names on first use
        state.metrics.read_model.use(config)
        log.info(
            "configuration version %d running (applied by %s)", record.version, record.applied_by
        )

    return ConfigFollower(state.settings, state.config_record, switch)
