"""post.ready with the READY document (as the media pipeline emits it) looks caption mentions up
in the worker, off the path that delivers the post."""

from __future__ import annotations

from core.events import emit
from tests.integration.feed.support import open_world
from tests.support.factories import create_ready_post, create_user


async def test_caption_mentions_of_a_ready_post_are_notified_by_the_worker(settings):
    world = open_world(settings)
    try:
        stores = world.stores
        owner, _ = await create_user(stores, "owner")
        friend, _ = await create_user(stores, "friend")
        post_id = await create_ready_post(
            stores, owner, caption="with @friend", mentions=["friend"]
        )
        post = await stores.db.posts.find_one({"_id": post_id})
        await emit("post.ready", world.deps, post_id=post_id, author_id=owner, post=post)
        await emit("post.ready", world.deps, post_id=post_id, author_id=owner, post=post)
        # The handlers returned without looking anyone up: the job has not run yet.
        assert await stores.db.notifications.count_documents({"type": "MENTION"}) == 0
        await world.drain()
        mentioned = [n async for n in stores.db.notifications.find({"type": "MENTION"})]
        # Announced twice, notified once.
        assert [(n["recipient_id"], n["actor_count"]) for n in mentioned] == [(friend, 1)]
    finally:
        await world.close()


async def test_a_ready_post_without_mentions_enqueues_no_job(settings):
    world = open_world(settings)
    try:
        stores = world.stores
        owner, _ = await create_user(stores, "owner")
        post_id = await create_ready_post(stores, owner, caption="no names here")
        post = await stores.db.posts.find_one({"_id": post_id})
        await emit("post.ready", world.deps, post_id=post_id, author_id=owner, post=post)
        assert await world.queue.count("queued") == 1  # the fan-out, nothing for mentions
    finally:
        await world.close()
