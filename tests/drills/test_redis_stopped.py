"""Drill b: Redis stops while the API serves, and is started again. Every request gets its data
(served from MongoDB) or SERVICE_UNAVAILABLE, never INTERNAL; likes made during the outage are
in MongoDB and counted once Redis is back."""

from __future__ import annotations

from pymongo import AsyncMongoClient

from core.ids import decode_id
from tests.drills.harness import DrillClient, Tally, api_server, record, worker_process
from tests.drills.world import (
    FEED,
    LIKE,
    NOTIFICATIONS,
    POST,
    PROFILE,
    SEARCH,
    build_world,
    check_world,
    register,
)

RANKED = "query { feed(first: 10, order: RANKED) { nodes { id } } }"


async def test_redis_stopped_while_serving_degrades_and_loses_nothing(
    services, drill_settings, log_dir
):
    with (
        api_server(drill_settings, log_dir) as api,
        worker_process(drill_settings, log_dir),
    ):
        gql = DrillClient(api.url)
        outage = DrillClient(api.url, Tally())
        try:
            world = await build_world(gql)
            late_fans = [await register(gql, f"late{i}_") for i in range(3)]
            before = await check_world(gql, world)

            services.stop_redis()
            reads = [
                ("feed RECENT", FEED, {}, world.bob),
                ("feed RANKED", RANKED, {}, world.bob),
                ("post", POST, {"p": world.post_id}, world.bob),
                ("profile", PROFILE, {"u": world.alice.username}, world.bob),
                ("notifications", NOTIFICATIONS, {}, world.alice),
                ("searchUsers", SEARCH, {"q": world.alice.username[:5]}, world.bob),
            ]
            served = {}
            for name, query, variables, viewer in reads * 2:
                answer = await outage(query, variables, viewer.token)
                served[name] = ",".join(answer.codes) if answer.errors else "data"
            liked = []
            for fan in late_fans:
                answer = await outage(LIKE, {"p": world.post_id}, fan.token)
                if not answer.errors:
                    liked.append(fan.username)

            services.start()
            mongo = AsyncMongoClient(drill_settings.mongodb_url)
            try:
                db = mongo[drill_settings.mongodb_db]
                stored = await db.likes.count_documents(
                    {"post_id": decode_id(world.post_id, "Post")}
                )
            finally:
                await mongo.close()
            world.likers |= set(liked)
            after = await check_world(gql, world)
        finally:
            await gql.aclose()
            await outage.aclose()
    record(
        "b_redis_stopped",
        broke="Redis shut down under a serving API and worker, then started again",
        **gql.tally.as_dict(),
        outage_requests=outage.tally.requests,
        outage_errors_by_code=dict(outage.tally.errors),
        served_during_outage=served,
        likes_during_outage=len(liked),
        likes_in_mongo=stored,
        counts_before=before,
        counts_after=after,
    )
    assert "INTERNAL" not in outage.tally.errors, served
    assert set(outage.tally.errors) <= {"SERVICE_UNAVAILABLE"}, outage.tally.errors
    assert len(liked) == len(late_fans)  # likes commit to MongoDB without Redis
    assert stored == len(world.likers)
    assert after["like_count"] == len(world.likers)
    assert not gql.tally.errors
