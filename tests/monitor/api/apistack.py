"""What the ``api_stack`` fixture hands a test module: where the API answers, and its tokens."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.settings import Settings


@dataclass(frozen=True)
class ApiStack:
    """Where the API answers, its settings, and a token of each kind (the ``api_stack``
    fixture of tests/monitor/api/conftest.py)."""

    base_url: str
    settings: Settings
    ingest_token: str  # integrator, any source (REDLINE_INGEST_TOKEN)
    supervisor_token: str  # person, supervisor (REDLINE_SUPERVISOR_TOKEN)
    viewer_token: str  # person, viewer (made through the TokenStore)
    log_path: Path | None = None  # the API process's output

    @staticmethod
    def auth(token: str) -> dict[str, str]:
        """The Authorization header of ``token``."""
        return {"Authorization": f"Bearer {token}"}
