"""Running `redline api` for tests and benchmarks: its own settings, port, tokens and log."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from monitor.settings import Settings
from tests.stack import RedlineProcess


@dataclass(frozen=True)
class ApiStack:
    """Where the API answers, its settings, and a token of each kind (the ``api_stack``
    fixture of tests/api/conftest.py)."""

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


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dev_secret() -> str:
    """A fresh secret for a dev token (as `redline api` would generate)."""
    return "rl_test_" + secrets.token_urlsafe(24)


def api_settings(settings: Settings, **changes: object) -> Settings:
    """The pipeline's isolated settings plus the API's own prefixes (outside the read model's,
    which flush() deletes) and limits loose enough for a test module's traffic."""
    run = settings.app_id
    values: dict[str, object] = {
        "auth_prefix": f"test-auth:{run}:",
        "ingest_prefix": f"test-ingest:{run}:",
        "api_rate_per_s": 1_000.0,
        "api_body_timeout_s": 3.0,
    }
    values.update(changes)
    return settings.model_copy(update=values)


class ApiProcess(RedlineProcess):
    """One `redline api` on a free loopback port, with the dev tokens it is given (None: unset,
    so that `redline api` generates one and prints it)."""

    def __init__(
        self,
        settings: Settings,
        log_dir: Path,
        ingest_token: str | None,
        supervisor_token: str | None,
        extra_env: dict[str, str] | None = None,
        access_log: bool = True,
    ) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        env: dict[str, str | None] = {
            "REDLINE_INGEST_TOKEN": ingest_token,
            "REDLINE_SUPERVISOR_TOKEN": supervisor_token,
            **(extra_env or {}),
        }
        args = ["api", "--log-level", "info"] + ([] if access_log else ["--no-access-log"])
        super().__init__(
            args,
            settings.model_copy(update={"api_host": "127.0.0.1", "api_port": self.port}),
            log_dir / f"api-{self.port}.log",
            env,
        )

    async def wait_until(
        self, status: int = 200, path: str = "/readyz", timeout: float = 60
    ) -> None:
        """Until ``path`` answers ``status`` (polled; fails early if the process dies)."""
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.base_url, timeout=5) as client:
            while time.monotonic() < deadline:
                if self.process.poll() is not None:
                    raise AssertionError(f"redline api exited:\n{self.log()[-3000:]}")
                try:
                    if (await client.get(path)).status_code == status:
                        return
                except httpx.TransportError:
                    pass  # not listening yet
                await asyncio.sleep(0.1)
        raise AssertionError(f"{path} did not answer {status} in time:\n{self.log()[-3000:]}")
