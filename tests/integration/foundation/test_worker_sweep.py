"""The sweep must not take a job from a worker that has just dequeued it (saq issue #277): a
job on the active list that its worker has not yet marked ACTIVE is left alone until a later
sweep, past the grace, still finds it unclaimed."""

from __future__ import annotations

import asyncio

from saq.job import Status
from saq.utils import now

from tests.support.processes import worker_process
from worker.jobs import ECHO
from worker.queue import SweepingRedisQueue, enqueue, make_queue


async def sweep_now(queue: SweepingRedisQueue) -> list[str]:
    """One sweep regardless of the cross-worker sweep lock; `abort` is short because no worker
    holds these jobs to acknowledge the abort."""
    await queue.redis.delete(queue.sweep_lock_key)
    return await queue.sweep(lock=60, abort=0.1)


async def test_an_unclaimed_job_is_held_back_once_and_requeued_if_still_unclaimed(settings):
    queue = make_queue(settings, claim_grace=0)
    try:
        job = await enqueue(queue, ECHO, value=1, retry_delay=0)
        taken = await queue.dequeue(timeout=1)  # a worker's BLMOVE; it has not marked it ACTIVE
        assert taken is not None and taken.key == job.key and taken.status == Status.QUEUED

        assert await sweep_now(queue) == []
        await job.refresh()
        assert (job.status, job.error) == (Status.QUEUED, None)

        # Still unclaimed a sweep later: its worker died between the two steps.
        assert await sweep_now(queue) == [job.id]
        await job.refresh()
        assert (job.status, job.error) == (Status.QUEUED, "swept")
        again = await queue.dequeue(timeout=1)
        assert again is not None and again.key == job.key
    finally:
        await queue.disconnect()


async def test_a_claimed_job_is_not_swept_and_a_stuck_one_is(settings):
    queue = make_queue(settings, claim_grace=0)
    try:
        job = await enqueue(queue, ECHO, value=1, retry_delay=0, heartbeat=30)
        taken = await queue.dequeue(timeout=1)
        taken.started, taken.attempts = now(), 1  # what a worker does to claim it
        await taken.update(status=Status.ACTIVE)
        assert await sweep_now(queue) == []
        assert await sweep_now(queue) == []

        # No heartbeat for longer than the job's heartbeat period.
        await taken.update(touched=now() - 31_000)
        assert await sweep_now(queue) == [job.id]
        await job.refresh()
        assert (job.status, job.error) == (Status.QUEUED, "swept")
    finally:
        await queue.disconnect()


async def test_jobs_run_once_while_sweeps_race_the_worker(settings):
    """Sweeps back to back from another process while a real worker dequeues. The jobs hold the
    worker's event loop, as rendering does, so a dequeued job waits a while before its worker
    marks it ACTIVE: with saq's own sweep, such jobs are aborted and run a second time."""
    queue = make_queue(settings)
    done = asyncio.Event()
    sweeps = 0

    async def keep_sweeping() -> None:
        nonlocal sweeps
        while not done.is_set():
            await sweep_now(queue)
            sweeps += 1

    try:
        jobs = [
            await enqueue(queue, ECHO, value=i, retry_delay=0, hold_cpu_ms=20) for i in range(40)
        ]
        sweeper = asyncio.create_task(keep_sweeping())
        with worker_process(settings):
            for job in jobs:
                await job.refresh(until_complete=60)
            done.set()
            await sweeper  # a sweep in flight has finished, requeueing included
            for job in jobs:  # a requeued job runs again before it is final
                await job.refresh(until_complete=60)
        assert sweeps > len(jobs)
        assert [(j.status, j.error) for j in jobs] == [(Status.COMPLETE, None)] * len(jobs)
        assert [j.result["attempts"] for j in jobs] == [1] * len(jobs)
    finally:
        done.set()
        await queue.disconnect()
