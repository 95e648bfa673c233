"""Worker jobs of the posts/media domain: rendering a post, sweeping uploads, retrying object
deletes. Thin: the work is in services/."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from bson import ObjectId
from saq.job import Job

from core.events import Deps
from services.media_objects import delete_objects, post_prefix
from services.process_post_media import process_post_media as _process
from services.sweep_uploads import sweep_uploads as _sweep
from worker.registry import cron, job


def _deps(ctx: dict[str, Any]) -> Deps:
    return Deps(ctx["stores"], ctx["queue"])


@asynccontextmanager
async def _heartbeat(current: Job | None, every: float = 10.0) -> AsyncIterator[None]:
    """Touch the job while it runs: saq takes a job silent for `heartbeat` seconds (30 by
    default) for dead and runs it again, and a carousel of videos can take longer than that."""
    if current is None or not current.heartbeat:
        yield
        return

    async def beat() -> None:
        while True:
            await asyncio.sleep(min(every, current.heartbeat / 3))
            await current.update()

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@job
async def process_post_media(ctx: dict[str, Any], *, post_id: str) -> str:
    """Photos here; a post with a video is handed to the video queue, when there is one."""
    current = ctx.get("job")
    final = current is None or current.attempts >= current.retries
    async with _heartbeat(current):
        return await _process(
            _deps(ctx), ObjectId(post_id), final_attempt=final, video_queue=ctx.get("video_queue")
        )


@job
async def transcode_post_media(ctx: dict[str, Any], *, post_id: str) -> str:
    """A post with a video, on the video queue: its photos, its transcodes, then READY."""
    current = ctx.get("job")
    final = current is None or current.attempts >= current.retries
    async with _heartbeat(current):
        return await _process(_deps(ctx), ObjectId(post_id), final_attempt=final, transcoding=True)


@cron("*/5 * * * *")
async def sweep_uploads(ctx: dict[str, Any], *, now: str | None = None) -> dict[str, int]:
    when = datetime.fromisoformat(now) if now else None
    return await _sweep(ctx["stores"], when, ctx.get("queue"))


@job
async def purge_post_objects(ctx: dict[str, Any], *, post_id: str, keys: list[str]) -> int:
    await delete_objects(ctx["stores"], keys, [post_prefix(ObjectId(post_id))])
    return len(keys)
