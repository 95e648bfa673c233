"""`photogram worker` without its cron jobs: the worker process of the trade-off rows.

Why: on FerretDB the minute crons (explore refresh, search sync, upload sweep) scan whole
collections of the bench dataset, time out every minute and starve the fan-out job's primary-key
reads, so delivery would measure those scans. Fan-out runs exactly as in `photogram worker`
(same `build_worker`, same jobs, same concurrency).

    python -m bench.worker_nocron
"""

from __future__ import annotations

import asyncio
import contextlib
import signal

from saq import CronJob
from saq.queue.redis import RedisQueue

from core.logging import configure_logging
from core.settings import get_settings
from worker.main import build_worker


async def _drop_scheduled_crons(queue: RedisQueue, crons: list[CronJob]) -> None:
    """Cron jobs an earlier worker scheduled on this queue (saq's Redis layout: a unique cron
    job's key is `cron:<function>`). Named, not scanned for: the bench's Redis holds millions
    of keys, and a SCAN over them kept this process busy while the first row was measured."""
    keys = [queue.job_id(f"cron:{c.function.__qualname__}") for c in crons]
    redis, name = queue.redis, queue.name
    async with redis.pipeline(transaction=False) as pipe:
        for k in keys:
            pipe.zrem(f"saq:{name}:incomplete", k)
            pipe.zrem(f"saq:{name}:schedule", k)
            pipe.lrem(f"saq:{name}:queued", 0, k)
            pipe.delete(k)
        await pipe.execute()


async def run() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    worker = build_worker(settings)
    crons, worker.cron_jobs = worker.cron_jobs, []
    with contextlib.suppress(Exception):
        await _drop_scheduled_crons(worker.queue, crons)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    task = asyncio.create_task(worker.start())
    await stop.wait()
    await worker.stop()
    task.cancel()


if __name__ == "__main__":
    asyncio.run(run())
