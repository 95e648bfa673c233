"""Drill e: FerretDB is killed (SIGKILL) in the middle of a burst of likes, then started again
by `ops/services.sh start`. No request may get INTERNAL (SERVICE_UNAVAILABLE, retryable, is
fine); the users whose like failed retry it once the database is back; after reconciliation
the post's likeCount equals the number of users in its likers connection."""

from __future__ import annotations

import asyncio
import time

from tests.drills.harness import DrillClient, api_server, reconcile, record, worker_process
from tests.drills.world import (
    FOLLOW,
    LIKE,
    create_post,
    post_of,
    register,
    wait_ready_and_delivered,
)
from tests.support import samples

FANS = 12
KILL_AFTER = 4  # likes answered before the kill


async def test_ferretdb_killed_mid_burst_of_likes_counts_converge(
    services, drill_settings, log_dir
):
    with (
        api_server(drill_settings, log_dir) as api,
        worker_process(drill_settings, log_dir),
    ):
        gql = DrillClient(api.url)
        try:
            alice, bob = await register(gql, "alice"), await register(gql, "bob")
            (await gql(FOLLOW, {"u": alice.id}, bob.token)).ok()
            post = await create_post(gql, alice.token, samples.photo(320, 240), "burst")
            await wait_ready_and_delivered(gql, post, alice, bob)
            fans = [await register(gql, f"fan{i}_") for i in range(FANS)]
            burst_start = gql.tally.requests

            answered = asyncio.Event()
            done = 0

            async def like(fan, delay: float):
                nonlocal done
                await asyncio.sleep(delay)
                answer = await gql(LIKE, {"p": post}, fan.token)
                done += 1
                if done >= KILL_AFTER:
                    answered.set()
                return fan, answer

            tasks = [asyncio.create_task(like(f, i * 0.05)) for i, f in enumerate(fans)]
            await answered.wait()
            services.kill_ferretdb()
            killed_at = time.monotonic()
            first = await asyncio.gather(*tasks)
            burst_errors = dict(gql.tally.errors)
            services.start()
            restarted_s = round(time.monotonic() - killed_at, 1)

            # A client retries what did not succeed, as SERVICE_UNAVAILABLE's retryAfter asks.
            failed = [fan for fan, answer in first if answer.errors]
            retried = []
            deadline = time.monotonic() + 30
            while failed and time.monotonic() < deadline:
                retried += [(fan, await gql(LIKE, {"p": post}, fan.token)) for fan in failed]
                failed = [fan for fan, answer in retried[-len(failed) :] if answer.errors]
                await asyncio.sleep(0.5)
            assert not failed, [a.errors for _, a in retried[-len(failed) :]]

            fixed = await reconcile(drill_settings)
            seen = await post_of(gql, post, alice.token)
        finally:
            await gql.aclose()
    likers = {u["username"] for u in seen["likers"]["nodes"]}
    record(
        "e_ferretdb_kill9",
        broke=f"kill -9 of FerretDB after {KILL_AFTER} of {FANS} concurrent likes",
        **gql.tally.as_dict(),
        burst_requests=FANS,
        burst_errors_by_code=burst_errors,
        requests_before_burst=burst_start,
        ferretdb_back_after_s=restarted_s,
        likes_retried=len(retried),
        reconciled=fixed,
        like_count_after=seen["likeCount"],
        likers_after=len(likers),
    )
    assert "INTERNAL" not in gql.tally.errors, gql.tally.errors
    assert set(gql.tally.errors) <= {"SERVICE_UNAVAILABLE"}, gql.tally.errors
    assert likers == {f.username for f in fans}
    assert seen["likeCount"] == len(likers)
