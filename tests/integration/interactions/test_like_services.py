"""Likes, straight through the services (the GraphQL tests cover the API on top, including
the 200-user concurrency run)."""

import asyncio

from datastore.backend.ferretdb import FerretBackend
from services.like_post import like_post
from services.unlike_post import unlike_post
from tests.integration.interactions.helpers import deps_of, many_users
from tests.support.factories import create_ready_post, create_user


async def test_concurrent_likes_and_unlikes_keep_the_count_exact(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    post_id = await create_ready_post(stores, author)
    users = await many_users(stores, "fan", 60)

    await asyncio.gather(*(like_post(deps, uid, post_id) for uid, _ in users))
    post = await stores.db.posts.find_one({"_id": post_id})
    assert post["like_count"] == 60 == await stores.db.likes.count_documents({"post_id": post_id})

    # Each of the first 30 unlikes twice at once and likes are repeated: only real changes count.
    half = users[:30]
    await asyncio.gather(
        *(unlike_post(deps, uid, post_id) for uid, _ in half),
        *(unlike_post(deps, uid, post_id) for uid, _ in half),
        *(like_post(deps, uid, post_id) for uid, _ in users[30:]),
    )
    post = await stores.db.posts.find_one({"_id": post_id})
    assert post["like_count"] == 30 == await stores.db.likes.count_documents({"post_id": post_id})

    notes = [n async for n in stores.db.notifications.find({"recipient_id": author})]
    assert len(notes) == 1
    assert notes[0]["type"] == "LIKE" and notes[0]["actor_count"] == 60


async def test_a_counter_flush_interrupted_by_a_crash_is_applied_exactly_once(app, stores):
    """FerretDB's pending deltas (whatever server runs): a holder that died after its $inc landed
    but before clearing its Redis deltas: the next holder must not apply them again; one that
    died before the $inc: they are applied once."""
    ferretdb = FerretBackend(stores)
    author, _ = await create_user(stores, "author")
    landed = await create_ready_post(stores, author)
    lost = await create_ready_post(stores, author)
    for post_id, did_land in ((landed, True), (lost, False)):
        pending = stores.keys("pending", "posts", post_id)
        inflight = stores.keys("pending", "posts", post_id, "inflight")
        await stores.redis.hset(pending, mapping={"like_count": 3})
        await stores.redis.hset(inflight, mapping={"like_count": 3, "_token": "t1"})
        if did_land:
            await stores.db.posts.update_one(
                {"_id": post_id}, {"$inc": {"like_count": 3}, "$set": {"counter_flush": "t1"}}
            )
        doc = await ferretdb.add_counters("posts", post_id, {"like_count": 1})
        assert doc["like_count"] == 4, did_land
        assert await stores.redis.hget(pending, "like_count") == "0"
        assert not await stores.redis.exists(inflight)
