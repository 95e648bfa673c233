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

from saq import Queue

from core.logging import configure_logging
from core.settings import get_settings
from worker.main import build_worker


async def _drop_scheduled_crons(queue: Queue) -> None:
    """Cron jobs an earlier worker scheduled on this queue (saq's Redis layout)."""
    redis = queue.redis  # type: ignore[attr-defined]
    name = queue.name
    keys = [k async for k in redis.scan_iter(match=f"saq:job:{name}:cron:*")]
    if keys:
        await redis.zrem(f"saq:{name}:incomplete", *keys)
        await redis.zrem(f"saq:{name}:schedule", *keys)
        for k in keys:
            await redis.lrem(f"saq:{name}:queued", 0, k)
        await redis.delete(*keys)


async def run() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    worker = build_worker(settings)
    worker.cron_jobs = []
    with contextlib.suppress(Exception):
        await _drop_scheduled_crons(worker.queue)
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
