"""Drill d: the worker is killed (SIGKILL, its whole process group) in the middle of rendering a
12-megapixel photo. Once a worker is back the job is swept back onto the queue (its heartbeat
stops) and the post ends READY and delivered, once."""

from __future__ import annotations

import asyncio
import time

from saq.job import Status

from core.ids import decode_id
from services.process_post_media import job_key
from tests.drills.harness import DrillClient, api_server, eventually, record, worker_process
from tests.drills.world import (
    FOLLOW,
    create_post,
    feed_ids,
    post_of,
    register,
    wait_ready_and_delivered,
)
from tests.support import samples
from worker.queue import make_queue


async def test_worker_killed_mid_job_the_post_still_ends_ready(services, drill_settings, log_dir):
    photo = await asyncio.to_thread(samples.noisy_jpeg, 4000, 3000)
    with (
        api_server(drill_settings, log_dir) as api,
        worker_process(drill_settings, log_dir) as worker,
    ):
        gql = DrillClient(api.url)
        queue = make_queue(drill_settings)
        try:
            alice, bob = await register(gql, "alice"), await register(gql, "bob")
            (await gql(FOLLOW, {"u": alice.id}, bob.token)).ok()
            post = await create_post(gql, alice.token, photo, "12 MP")
            key = job_key(decode_id(post, "Post"))

            async def active():
                job = await queue.job(key)
                return job is not None and job.status == Status.ACTIVE

            await eventually(active, 60, every=0.02)
            worker.kill9()
            killed_at = time.monotonic()
            status_after_kill = (await post_of(gql, post, alice.token))["status"]
            assert status_after_kill == "PROCESSING"  # killed mid-job, not after it

            worker.start()
            # saq sweeps a job whose heartbeat (30 s) stopped, then retries it.
            await wait_ready_and_delivered(gql, post, alice, bob, seconds=120)
            recovered_s = round(time.monotonic() - killed_at, 1)
            job = await queue.job(key)
            delivered = (await feed_ids(gql, bob)).count(post)
        finally:
            await queue.disconnect()
            await gql.aclose()
    record(
        "d_worker_kill9",
        broke="kill -9 of the worker while it rendered a 12 MP JPEG",
        **gql.tally.as_dict(),
        status_after_kill=status_after_kill,
        ready_after_s=recovered_s,
        job_attempts=job.attempts if job else None,
        copies_in_follower_feed=delivered,
    )
    assert delivered == 1
    assert "INTERNAL" not in gql.tally.errors
