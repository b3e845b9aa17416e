"""Everything the API reads from the read model, and the supervisors' decisions on alerts: one
router that ``monitor/api/app.py`` includes."""

from __future__ import annotations

from fastapi import APIRouter

from monitor.api import alerts, audit, cases, public, sources, stats, stream, wall

router = APIRouter()
for _resource in (cases, alerts, audit, stats, sources, public, stream, wall):
    router.include_router(_resource.router)
