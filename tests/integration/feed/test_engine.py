"""The feed engine against real Redis and MongoDB (FerretDB)."""

from __future__ import annotations

import time

import pytest

from core.errors import BadInput
from core.events import emit
from datastore.stores import open_stores
from feed.fanout import FanOutOnWrite
from feed.keys import FeedKeys
from feed.reader import FeedReader
from feed.timelines import Timelines
from tests.integration.feed.support import World, follow, open_world, publish
from tests.support.factories import create_user


@pytest.fixture
async def world(settings):
    w = open_world(settings, celebrity_follower_threshold=3)
    yield w
    await w.close()


async def active(world: World, *users) -> None:
    for u in users:
        await Timelines(world.stores).mark_active(u)


async def test_fan_out_reaches_active_followers_and_the_author_at_once(world):
    author, _ = await create_user(world.stores, "author")
    f1, _ = await create_user(world.stores, "f1")
    f2, _ = await create_user(world.stores, "f2")
    for f in (f1, f2):
        await follow(world, f, author)
    await active(world, f1, f2)
    post = await publish(world, author)
    keys = FeedKeys(world.stores)
    # Before the job runs, only the author's own timeline has it.
    assert await world.stores.redis.zscore(keys.timeline(author), str(post)) is not None
    assert await world.stores.redis.zscore(keys.timeline(f1), str(post)) is None
    await world.drain()
    for f in (f1, f2):
        assert await world.stores.redis.zscore(keys.timeline(f), str(post)) is not None
        assert await world.read_all(f) == [post]


async def test_inactive_followers_are_skipped_then_rebuilt_on_read(world):
    author, _ = await create_user(world.stores, "author")
    sleeper, _ = await create_user(world.stores, "sleeper")
    await follow(world, sleeper, author)
    # Last read 40 days ago: older than INACTIVE_AFTER_DAYS (30).
    await Timelines(world.stores).mark_active(sleeper, int((time.time() - 40 * 86400) * 1000))
    await world.read_all(sleeper)  # builds the timeline (and marks active now)...
    await Timelines(world.stores).mark_active(sleeper, int((time.time() - 40 * 86400) * 1000))
    post = await publish(world, author)
    await world.drain()
    keys = FeedKeys(world.stores)
    # Skipped by fan-out: the timeline was dropped rather than left stale...
    assert not await world.stores.redis.exists(keys.timeline_built(sleeper))
    # ...and the next read rebuilds it from MongoDB, so nothing is missed.
    assert await world.read_all(sleeper) == [post]


async def test_celebrity_posts_are_pulled_at_read_time_not_fanned_out(world):
    celeb, _ = await create_user(world.stores, "celeb")
    fans = [(await create_user(world.stores, f"fan{i}"))[0] for i in range(4)]
    for f in fans:
        await follow(world, f, celeb)
    await active(world, *fans)
    post = await publish(world, celeb)
    await world.drain()
    keys = FeedKeys(world.stores)
    assert await world.stores.redis.sismember(keys.celebrities(), str(celeb))
    assert await world.stores.redis.zscore(keys.timeline(fans[0]), str(post)) is None
    for f in fans:
        assert await world.read_all(f) == [post]


async def test_a_retried_fan_out_delivers_everything_exactly_once(world, monkeypatch):
    author, _ = await create_user(world.stores, "author")
    fans = [(await create_user(world.stores, f"fan{i}"))[0] for i in range(3)]
    for f in fans:
        await follow(world, f, author)
    await active(world, *fans)
    post = await publish(world, author)

    calls = {"n": 0}
    real_push = Timelines.push

    async def crash_on_second_batch(self, users, entries):
        calls["n"] += 1
        if calls["n"] == 2:
            raise ConnectionError("worker died mid fan-out")
        await real_push(self, users, entries)

    monkeypatch.setattr(Timelines, "push", crash_on_second_batch)
    with pytest.raises(ConnectionError):
        await FanOutOnWrite(world.deps, batch_size=1).call(post)
    monkeypatch.setattr(Timelines, "push", real_push)
    delivered = await FanOutOnWrite(world.deps, batch_size=1).call(post)  # the retry
    assert delivered == 3
    keys = FeedKeys(world.stores)
    for f in fans:
        assert await world.stores.redis.zrange(keys.timeline(f), 0, -1) == [str(post)]


async def test_recent_paging_never_repeats_or_skips_while_posts_arrive(world):
    author, _ = await create_user(world.stores, "author")
    reader_id, _ = await create_user(world.stores, "reader")
    await follow(world, reader_id, author)
    await active(world, reader_id)
    older = [await publish(world, author) for _ in range(7)]
    await world.drain()
    reader = FeedReader(world.stores)
    page1 = await reader.recent(reader_id, 3, None)
    assert [d["_id"] for d in page1.items] == older[::-1][:3]
    newer = [await publish(world, author) for _ in range(2)]  # arrive at the top meanwhile
    await world.drain()
    seen = [d["_id"] for d in page1.items]
    after = page1.cursors[-1]
    while True:
        page = await reader.recent(reader_id, 3, after)
        seen += [d["_id"] for d in page.items]
        if not page.has_next:
            break
        after = page.cursors[-1]
    assert seen == older[::-1]
    assert (await reader.recent(reader_id, 2, None)).items[0]["_id"] == newer[-1]


