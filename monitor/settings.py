"""The one settings object of a running Redline process, read from the environment at start.

Domain code never reads the environment: the worker and the API build a :class:`Settings` with
:meth:`Settings.from_env` and hand out what each part needs. An invalid variable stops the
process at start with a message naming the variable and the rule.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from monitor.config import ConfigFiles

PREFIX = "REDLINE_"
_DATA = resources.files("monitor") / "data"


def _rocksdict_available() -> bool:
    try:
        import rocksdict  # noqa: F401
    except ImportError:  # pragma: no cover - depends on the platform's wheel
        return False
    return True


class SettingsError(ValueError):
    """An environment variable that breaks its rule."""


class Settings(BaseModel):
    """Where the services are, how the topics are laid out, and where the configuration lives."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kafka_bootstrap: str = "127.0.0.1:9092"
    redis_url: str = "redis://127.0.0.1:6379/0"
    read_model_prefix: str = "redline:rm:"  # every read-model key starts with it
    partitions: int = Field(8, ge=1, le=1024)  # of approval-events and every co-partitioned topic
    replication: int = Field(1, ge=1, le=5)
    events_topic: str = "approval-events"
    dlq_topic: str = "approval-events-dlq"
    ticks_topic: str = "redline-ticks"  # deadline timers -> the case's own partition
    alerts_topic: str = "redline-alerts"  # every raise / resolve / correction (compacted by id)
    cases_topic: str = "redline-cases"  # each case's latest view (compacted by case id)
    commands_topic: str = "redline-commands"  # supervisors' ack / cancel -> the case's partition
    app_id: str = "redline"  # the consumer group of the workers
    catalog: Path = Path(str(_DATA / "catalog.yaml"))
    centres: Path | None = Path(str(_DATA / "centres.yaml"))
    policy: Path | None = Path(str(_DATA / "policy.yaml"))
    calendars: tuple[Path, ...] = ()
    data_dir: Path = Path(".run/worker")
    # how long a silent worker keeps its partitions before the group hands them to the others
    session_timeout_s: float = Field(10.0, ge=3, le=300)
    store: Literal["rocksdb", "memory"] = "rocksdb" if _rocksdict_available() else "memory"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``REDLINE_*`` variables (``REDLINE_KAFKA_BOOTSTRAP`` and so on);
        ``REDLINE_CALENDARS`` is a list of paths separated by ``:``."""
        env = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = env.get(PREFIX + name.upper())
            if raw is None:
                continue
            if name == "calendars":
                values[name] = tuple(Path(p) for p in raw.split(os.pathsep) if p)
            elif name in ("centres", "policy") and raw == "":
                values[name] = None
            else:
                values[name] = raw
        try:
            return cls(**values)
        except ValidationError as exc:
            problems = [
                f"{PREFIX}{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
            ]
            raise SettingsError("; ".join(problems)) from None

    def config_files(self) -> ConfigFiles:
        """The operators' files these settings point at."""
        return ConfigFiles(self.catalog, self.centres, self.calendars, self.policy)
