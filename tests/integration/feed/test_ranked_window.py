"""A RANKED window read in the script's candidate form (feed/recent_script.candidate_page:
ranking fields instead of documents) is the window the RECENT page gives, candidate for
candidate and cursor for cursor, whatever the cache holds: misses, entries written before the
lead carried the ranking fields, posts of accounts unfollowed since, a celebrity's pulled
posts, and windows that page past one another."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from datastore import graph
from datastore.doc_cache import encode_doc, post_cache
from feed import reader as reader_module
from feed.ranking import candidate_of
from feed.reader import FeedReader
from tests.integration.feed.support import follow, open_world, publish
from tests.support import factories
from tests.support.isolation import drop_everything, isolated_settings


async def _full_window(reader: FeedReader, viewer, size: int, after: str | None):
    """The window as the RECENT page reads it: the reference."""
    page = await reader.recent(viewer, size, after, with_authors=False)
    return [candidate_of(d) for d in page.items], page.cursors[-1] if page.has_next else ""


@hsettings(
    max_examples=12,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    window=st.integers(1, 7),
    likes=st.lists(st.integers(0, 40), min_size=14, max_size=14),
    evicted=st.sets(st.integers(0, 13), max_size=3),
    old_lead=st.sets(st.integers(0, 13), max_size=4),
    unfollow=st.booleans(),
)
async def test_candidate_windows_equal_recent_windows(window, likes, evicted, old_lead, unfollow):
    base = isolated_settings(celebrity_follower_threshold=2)
    world = open_world(base)
    monkeypatch = pytest.MonkeyPatch()
    try:
        stores = world.stores
        viewer, _ = await factories.create_user(stores, "viewer")
        a, _ = await factories.create_user(stores, "a")
        b, _ = await factories.create_user(stores, "b")
        celeb, _ = await factories.create_user(stores, "celeb")
        fan, _ = await factories.create_user(stores, "fan")
        for followee in (a, b, celeb):
            await follow(world, viewer, followee)
        await follow(world, fan, celeb)  # two followers: a celebrity, pulled at read time
        await world.drain()
        authors = [a, b, celeb, viewer]
        posts = []
        for i in range(14):
            post = await publish(world, authors[i % 4], like_count=likes[i], comment_count=i % 3)
            posts.append(post)
        await world.drain()
        if unfollow:
            # No unfollow event: the timeline keeps b's posts, which the read must drop.
            assert await graph.remove_follow(stores, viewer, b)
        monkeypatch.setattr(reader_module, "RANK_WINDOW", window)
        reader = FeedReader(stores)
        # A first read builds what a first read builds (the timeline, the celebrity's authored
        # set): the candidate form, like the RECENT script, leaves that to the Python path.
        await reader.recent(viewer, 1, None)
        cache = post_cache(stores)
        await cache.get_many(posts)  # every entry cached, in the current lead
        for i in old_lead:
            doc = await stores.db.posts.find_one({"_id": posts[i]})
            await stores.redis_raw.set(
                cache.key(posts[i]), encode_doc(doc, ("author_id", "status"))
            )
        if evicted:
            await stores.redis.delete(*[cache.key(posts[i]) for i in evicted])
        calls = {"recent": 0}
        recent = reader.recent

        async def counted(*args, **kwargs):
            calls["recent"] += 1
            return await recent(*args, **kwargs)

        after: str | None = None
        for _ in range(20):
            calls["recent"] = 0
            reader.recent = counted  # type: ignore[method-assign]
            got, got_next, recorded = await reader._window(viewer, after)
            used_full_path = calls["recent"] > 0
            reader.recent = recent  # type: ignore[method-assign]
            expected, expected_next = await _full_window(reader, viewer, window, after)
            assert (got, got_next) == (expected, expected_next)
            assert recorded
            if not evicted:
                assert not used_full_path  # the candidate form answered by itself
            if not got_next:
                break
            after = got_next
        else:
            pytest.fail("the windows never ended")
    finally:
        monkeypatch.undo()
        await world.close()
        await drop_everything(base)
