"""`redline` processes for a benchmark or a test: a worker or the API, its settings as
``REDLINE_*`` variables, its output in a log file."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from monitor.settings import Settings

REDLINE = str(Path(sys.executable).parent / "redline")


class RedlineProcess:
    """One `redline` subprocess whose settings are ``REDLINE_*`` variables, its output in a log
    file; stopped with SIGTERM (or killed with SIGKILL) and waited for."""

    def __init__(
        self,
        args: list[str],
        settings: Settings,
        log_path: Path,
        env: dict[str, str | None] | None = None,
    ) -> None:
        values = settings.model_dump(exclude={"calendars", "centres", "policy", "catalog"})
        variables = {**os.environ, **{f"REDLINE_{k.upper()}": str(v) for k, v in values.items()}}
        for name, value in (env or {}).items():
            if value is None:
                variables.pop(name, None)
            else:
                variables[name] = value
        self.log_path = log_path
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(
            [REDLINE, *args], env=variables, stdout=self._log, stderr=subprocess.STDOUT
        )

    def log(self) -> str:
        """Everything the process printed so far."""
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        """A clean stop (SIGTERM), waited for."""
        self._end(signal.SIGTERM)

    def kill(self) -> None:
        """A crash: SIGKILL, no goodbye to the group, nothing flushed."""
        self._end(signal.SIGKILL)

    def _end(self, sig: signal.Signals) -> None:
        if self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._log.close()


class WorkerProcess(RedlineProcess):
    """One `redline worker` with its own data directory (its local state store)."""

    def __init__(self, settings: Settings, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        loglevel = os.environ.get("REDLINE_TEST_LOGLEVEL", "warn")
        super().__init__(
            ["worker", "--loglevel", loglevel],
            settings.model_copy(update={"data_dir": data_dir}),
            data_dir / "worker.log",
        )


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def dev_secret() -> str:
    """A fresh secret for a dev token (as `redline api` would generate)."""
    return "rl_test_" + secrets.token_urlsafe(24)


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
        port: int | None = None,  # another's, to restart it: its clients' URL stays right
    ) -> None:
        log_dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port() if port is None else port
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


@dataclass(frozen=True)
class ApiRun:
    """A worker and a `redline api` of a run of their own, ready, and the API's dev tokens
    and a viewer token."""

    settings: Settings
    worker: WorkerProcess
    api: ApiProcess
    ingest: str
    viewer: str


@contextmanager
def api_run(settings: Settings, data: Path) -> Iterator[ApiRun]:
    """Start a worker and an API on ``settings`` (topics created), wait for ``/readyz``, and
    stop both and forget the run's Redis keys at the end."""
    from bench.runs import forget_run, viewer_token
    from streams.topics import ensure_topics

    asyncio.run(ensure_topics(settings))
    worker = WorkerProcess(settings, data / "worker")
    ingest = dev_secret()
    api = ApiProcess(settings, data, ingest, dev_secret(), access_log=False)
    try:
        asyncio.run(api.wait_until(200, "/readyz"))
        yield ApiRun(settings, worker, api, ingest, asyncio.run(viewer_token(settings)))
    finally:
        api.stop()
        worker.stop()
        asyncio.run(forget_run(settings))