async def test_paging_past_the_capped_timeline_continues_from_mongodb(settings):
    world = open_world(settings, timeline_cap=4)
    try:
        author, _ = await create_user(world.stores, "author")
        reader_id, _ = await create_user(world.stores, "reader")
        await follow(world, reader_id, author)
        await active(world, reader_id)
        posts = [await publish(world, author) for _ in range(10)]
        await world.drain()
        assert await world.stores.redis.zcard(FeedKeys(world.stores).timeline(reader_id)) == 4
        assert await world.read_all(reader_id, page=3) == posts[::-1]
    finally:
        await world.close()


async def test_unfollow_block_and_delete_take_posts_out(world):
    a, _ = await create_user(world.stores, "a")
    b, _ = await create_user(world.stores, "b")
    viewer, _ = await create_user(world.stores, "viewer")
    await follow(world, viewer, a)
    await follow(world, viewer, b)
    await active(world, viewer)
    pa = await publish(world, a)
    pb1 = await publish(world, b)
    pb2 = await publish(world, b)
    await world.drain()
    assert await world.read_all(viewer) == [pb2, pb1, pa]

    await world.stores.db.posts.delete_one({"_id": pb2})
    await emit("post.deleted", world.deps, post_id=pb2, author_id=b)
    await world.drain()
    assert (
        await world.stores.redis.zscore(FeedKeys(world.stores).timeline(viewer), str(pb2)) is None
    )
    assert await world.read_all(viewer) == [pb1, pa]

    await world.stores.db.follows.delete_one({"follower_id": viewer, "followee_id": a})
    await world.stores.redis.zrem(world.stores.keys("following", viewer), str(a))
    await world.stores.redis.zrem(world.stores.keys("followers", a), str(viewer))
    await emit("user.unfollowed", world.deps, follower_id=viewer, followee_id=a)
    assert await world.read_all(viewer) == [pb1]


async def test_follow_merges_the_followees_recent_posts(world):
    a, _ = await create_user(world.stores, "a")
    viewer, _ = await create_user(world.stores, "viewer")
    await active(world, viewer)
    posts = [await publish(world, a) for _ in range(3)]
    await world.drain()
    assert await world.read_all(viewer) == []
    await follow(world, viewer, a)
    assert await world.stores.redis.zcard(FeedKeys(world.stores).timeline(viewer)) == 3
    assert await world.read_all(viewer) == posts[::-1]


async def test_bad_cursors_are_bad_input(world):
    viewer, _ = await create_user(world.stores, "viewer")
    reader = FeedReader(world.stores)
    with pytest.raises(BadInput):
        await reader.recent(viewer, 5, "not-a-cursor")
    from core.cursor import cursor_codec

    foreign = cursor_codec(world.stores.settings).encode("followers", [1, "x"])
    with pytest.raises(BadInput):
        await reader.recent(viewer, 5, foreign)  # another list's


async def test_redis_down_degrades_to_mongodb_and_says_so(world, settings):
    a, _ = await create_user(world.stores, "a")
    viewer, _ = await create_user(world.stores, "viewer")
    await follow(world, viewer, a)
    posts = [await publish(world, a) for _ in range(3)]
    dead = open_stores(settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"}))
    try:
        page = await FeedReader(dead).recent(viewer, 2, None)
        assert [d["_id"] for d in page.items] == posts[::-1][:2]
        assert page.has_next
        assert page.extensions["feed"]["degraded"] is True
        rest = await FeedReader(dead).recent(viewer, 2, page.cursors[-1])
        assert [d["_id"] for d in rest.items] == [posts[0]]
    finally:
        await dead.close()


async def test_ranked_pages_through_a_snapshot_without_duplicates(world):
    a, _ = await create_user(world.stores, "a")
    viewer, _ = await create_user(world.stores, "viewer")
    await follow(world, viewer, a)
    await active(world, viewer)
    posts = [await publish(world, a) for _ in range(7)]
    # The oldest post is the most engaging: RANKED lifts it above newer ones.
    await world.stores.db.posts.update_one({"_id": posts[0]}, {"$set": {"like_count": 500}})
    await world.drain()
    reader = FeedReader(world.stores)
    page = await reader.ranked(viewer, 3, None)
    assert page.items[0]["_id"] == posts[0]
    seen = [d["_id"] for d in page.items]
    while page.has_next:
        page = await reader.ranked(viewer, 3, page.cursors[-1])
        seen += [d["_id"] for d in page.items]
    assert sorted(seen) == sorted(posts) and len(seen) == len(set(seen))


async def test_a_ranked_first_page_is_reranked_once_the_timeline_changes(world):
    """A first page reuses the newest snapshot (feed/reader.py RANKED_REUSE_SECONDS) only
    until something reaches the viewer's timeline."""
    a, _ = await create_user(world.stores, "a")
    viewer, _ = await create_user(world.stores, "viewer")
    await follow(world, viewer, a)
    await active(world, viewer)
    posts = [await publish(world, a) for _ in range(3)]
    await world.drain()
    reader = FeedReader(world.stores)
    first = await reader.ranked(viewer, 10, None)
    again = await reader.ranked(viewer, 10, None)
    assert [d["_id"] for d in again.items] == [d["_id"] for d in first.items]
    assert again.cursors == first.cursors  # the same snapshot
    newer = await publish(world, a)
    await world.drain()
    fresh = await reader.ranked(viewer, 10, None)
    assert {d["_id"] for d in fresh.items} == {*posts, newer}
