"""Drill a: Redis loses everything (FLUSHALL) while the API and the worker serve. MongoDB is the
source of truth, so every answer must come back the same, and a post made afterwards must
still be delivered."""

from __future__ import annotations

from tests.drills.harness import DrillClient, api_server, record, worker_process
from tests.drills.world import (
    build_world,
    check_world,
    create_post,
    register,
    search_finds,
    wait_ready_and_delivered,
)
from tests.support import samples


async def test_flushall_while_serving_loses_nothing(services, drill_settings, log_dir):
    with (
        api_server(drill_settings, log_dir) as api,
        worker_process(drill_settings, log_dir),
    ):
        gql = DrillClient(api.url)
        try:
            world = await build_world(gql)
            before = await check_world(gql, world)
            keys_before = int(services.redis_cli("dbsize"))
            services.flushall()

            after = await check_world(gql, world)
            assert after == before
            # The timelines rebuilt from MongoDB; fan-out still reaches them.
            later = await create_post(gql, world.alice.token, samples.photo(320, 240), "after")
            await wait_ready_and_delivered(gql, later, world.alice, world.bob)
            await wait_ready_and_delivered(gql, later, world.alice, world.carol)
        finally:
            await gql.aclose()
    assert set(gql.tally.errors) == set(), gql.tally.errors
    record(
        "a_redis_flushall",
        broke=f"FLUSHALL of the Redis under a serving API and worker ({keys_before} keys)",
        **gql.tally.as_dict(),
        counts_before=before,
        counts_after=after,
        post_after_flush_delivered=True,
    )


async def test_flushall_search_still_finds_an_existing_account(services, drill_settings, log_dir):
    with api_server(drill_settings, log_dir) as api:
        gql = DrillClient(api.url)
        try:
            alice, bob = await register(gql, "alice"), await register(gql, "bob")
            assert await search_finds(gql, bob, alice)
            services.flushall()
            found = await search_finds(gql, bob, alice)
        finally:
            await gql.aclose()
    record("a_redis_flushall_search", **gql.tally.as_dict(), found_after_flush=found)
    assert found
    assert "INTERNAL" not in gql.tally.errors
