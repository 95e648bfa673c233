"""Drill c: Redis restarts (clean shutdown, then `ops/services.sh start`, AOF on) while jobs are
queued and no worker runs. The jobs must survive and run once a worker is back: the posts end
READY and delivered."""

from __future__ import annotations

from core.ids import decode_id
from services.process_post_media import job_key
from tests.drills.harness import DrillClient, api_server, record, worker_process
from tests.drills.world import FOLLOW, create_post, register, wait_ready_and_delivered
from tests.support import samples
from worker.queue import make_queue

POSTS = 3


async def test_queued_jobs_survive_a_redis_restart(services, drill_settings, log_dir):
    with (
        api_server(drill_settings, log_dir) as api,
        worker_process(drill_settings, log_dir, start=False) as worker,
    ):
        gql = DrillClient(api.url)
        queue = make_queue(drill_settings)
        try:
            alice, bob = await register(gql, "alice"), await register(gql, "bob")
            (await gql(FOLLOW, {"u": alice.id}, bob.token)).ok()
            posts = [
                await create_post(gql, alice.token, samples.photo(320, 240), f"queued {i}")
                for i in range(POSTS)
            ]
            keys = [job_key(decode_id(p, "Post")) for p in posts]
            assert all([await queue.job(k) for k in keys])
            queued_before = await queue.count("queued")

            services.stop_redis()
            services.start()
            # This test's own client: its pooled connections died with the server.
            await queue.disconnect()
            queue = make_queue(drill_settings)
            survived = [await queue.job(k) is not None for k in keys]
            queued_after = await queue.count("queued")
            assert all(survived), survived  # before waiting on posts that could never finish

            worker.start()
            for post in posts:
                await wait_ready_and_delivered(gql, post, alice, bob)
        finally:
            await queue.disconnect()
            await gql.aclose()
    record(
        "c_redis_restart",
        broke="Redis shut down and started again with POSTS queued and no worker".replace(
            "POSTS", str(POSTS)
        ),
        **gql.tally.as_dict(),
        jobs_queued_before=queued_before,
        jobs_queued_after_restart=queued_after,
        posts_ready_and_delivered=POSTS,
    )
    assert queued_after >= POSTS
    assert "INTERNAL" not in gql.tally.errors
