"""A warm RECENT page is one Redis round trip (feed/recent_page_lua.py) and no MongoDB command,
whatever its size; everything unusual still gives the right page through the Python path."""

from __future__ import annotations

import pytest
from bson import ObjectId

from datastore import graph
from datastore.activity import active_key, unflushed_key
from datastore.doc_cache import post_cache, user_cache
from feed.keys import FeedKeys
from feed.reader import FeedReader
from tests.integration.feed.support import World, follow, publish, read_all, world_of
from tests.support import factories

# The feed query without viewerHasLiked, whose likes lookup is a MongoDB command of its own
# (one per page, any size), so what remains is the feed's data: posts, authors, media.
FEED = """query($first: Int, $after: String) {
  feed(first: $first, after: $after) {
    edges { cursor node { id caption createdAt likeCount commentCount
      author { id username fullName }
      media { type width height url(width: 640) } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


async def _feed_world(w: World, authors: int = 10, posts: int = 60) -> tuple[ObjectId, str]:
    viewer, token = await factories.create_user(w.stores, "viewer")
    people = [(await factories.create_user(w.stores, f"author{i}"))[0] for i in range(authors)]
    for a in people:
        await follow(w, viewer, a)
    for i in range(posts):
        await publish(w, people[i % authors], caption=f"p{i}")
    await w.drain()
    return viewer, token


async def _truth(w: World, viewer: ObjectId) -> list[ObjectId]:
    following = [f["followee_id"] async for f in w.stores.db.follows.find({"follower_id": viewer})]
    cursor = w.stores.db.posts.find(
        {"author_id": {"$in": [*following, viewer]}, "status": "READY"}
    ).sort([("published_at", -1), ("_id", -1)])
    return [p["_id"] async for p in cursor]


async def test_a_warm_recent_page_is_one_redis_round_trip_for_5_or_50_items(counted):
    application, gql, mongo, redis = counted
    w = world_of(application)
    viewer, token = await _feed_world(w)
    for size in (5, 50):  # warm: the first reads load the script and fill the author cache
        assert (await gql(FEED, {"first": size}, token=token)).ok()
    reader = FeedReader(w.stores)
    for size in (5, 50):
        mongo.reset()
        redis.reset()
        page = await reader.recent(viewer, size, None)
        # The feed's data: the page's posts, their authors and has_next, the read recorded.
        assert (redis.total, mongo.total) == (1, 0), (size, redis.total, dict(mongo.commands))
        assert len(page.items) == size and page.has_next
        assert set(page.authors) == {d["author_id"] for d in page.items}
        assert all(page.authors.values())
    whole = {}
    for size in (5, 50):
        mongo.reset()
        redis.reset()
        body = await gql(FEED, {"first": size}, token=token)
        assert len(body.ok()["feed"]["edges"]) == size
        whole[size] = (redis.total, mongo.total)
    # The whole request: the page's round trip, nothing else (the activity extension sees the
    # page recorded the read; `counted` turns the cost bucket off, see tests/conftest.py).
    assert whole == {5: (1, 0), 50: (1, 0)}, whole


async def test_the_page_records_the_read_for_fan_out_and_the_activity_flush(counted):
    application, _, _, _ = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=2, posts=4)
    await w.stores.redis.delete(unflushed_key(w.stores))
    await w.stores.redis.zrem(active_key(w.stores), str(viewer))
    await FeedReader(w.stores).recent(viewer, 5, None)
    assert await w.stores.redis.zscore(active_key(w.stores), str(viewer)) is not None
    assert await w.stores.redis.sismember(unflushed_key(w.stores), str(viewer))


async def test_cursor_paging_neither_repeats_nor_skips_one_round_trip_a_page(counted):
    application, _, mongo, redis = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=4, posts=23)
    reader = FeedReader(w.stores)
    assert await read_all(reader, viewer, 4) == await _truth(w, viewer)  # warm
    after, pages = None, 0
    while True:
        redis.reset()
        mongo.reset()
        result = await reader.recent(viewer, 4, after)
        assert (redis.total, mongo.total) == (1, 0)
        pages += 1
        if not result.has_next:
            break
        after = result.cursors[-1]
    assert pages == 6  # 23 posts, 4 a page


async def test_a_stale_following_set_falls_back_and_is_repaired(counted):
    application, _, _, redis = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=3, posts=9)
    reader = FeedReader(w.stores)
    expected = await _truth(w, viewer)
    assert await read_all(reader, viewer, 5) == expected
    # The set lost a member behind the counter's back (a lost write, a partial restore).
    following = FeedKeys(w.stores).following(viewer)
    lost = (await w.stores.redis.zrange(following, 0, 0))[0]
    await w.stores.redis.zrem(following, lost)
    redis.reset()
    assert await read_all(reader, viewer, 20) == expected
    assert redis.total > 1  # the Python path ran and rebuilt the set from MongoDB
    assert await w.stores.redis.zscore(following, lost) is not None
    redis.reset()
    assert await read_all(reader, viewer, 20) == expected
    assert redis.total == 1  # and the next page is back on the script


async def test_an_unbuilt_timeline_falls_back_and_is_rebuilt(counted):
    application, _, _, redis = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=3, posts=9)
    reader = FeedReader(w.stores)
    expected = await _truth(w, viewer)
    keys = FeedKeys(w.stores)
    await w.stores.redis.delete(keys.timeline(viewer), keys.timeline_built(viewer))
    assert await read_all(reader, viewer, 20) == expected
    assert await w.stores.redis.exists(keys.timeline_built(viewer))
    redis.reset()
    assert await read_all(reader, viewer, 20) == expected
    assert redis.total == 1


async def test_a_missing_viewer_document_is_read_then_the_script_serves(counted):
    application, _, mongo, redis = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=2, posts=4)
    reader = FeedReader(w.stores)
    expected = await _truth(w, viewer)
    await read_all(reader, viewer, 10)  # warm
    await user_cache(w.stores).invalidate([viewer])  # as any write to the viewer does
    redis.reset()
    mongo.reset()
    assert await read_all(reader, viewer, 10) == expected
    # The script, the viewer through the cache (MGET, one MongoDB read, SET), the script again.
    assert (redis.total, dict(mongo.commands)) == (4, {"find": 1})
    redis.reset()
    assert await read_all(reader, viewer, 10) == expected
    assert redis.total == 1


async def test_posts_of_an_unfollowed_author_are_dropped_in_the_script(counted):
    application, _, mongo, redis = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=2, posts=6)
    reader = FeedReader(w.stores)
    authors = [a async for a in w.stores.db.follows.find({"follower_id": viewer})]
    gone = authors[0]["followee_id"]
    assert len(await read_all(reader, viewer, 10)) == 6  # builds the timeline, gone's included
    # Unfollow without the event: the timeline still holds the author's posts.
    assert await graph.remove_follow(w.stores, viewer, gone)
    expected = await _truth(w, viewer)
    assert len(expected) == 3
    timeline = await w.stores.redis.zrange(FeedKeys(w.stores).timeline(viewer), 0, -1)
    assert len(timeline) == 6
    await read_all(reader, viewer, 10)  # warm the viewer's document again (counter moved)
    redis.reset()
    mongo.reset()
    page = await reader.recent(viewer, 10, None)
    assert [d["_id"] for d in page.items] == expected
    assert all(d["author_id"] != gone for d in page.items)
    assert (redis.total, mongo.total) == (1, 0)


@pytest.mark.parametrize("strategy", ["hybrid"])
async def test_celebrity_posts_are_merged_in_the_script(counted, strategy):
    application, _, mongo, redis = counted
    w = world_of(application)
    w.stores.settings.feed_strategy = strategy
    w.stores.settings.celebrity_follower_threshold = 1
    viewer, _ = await factories.create_user(w.stores, "viewer")
    fan, _ = await factories.create_user(w.stores, "fan")
    star, _ = await factories.create_user(w.stores, "star")
    friend, _ = await factories.create_user(w.stores, "friend")
    for f in (viewer, fan):
        await follow(w, f, star)  # two followers: over the threshold
    await follow(w, viewer, friend)
    reader = FeedReader(w.stores)
    # The viewer reads first (active, timeline built), so posts after are fanned out to them,
    # but the star's are not: they reach the page only through the star's authored set.
    assert (await reader.recent(viewer, 5, None)).items == []
    for i in range(6):
        await publish(w, star if i % 2 else friend, caption=f"c{i}")
    await publish(w, viewer, caption="mine")
    await w.drain()
    keys = FeedKeys(w.stores)
    assert await w.stores.redis.sismember(keys.celebrities(), str(star))
    # Not fanned out: the star's posts reach the viewer only through the authored set.
    timeline = await w.stores.redis.zrange(keys.timeline(viewer), 0, -1)
    assert len(timeline) == 4  # the friend's three and the viewer's own
    assert not set(timeline) & set(await w.stores.redis.zrange(keys.authored(star), 0, -1))
    expected = await _truth(w, viewer)
    assert len(expected) == 7
    assert await read_all(reader, viewer, 3) == expected  # warm
    redis.reset()
    mongo.reset()
    page = await reader.recent(viewer, 10, None)
    assert [d["_id"] for d in page.items] == expected
    assert (redis.total, mongo.total) == (1, 0)
    # An authored set that is not built steps aside to the Python path, which builds it.
    await w.stores.redis.delete(keys.authored(star), keys.authored_built(star))
    assert await read_all(reader, viewer, 3) == expected
    assert await w.stores.redis.exists(keys.authored_built(star))


async def test_deleted_and_not_ready_posts_are_dropped(counted):
    application, _, _, redis = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=2, posts=8)
    reader = FeedReader(w.stores)
    expected = await _truth(w, viewer)
    assert await read_all(reader, viewer, 3) == expected  # warm
    cache = post_cache(w.stores)
    # A cached copy that says FAILED (as no writer caches, but an old entry could): the script
    # drops it without leaving Redis.
    failed = await w.stores.db.posts.find_one({"_id": expected[1]})
    failed["status"] = "FAILED"
    await w.stores.redis_raw.set(cache.key(failed["_id"]), cache.encode(failed))
    redis.reset()
    page = await reader.recent(viewer, 3, None)
    assert [d["_id"] for d in page.items] == [expected[0], expected[2], expected[3]]
    assert redis.total == 1
    # A post deleted from MongoDB behind the timeline's back: a cache miss, read, found gone.
    await w.stores.db.posts.delete_one({"_id": expected[0]})
    await cache.invalidate([expected[0], expected[1]])
    await w.stores.db.posts.update_one({"_id": expected[1]}, {"$set": {"status": "FAILED"}})
    assert await read_all(reader, viewer, 3) == expected[2:]


async def test_cache_misses_are_read_from_mongodb_and_paging_stays_exact(counted):
    application, _, mongo, _ = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=3, posts=20)
    reader = FeedReader(w.stores)
    expected = await _truth(w, viewer)
    # Every other post out of the cache: each page mixes hits and misses.
    await post_cache(w.stores).invalidate(expected[::2])
    mongo.reset()
    assert await read_all(reader, viewer, 4) == expected
    assert mongo.total > 0
    mongo.reset()
    assert await read_all(reader, viewer, 4) == expected
    assert mongo.total == 0  # the misses were cached on the way


async def test_ranked_pages_cost_a_fixed_number_of_round_trips(counted):
    application, _, mongo, redis = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=5, posts=60)
    reader = FeedReader(w.stores)
    await reader.ranked(viewer, 5, None)  # warm: the script and the caches
    costs, seen = {}, []
    for size in (5, 50):
        await w.stores.redis.delete(reader.keys.ranked_latest(viewer))
        redis.reset()
        mongo.reset()
        first = await reader.ranked(viewer, size, None)
        costs[("first", size)] = (redis.total, mongo.total)
        redis.reset()
        mongo.reset()
        again = await reader.ranked(viewer, size, None)
        costs[("first again", size)] = (redis.total, mongo.total)
        assert [d["_id"] for d in again.items] == [d["_id"] for d in first.items]
        redis.reset()
        mongo.reset()
        later = await reader.ranked(viewer, size, first.cursors[-1])
        costs[("later", size)] = (redis.total, mongo.total)
        assert set(later.authors) == {d["author_id"] for d in later.items}
        seen = [d["_id"] for d in first.items + later.items]
        assert len(seen) == len(set(seen))
    # A new first page: the page script (no snapshot to reuse), the RECENT window (script),
    # the affinity hash, the snapshot write, the page script again. A first page within
    # RANKED_REUSE_SECONDS of it, and a later page: the page script alone (feed/ranked_script.py:
    # the pointer, the slice, the posts and their authors in one call).
    assert costs == {
        ("first", 5): (5, 0),
        ("first again", 5): (1, 0),
        ("later", 5): (1, 0),
        ("first", 50): (5, 0),
        ("first again", 50): (1, 0),
        ("later", 50): (1, 0),
    }, costs


async def test_a_failing_script_leaves_the_page_to_the_python_path(counted, monkeypatch):
    from redis.exceptions import ResponseError

    import feed.reader

    application, _, _, _ = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=2, posts=5)
    expected = await _truth(w, viewer)

    async def broken(*args, **kwargs):
        raise ResponseError("ERR user_script:1: something went wrong")

    monkeypatch.setattr(feed.reader, "recent_page", broken)
    page = await FeedReader(w.stores).recent(viewer, 10, None)
    assert [d["_id"] for d in page.items] == expected
    assert page.extensions == {}  # not degraded to MongoDB


async def test_a_ranked_page_reads_its_cache_misses_and_drops_posts_gone_since(counted):
    application, _, mongo, _ = counted
    w = world_of(application)
    viewer, _ = await _feed_world(w, authors=3, posts=20)
    reader = FeedReader(w.stores)
    first = await reader.ranked(viewer, 10, None)
    ids = [d["_id"] for d in first.items]
    cache = post_cache(w.stores)
    await cache.invalidate(ids[::2])
    await w.stores.db.posts.update_one({"_id": ids[1]}, {"$set": {"status": "FAILED"}})
    await cache.invalidate([ids[1]])
    mongo.reset()
    again = await reader.ranked(viewer, 10, None)
    assert [d["_id"] for d in again.items] == [i for i in ids if i != ids[1]]
    assert set(again.authors) == {d["author_id"] for d in again.items}
    assert mongo.total > 0
