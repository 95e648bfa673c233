"""The worker process: opens the stores once, runs registered jobs from the queue."""

from __future__ import annotations

import asyncio
import logging
import signal
from typing import Any

from saq import CronJob, Worker

from core.logging import configure_logging
from core.settings import Settings, get_settings
from datastore.stores import open_stores, prepare_stores
from worker.failures import record_if_failed
from worker.queue import make_queue
from worker.registry import CRONS, load_all

log = logging.getLogger("worker")


def build_worker(settings: Settings) -> Worker:
    queue = make_queue(settings)
    stores = open_stores(settings)

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["stores"] = stores
        ctx["queue"] = queue
        ctx["settings"] = settings
        await prepare_stores(stores)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await stores.close()

    jobs = load_all()
    return Worker(
        queue,
        functions=list(jobs.values()),
        cron_jobs=[CronJob(jobs[name], cron=expr) for name, expr in CRONS.items()],
        concurrency=settings.worker_concurrency,
        startup=startup,
        shutdown=shutdown,
        after_process=record_if_failed,
        timers={"sweep": 5, "abort": 1, "schedule": 1, "stats": 10},
    )


async def run_worker(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    worker = build_worker(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker starting", extra={"queue": worker.queue.name})
    task = asyncio.create_task(worker.start())
    # saq's start() installs its own SIGINT/SIGTERM handlers (replacing ours) and stops the
    # worker itself on them, so its return is the usual way out; `stop` covers a saq that
    # does not. Waiting on `stop` alone hung on SIGTERM until a SIGKILL.
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    await worker.stop()
    stopped.cancel()
    task.cancel()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    asyncio.run(run_worker(settings))
