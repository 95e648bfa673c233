"""Enqueueing jobs. Defaults give at-least-once delivery: retries with exponential backoff, and a
heartbeat so a job whose worker died is swept back onto the queue."""

from __future__ import annotations

from typing import Any

from redis.asyncio import Redis
from saq import Queue
from saq.job import Job

from core.settings import Settings

DEFAULT_JOB_OPTIONS: dict[str, Any] = {
    "retries": 5,
    "retry_delay": 0.5,
    "retry_backoff": True,
    "timeout": 120,
    "heartbeat": 30,
    "ttl": 7 * 24 * 3600,
}


def make_queue(settings: Settings) -> Queue:
    from saq.queue.redis import RedisQueue

    redis = Redis.from_url(settings.redis_url)
    return RedisQueue(redis, name=f"{settings.redis_prefix}{settings.queue_name}")


async def enqueue(
    queue: Queue, function: str, *, key: str | None = None, **kwargs: Any
) -> Job | None:
    """Enqueue `function(**kwargs)`. A `key` makes the job idempotent: while a job with that key is
    queued or running, enqueueing it again does nothing (returns None)."""
    options = {k: kwargs.pop(k) for k in list(kwargs) if k in DEFAULT_JOB_OPTIONS}
    job = Job(function=function, kwargs=kwargs, **{**DEFAULT_JOB_OPTIONS, **options})
    if key:
        job.key = key
    return await queue.enqueue(job)
