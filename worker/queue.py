"""Enqueueing jobs. Defaults give at-least-once delivery: retries with exponential backoff, and a
heartbeat so a job whose worker died is swept back onto the queue."""

from __future__ import annotations

import logging
from typing import Any

from redis.asyncio import Redis
from saq import Queue
from saq.job import Job, Status
from saq.queue.redis import RedisQueue
from saq.utils import now

from core.settings import Settings
from worker.jobs import JobHandle

log = logging.getLogger("worker.queue")

DEFAULT_JOB_OPTIONS: dict[str, Any] = {
    "retries": 5,
    "retry_delay": 0.5,
    "retry_backoff": True,
    "timeout": 120,
    "heartbeat": 30,
    "ttl": 7 * 24 * 3600,
}

# saq's own sweep script: take the sweep lock, then list the active jobs with their payloads.
_ACTIVE_JOBS_UNDER_LOCK = """
local id_jobs = {}
if redis.call('EXISTS', KEYS[1]) == 0 then
    redis.call('SETEX', KEYS[1], ARGV[1], 1)
    for i, v in ipairs(redis.call('LRANGE', KEYS[2], 0, -1)) do
        id_jobs[i] = {v, redis.call('GET', v)}
    end
end
return id_jobs
"""


class SweepingRedisQueue(RedisQueue):
    """saq's Redis queue with one race closed (saq issue #277, open upstream).

    A worker moves a job id onto the active list (BLMOVE) and only then marks the job ACTIVE. A
    sweep landing between the two found a QUEUED job on the active list, aborted it and queued it
    again, so a job that was just starting ran twice (and a caller waiting on it saw ABORTED).
    Here such an unclaimed job is swept only when a later sweep, at least `claim_grace` seconds
    after the first sighting, still finds it unclaimed: then its worker really died between the
    two steps. Everything else is swept exactly as saq does."""

    def __init__(self, redis: Redis, name: str, claim_grace: float = 30.0) -> None:
        super().__init__(redis, name=name)
        self.claim_grace = claim_grace
        self._unclaimed = self.namespace("unclaimed")
        self._active_jobs_script = redis.register_script(_ACTIVE_JOBS_UNDER_LOCK)

    @property
    def sweep_lock_key(self) -> str:
        return self._sweep

    async def sweep(self, lock: int = 60, abort: float = 5.0) -> list[str]:
        id_jobs = await self._active_jobs_script(
            keys=[self._sweep, self._active], args=[lock], client=self.redis
        )
        if not id_jobs:
            return []
        due = await self._hold_back_unclaimed(id_jobs)
        swept: list[bytes] = []
        for job_id, job in due:
            swept.append(job_id)
            if job is None:
                async with self.redis.pipeline(transaction=True) as pipe:
                    await (
                        pipe.lrem(self._active, 0, job_id).zrem(self._incomplete, job_id).execute()
                    )
                log.info("sweeping missing job %s", job_id)
                continue
            log.info("sweeping job %s", job.info(log.isEnabledFor(logging.DEBUG)))
            await self.abort(job, error=self.swept_error_message)
            try:
                await job.refresh(abort)
            except TimeoutError:
                log.info("could not abort job %s", job_id)
            if job.retryable:
                await self.retry(job, error=self.swept_error_message)
            else:
                await self.finish(job, Status.ABORTED, error=self.swept_error_message)
        return [job_id.decode() for job_id in swept]

    async def _hold_back_unclaimed(
        self, id_jobs: list[list[bytes]]
    ) -> list[tuple[bytes, Job | None]]:
        """The active jobs to sweep now: missing, finished-but-listed, stuck, or unclaimed past
        the grace. Remembers when each unclaimed job was first seen, with its attempt and
        enqueue time, so a later run under the same key starts afresh."""
        seen = await self.redis.hgetall(self._unclaimed)
        current = now()
        still_unclaimed: dict[bytes, bytes] = {}
        due: list[tuple[bytes, Job | None]] = []
        for job_id, payload in id_jobs:
            job = self.deserialize(payload)
            if job is not None and job.status == Status.QUEUED:
                run = f"{job.attempts}:{job.queued}"
                first, _, seen_run = seen.get(job_id, b"").decode().partition("/")
                fresh = not first or seen_run != run
                if fresh or current - int(first) < self.claim_grace * 1000:
                    since = current if fresh else int(first)
                    still_unclaimed[job_id] = f"{since}/{run}".encode()
                    continue
            elif job is not None and job.status == Status.ACTIVE and not job.stuck:
                continue
            due.append((job_id, job))
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.delete(self._unclaimed)
            if still_unclaimed:
                pipe.hset(self._unclaimed, mapping=still_unclaimed)
            await pipe.execute()
        return due


def make_queue(settings: Settings, claim_grace: float = 30.0) -> SweepingRedisQueue:
    redis = Redis.from_url(settings.redis_url)
    return SweepingRedisQueue(
        redis, name=f"{settings.redis_prefix}{settings.queue_name}", claim_grace=claim_grace
    )


def make_video_queue(settings: Settings, claim_grace: float = 30.0) -> SweepingRedisQueue:
    """The transcodes' own queue: its worker has its own concurrency, so videos wait for each
    other, never photos or fan-out for videos."""
    redis = Redis.from_url(settings.redis_url)
    return SweepingRedisQueue(
        redis, name=f"{settings.redis_prefix}{settings.video_queue_name}", claim_grace=claim_grace
    )


async def enqueue(
    queue: Queue, function: JobHandle, *, key: str | None = None, **kwargs: Any
) -> Job | None:
    """Enqueue `function(**kwargs)`. A `key` makes the job idempotent: while a job with that key is
    queued or running, enqueueing it again does nothing (returns None)."""
    if not isinstance(function, JobHandle):
        raise TypeError(f"enqueue takes a worker.jobs handle, not {function!r}")
    options = {k: kwargs.pop(k) for k in list(kwargs) if k in DEFAULT_JOB_OPTIONS}
    job = Job(function=function.name, kwargs=kwargs, **{**DEFAULT_JOB_OPTIONS, **options})
    if key:
        job.key = key
    return await queue.enqueue(job)
