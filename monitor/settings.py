"""The one settings object of a running Redline process, read from the environment at start.

Domain code never reads the environment: the worker and the API build a :class:`Settings` with
:meth:`Settings.from_env` and hand out what each part needs. An invalid variable stops the
process at start with a message naming the variable and the rule.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.config import ConfigFiles
from monitor.timeutil import HOUR

PREFIX = "REDLINE_"
MIN_SECRET = 16  # characters of a token given in the environment
# beside this module, not resources.files("monitor"): with the tests' directories on sys.path,
# "monitor" can resolve to a namespace package whose first path is tests/monitor
_DATA = Path(__file__).resolve().parent / "data"


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
    audit_topic: str = "redline-audit"  # the decisions applied (compacted by entry id)
    config_topic: str = "redline-config"  # the running configuration (one partition, compacted)
    app_id: str = "redline"  # the consumer group of the workers
    catalog: Path = Path(str(_DATA / "catalog.yaml"))
    centres: Path | None = Path(str(_DATA / "centres.yaml"))
    policy: Path | None = Path(str(_DATA / "policy.yaml"))
    calendars: tuple[Path, ...] = ()
    data_dir: Path = Path(".run/worker")
    # how long a silent worker keeps its partitions before the group hands them to the others
    session_timeout_s: float = Field(10.0, ge=3, le=300)
    # open cases a worker keeps parsed in memory (about 3 KB each); the others are read from
    # the state store when an event or a timer needs them
    cached_cases: int = Field(50_000, ge=100, le=10_000_000)
    store: Literal["rocksdb", "memory"] = "rocksdb" if _rocksdict_available() else "memory"
    # the share of a worker's time a recompute after a configuration change may take: the rest
    # is left to the events and timers (streams.liveconfig); 1 recomputes fastest, and delays
    # them by as long as the pass runs
    recompute_share: float = Field(0.5, gt=0, le=1)

    # -- the HTTP API (`redline api`) ----------------------------------------------------------
    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65_535)
    # Dev tokens registered at start (`make run`). Secrets: hidden in repr, left out of
    # model_dump (so no helper that passes settings on as variables can leak them).
    ingest_token: SecretStr | None = Field(None, exclude=True, repr=False)
    supervisor_token: SecretStr | None = Field(None, exclude=True, repr=False)
    auth_prefix: str = "redline:auth:"  # API tokens (hashes only); never under the read model's
    ingest_prefix: str = "redline:ingest:"  # idempotency keys of events taken over HTTP
    api_rate_per_s: float = Field(50.0, gt=0, le=100_000)  # requests per second, per token
    api_rate_burst_s: float = Field(2.0, gt=0, le=HOUR)  # a burst: this many seconds' worth
    api_max_body_bytes: int = Field(1_048_576, ge=1_024, le=64 * 1_048_576)  # after gzip too
    api_max_events: int = Field(1_000, ge=1, le=100_000)  # per POST /v1/events
    api_body_timeout_s: float = Field(10.0, gt=0, le=600)  # to receive a whole request body
    # to receive a request's headers, from the connection's opening or its previous answer
    api_header_timeout_s: float = Field(10.0, gt=0, le=600)
    api_kafka_timeout_s: float = Field(5.0, gt=0, le=120)  # for the broker to confirm a batch
    api_retry_after_s: int = Field(5, ge=1, le=HOUR)  # what a 503 tells the caller to wait
    # transactional producers, each committing one shared transaction at a time
    api_kafka_producers: int = Field(3, ge=1, le=16)
    api_streams_per_token: int = Field(20, ge=1, le=10_000)  # open /v1/stream per token
    api_streams_max: int = Field(2_000, ge=1, le=100_000)  # open /v1/stream in all
    # Addresses and networks (comma-separated) whose X-Forwarded-For is believed: the reverse
    # proxies in front of the API. Empty: nobody's, so that no client can claim another
    # address (the public page's limit is per address).
    api_trusted_proxies: str = ""
    api_idempotency_days: int = Field(30, ge=1, le=3_650)  # as long as the events topic keeps
    # Who this API process is to Kafka: its transactional id is redline-api-<instance>. Give
    # each replica a stable name (compose: the service's replica) so that a restarted API
    # fences and aborts what its predecessor left open at once; the default (host and pid)
    # leaves that to the transaction timeout. Left out of model_dump, so that processes started
    # with another's settings (the tests, the benchmarks) are not taken for one another.
    api_instance: str = Field(
        default_factory=lambda: f"{socket.gethostname()}-{os.getpid()}",
        exclude=True,
        min_length=1,
        max_length=100,
        pattern=r"^[A-Za-z0-9._-]+$",
    )

    # -- notices (the notifier's channels that are not per receiver, SPEC §5.1) -----------------
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(25, ge=1, le=65_535)  # STARTTLS whenever the server offers it
    smtp_user: str | None = None
    smtp_password: SecretStr | None = Field(None, exclude=True, repr=False)
    smtp_from: str = "redline@localhost"  # the From of notice mail
    smtp_timeout_s: float = Field(30.0, gt=0, le=600)
    sms_url: str | None = None  # the SMS gateway (alerts/channels/sms.py); None: no SMS
    sms_body: str = '{"to": "{to}", "text": "{text}"}'  # JSON; {to} and {text} filled in
    sms_token: SecretStr | None = Field(None, exclude=True, repr=False)
    sms_max_chars: int = Field(300, ge=20, le=1_000)

    @field_validator("ingest_token", "supervisor_token")
    @classmethod
    def _long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET:
            raise ValueError(f"must be at least {MIN_SECRET} characters: short tokens are guessed")
        return value

    @field_validator("api_trusted_proxies")
    @classmethod
    def _addresses(cls, value: str) -> str:
        proxies = [item.strip() for item in value.split(",") if item.strip()]
        for proxy in proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise ValueError(
                    f"{proxy!r} is not an IP address or network: list the proxies' addresses "
                    "separated by commas, e.g. 172.30.0.2,10.1.0.0/16"
                ) from None
        return ",".join(proxies)

    def trusted_proxies(self) -> list[str]:
        """The addresses and networks of :attr:`api_trusted_proxies`, for uvicorn."""
        return self.api_trusted_proxies.split(",") if self.api_trusted_proxies else []

    @model_validator(mode="after")
    def _own_prefixes(self) -> Settings:
        """The read model's flush() deletes everything under its prefix: tokens and
        idempotency keys must live elsewhere."""
        for name in ("auth_prefix", "ingest_prefix"):
            value = getattr(self, name)
            if not value or value.startswith(self.read_model_prefix):
                raise ValueError(
                    f"{PREFIX}{name.upper()} must not be empty nor start with "
                    f"{PREFIX}READ_MODEL_PREFIX ({self.read_model_prefix!r}): flush() deletes that"
                )
        return self

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
                f"{PREFIX}{'.'.join(map(str, e['loc'])).upper()}: "
                + str(e["msg"]).removeprefix("Value error, ")
                if e["loc"]
                else str(e["msg"]).removeprefix("Value error, ")  # names its variables itself
                for e in exc.errors()
            ]
            raise SettingsError("; ".join(problems)) from None

    def config_files(self) -> ConfigFiles:
        """The operators' files these settings point at."""
        return ConfigFiles(self.catalog, self.centres, self.calendars, self.policy)
