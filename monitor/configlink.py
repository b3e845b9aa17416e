"""The running configuration on Kafka: the compacted ``redline-config`` topic, read and followed.

The topic has one partition and one key, so compaction keeps the newest record and the order of
records is the order of versions: a record's version is its offset + 1. Every process that
counts deadlines or shows configuration (the workers, the API, the notifier) starts from the
newest record (:func:`running`) and follows the topic (:class:`ConfigFollower`), switching when
a record with other files arrives. When the topic is empty, the first process to start
publishes the files on disk as the first version (``how: seed``).
"""

from __future__ import annotations

import getpass
import logging
import socket
import time
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaError

from monitor.config import Config, ConfigFiles
from monitor.configfile import FileError
from monitor.configrecord import ConfigRecord, ConfigSet, RecordDecodeError
from monitor.retry import Backoff, attempts
from monitor.settings import Settings

log = logging.getLogger("redline.config")

KEY = b"config"
# a record holds every file (a province's catalog can pass 1 MiB): the topic, the producer and
# the consumer allow this much, and records are compressed
MAX_RECORD_BYTES = 16 * 1024 * 1024
FOLLOW_BACKOFF = Backoff(base=0.5, cap=5.0)
POLL_MS = 500

OnChange = Callable[[ConfigRecord, Config], Awaitable[None]]


def operator() -> str:
    """Who applies: the login and the host, e.g. ``ops@redline-1``."""
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


async def read_records(settings: Settings, after: int = 0) -> list[ConfigRecord]:
    """The records on the topic with a version above ``after``, oldest first; those that do
    not decode are logged and left out."""
    consumer = _consumer(settings)
    try:
        await consumer.start()  # inside: a broker away leaves no consumer unclosed
        partition = TopicPartition(settings.config_topic, 0)
        consumer.assign([partition])
        end = (await consumer.end_offsets([partition]))[partition]
        if end <= after:
            return []
        consumer.seek(partition, after)
        records: list[ConfigRecord] = []
        while (await consumer.position(partition)) < end:
            batch = await consumer.getmany(partition, timeout_ms=POLL_MS)
            for message in batch.get(partition, []):
                record = _decoded(message.value, message.offset)
                if record is not None:
                    records.append(record)
        return records
    finally:
        await consumer.stop()


async def newest(settings: Settings) -> ConfigRecord | None:
    """The newest record that decodes, or None when the topic has none."""
    records = await read_records(settings)
    return records[-1] if records else None


async def publish(settings: Settings, record: ConfigRecord) -> ConfigRecord:
    """Put ``record`` on the topic; returns it numbered with its version."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap,
        acks="all",
        enable_idempotence=True,
        compression_type="gzip",
        max_request_size=MAX_RECORD_BYTES,
    )
    await producer.start()
    try:
        sent = await producer.send_and_wait(
            settings.config_topic, record.encode(), key=KEY, partition=0
        )
    finally:
        await producer.stop()
    return record.numbered(sent.offset + 1)


async def running(settings: Settings, files: ConfigFiles | None = None) -> ConfigRecord:
    """The configuration to run: the newest record on the topic or, when it has none, the
    files on disk (``files``, else the settings' files), published now as the first version.
    The files on disk are validated first: a bad one stops the start, as does a newest
    version that does not load here (:class:`~monitor.configfile.FileError`)."""
    disk = ConfigSet.read(files or settings.config_files())
    disk.load()
    found = await newest(settings)
    if found is not None:
        found.files.load()  # raises when the newest version does not load here
        if found.digest != disk.digest():
            log.info(
                "running configuration version %d (applied by %s); the files on disk differ "
                "and are not used: apply them with `redline config apply`",
                found.version,
                found.applied_by,
            )
        return found
    seeded = await publish(settings, ConfigRecord(disk, operator(), int(time.time()), "seed"))
    log.info("configuration version %d: the files on disk, published", seeded.version)
    # another process may have seeded at the same moment: the newest record is the one to run
    return await newest(settings) or seeded


class ConfigFollower:
    """Follows the topic from ``current``'s version: each newer record that decodes and loads
    is handed to ``on_change`` (with its validated configuration), in order; a record that
    does not load here (written by a newer Redline) is logged and skipped, and the process
    keeps the configuration it runs. Kafka being away is waited for."""

    def __init__(self, settings: Settings, current: ConfigRecord, on_change: OnChange) -> None:
        self.settings = settings
        self.current = current
        self.on_change = on_change

    async def run(self) -> None:
        async for attempt in attempts(FOLLOW_BACKOFF):
            try:
                await self._follow()
            except (KafkaError, OSError) as exc:
                if attempt.number == 0:
                    log.warning("configuration topic not readable (%s): retrying", exc)

    async def _follow(self) -> None:
        consumer = _consumer(self.settings)
        await consumer.start()
        try:
            partition = TopicPartition(self.settings.config_topic, 0)
            consumer.assign([partition])
            consumer.seek(partition, self.current.version)  # the record after the one running
            while True:
                batch = await consumer.getmany(partition, timeout_ms=POLL_MS)
                for message in batch.get(partition, []):
                    record = _decoded(message.value, message.offset)
                    if record is not None and record.version > self.current.version:
                        await self._take(record)
        finally:
            await consumer.stop()

    async def _take(self, record: ConfigRecord) -> None:
        try:
            config = record.files.load()
        except FileError as exc:
            log.error(
                "configuration version %d does not load here, still running version %d: %s",
                record.version,
                self.current.version,
                exc,
            )
            return
        await self.on_change(record, config)
        self.current = record


def _decoded(value: bytes | None, offset: int) -> ConfigRecord | None:
    if value is None:
        return None
    try:
        return ConfigRecord.decode(value, offset + 1)
    except (RecordDecodeError, ValueError, TypeError) as exc:
        log.error("configuration record at offset %d ignored: %s", offset, exc)
        return None


def _consumer(settings: Settings) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        enable_auto_commit=False,
        isolation_level="read_committed",
        max_partition_fetch_bytes=MAX_RECORD_BYTES,
        fetch_max_bytes=MAX_RECORD_BYTES,
    )
