"""Likes, straight through the services (the GraphQL tests cover the API on top)."""

import asyncio

from services.like_post import like_post
from services.unlike_post import unlike_post
from tests.interactions.helpers import deps_of, many_users
from tests.support.factories import create_ready_post, create_user


async def test_concurrent_likes_and_unlikes_keep_the_count_exact(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    post_id = await create_ready_post(stores, author)
    users = await many_users(stores, "fan", 200)

    await asyncio.gather(*(like_post(deps, uid, post_id) for uid, _ in users))
    post = await stores.db.posts.find_one({"_id": post_id})
    assert post["like_count"] == 200 == await stores.db.likes.count_documents({"post_id": post_id})

    # Each of the first 100 unlikes twice at once and likes are repeated: only real changes count.
    half = users[:100]
    await asyncio.gather(
        *(unlike_post(deps, uid, post_id) for uid, _ in half),
        *(unlike_post(deps, uid, post_id) for uid, _ in half),
        *(like_post(deps, uid, post_id) for uid, _ in users[100:]),
    )
    post = await stores.db.posts.find_one({"_id": post_id})
    assert post["like_count"] == 100 == await stores.db.likes.count_documents({"post_id": post_id})

    notes = [n async for n in stores.db.notifications.find({"recipient_id": author})]
    assert len(notes) == 1
    assert notes[0]["type"] == "LIKE" and notes[0]["actor_count"] == 200
