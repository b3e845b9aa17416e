"""A faust worker that takes the events topic in batches as `redline worker` does, and does
nothing with them but count them in Redis: the ceiling faust-streaming itself sets on this
machine. Started by ``bench/pipeline_bench.py`` (``python -m bench.noop_worker``) with NOOP_*
variables: the broker, Redis, the counter's key, the group, the topic, the data directory.
"""

from __future__ import annotations

import os
from typing import Any

import faust
from redis.asyncio import Redis

from streams.app import BATCH, BATCH_WAIT_S

app = faust.App(
    os.environ["NOOP_APP_ID"],
    broker=f"kafka://{os.environ['NOOP_BOOTSTRAP']}",
    store="memory://",
    datadir=os.environ["NOOP_DATA"],
    consumer_auto_offset_reset="earliest",
    web_enabled=False,
)
topic = app.topic(os.environ["NOOP_TOPIC"], key_serializer="raw", value_serializer="raw")


redis = Redis.from_url(os.environ["NOOP_REDIS"])


@app.agent(topic)
async def drain(stream: Any) -> None:
    """Each batch counted in Redis, as a worker's feed health counts its events."""
    async for events in stream.take_events(BATCH, within=BATCH_WAIT_S):
        await redis.incrby(os.environ["NOOP_COUNTER"], len(events))


if __name__ == "__main__":  # started as `redline worker` starts its app, spinner off
    from faust.worker import Worker

    worker = Worker(app, loglevel="warn", quiet=True)
    worker.spinner = None
    worker.execute_from_commandline()
