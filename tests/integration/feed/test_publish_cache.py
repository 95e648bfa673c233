"""A post's first readers hit the document cache: `post.ready` with the READY document primes
it (on FerretDB a miss on a new document scans the whole posts collection)."""

from __future__ import annotations

import pytest

from core.events import emit
from datastore.doc_cache import post_cache
from datastore.instrumentation import MongoCommandCounter
from datastore.stores import open_stores
from feed.reader import FeedReader
from tests.integration.feed.support import World, follow, next_time, open_world
from tests.support import factories


@pytest.fixture
async def world(settings):
    w = open_world(settings)
    yield w
    await w.close()


async def test_a_published_post_is_read_from_the_cache_by_its_first_reader(world: World, settings):
    author, _ = await factories.create_user(world.stores, "author")
    fan, _ = await factories.create_user(world.stores, "fan")
    await follow(world, fan, author)
    await FeedReader(world.stores).recent(fan, 5, None)  # builds the fan's timeline
    post_id = await factories.create_ready_post(world.stores, author, created_at=next_time())
    ready = await world.stores.db.posts.find_one({"_id": post_id})
    await emit("post.ready", world.deps, post_id=post_id, author_id=author, post=ready)
    await world.drain()
    counter = MongoCommandCounter()
    counted = open_stores(settings, mongo_listeners=[counter])
    try:
        # Without authors: post.ready dropped the author's cached document (post_count moved),
        # so reading it is a users `find`; this test is about the post's.
        page = await FeedReader(counted).recent(fan, 5, None, with_authors=False)
        assert [d["_id"] for d in page.items][:1] == [post_id]
        assert counter.commands["find"] == 0, counter.commands
    finally:
        await counted.close()


async def test_without_the_document_the_cached_copy_is_dropped(world: World):
    author, _ = await factories.create_user(world.stores, "author")
    post_id = await factories.create_ready_post(world.stores, author, created_at=next_time())
    cache = post_cache(world.stores)
    stale = await world.stores.db.posts.find_one({"_id": post_id})
    await cache.prime([stale])
    await emit("post.ready", world.deps, post_id=post_id, author_id=author)
    assert not await world.stores.redis_raw.exists(cache.key(post_id))
