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
from worker import jobs as handles
from worker.failures import record_if_failed
from worker.queue import make_queue, make_video_queue
from worker.registry import CRONS, load_all

log = logging.getLogger("worker")


def build_workers(settings: Settings) -> list[Worker]:
    """The default queue's worker (every job but transcodes, crons) and the video queue's
    (transcodes only, `video_worker_concurrency` at a time), sharing one set of stores."""
    queue = make_queue(settings)
    video_queue = make_video_queue(settings)
    stores = open_stores(settings)

    def fill(ctx: dict[str, Any]) -> None:
        ctx["stores"] = stores
        ctx["queue"] = queue
        ctx["video_queue"] = video_queue
        ctx["settings"] = settings

    async def startup(ctx: dict[str, Any]) -> None:
        fill(ctx)
        await prepare_stores(stores)

    async def video_startup(ctx: dict[str, Any]) -> None:
        fill(ctx)

    async def shutdown(ctx: dict[str, Any]) -> None:
        await stores.close()

    jobs = load_all()
    transcode = handles.TRANSCODE_POST_MEDIA.name
    timers = {"sweep": 5, "abort": 1, "schedule": 1, "stats": 10}
    default = Worker(
        queue,
        functions=[fn for name, fn in jobs.items() if name != transcode],
        cron_jobs=[CronJob(jobs[name], cron=expr) for name, expr in CRONS.items()],
        concurrency=settings.worker_concurrency,
        startup=startup,
        shutdown=shutdown,
        after_process=record_if_failed,
        timers=timers,
    )
    video = Worker(
        video_queue,
        functions=[jobs[transcode]],
        concurrency=settings.video_worker_concurrency,
        startup=video_startup,
        after_process=record_if_failed,
        timers=timers,
    )
    return [default, video]


def build_worker(settings: Settings) -> Worker:
    """The default queue's worker alone (bench/worker_nocron.py)."""
    return build_workers(settings)[0]


async def run_worker(settings: Settings | None = None) -> None:
    settings = settings or get_settings()
    workers = build_workers(settings)
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("worker starting", extra={"queues": [w.queue.name for w in workers]})
    tasks = [asyncio.create_task(w.start()) for w in workers]
    # saq's start() installs its own SIGINT/SIGTERM handlers (replacing ours) and stops that
    # worker itself on them, so a start() returning is the usual way out; `stop` covers a saq
    # that does not. Waiting on `stop` alone hung on SIGTERM until a SIGKILL.
    stopped = asyncio.create_task(stop.wait())
    await asyncio.wait({*tasks, stopped}, return_when=asyncio.FIRST_COMPLETED)
    # The video worker first: the default worker's shutdown closes the shared stores.
    for w in reversed(workers):
        await w.stop()
    stopped.cancel()
    for task in tasks:
        task.cancel()


def main() -> None:
    settings = get_settings()
    configure_logging(settings.log_level)
    asyncio.run(run_worker(settings))
