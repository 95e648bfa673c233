"""For RECENT order, push, pull and hybrid return exactly the same feed: random sequences of
post, delete, follow, unfollow, block and celebrity-threshold changes, each strategy's feed
compared with a ground truth computed straight from MongoDB."""

from __future__ import annotations

from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from core.events import emit
from datastore import graph
from feed.timelines import Timelines
from tests.integration.feed.support import next_time, open_world
from tests.support import factories
from tests.support.isolation import drop_everything, isolated_settings

USERS = 4

op = st.one_of(
    st.tuples(st.just("post"), st.integers(0, USERS - 1)),
    st.tuples(st.just("delete"), st.integers(0, 50)),
    st.tuples(st.just("follow"), st.integers(0, USERS - 1), st.integers(0, USERS - 1)),
    st.tuples(st.just("unfollow"), st.integers(0, USERS - 1), st.integers(0, USERS - 1)),
    st.tuples(st.just("block"), st.integers(0, USERS - 1), st.integers(0, USERS - 1)),
    st.tuples(st.just("threshold"), st.integers(0, 3)),
)


async def truth(stores, viewer) -> list:
    following = [f["followee_id"] async for f in stores.db.follows.find({"follower_id": viewer})]
    cursor = stores.db.posts.find(
        {"author_id": {"$in": [*following, viewer]}, "status": "READY"}
    ).sort([("published_at", -1), ("_id", -1)])
    return [p["_id"] async for p in cursor]


@hsettings(
    max_examples=15,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    initial_follows=st.sets(
        st.tuples(st.integers(0, USERS - 1), st.integers(0, USERS - 1)).filter(
            lambda t: t[0] != t[1]
        ),
        min_size=2,
        max_size=8,
    ),
    ops=st.lists(op, min_size=6, max_size=14),
)
async def test_push_pull_and_hybrid_agree_with_mongodb(initial_follows, ops):
    base = isolated_settings(celebrity_follower_threshold=0)
    # One MongoDB database (the truth), three Redis namespaces (one per strategy).
    worlds = [
        open_world(base, feed_strategy=s, redis_prefix=f"{base.redis_prefix}{s}:")
        for s in ("push", "pull", "hybrid")
    ]
    primary = worlds[0]
    try:
        users = [(await factories.create_user(primary.stores, f"u{i}"))[0] for i in range(USERS)]
        for w in worlds:
            for u in users:
                await Timelines(w.stores).mark_active(u)
        posts: list = []

        async def check() -> None:
            for viewer in users:
                expected = await truth(primary.stores, viewer)
                for w in worlds:
                    got = await w.read_all(viewer, page=2)
                    assert got == expected, (w.settings.feed_strategy, ops)

        for a, b in sorted(initial_follows):
            await graph.create_follow(primary.stores, users[a], users[b])
        for w in worlds[1:]:
            for u in users:
                await graph.rebuild_graph_cache(w.stores, u)

        # Build every timeline first, so what follows tests incremental maintenance (fan-out,
        # merge, unmerge, removal), not a rebuild from MongoDB on first read.
        await check()

        async def everywhere(event: str, **payload) -> None:
            for w in worlds:
                await emit(event, w.deps, **payload)

        async def sync_graph(*changed) -> None:
            # The primary world's Redis was updated by the graph service; the others mirror
            # MongoDB the way a flushed cache would.
            for w in worlds[1:]:
                for u in changed:
                    await graph.rebuild_graph_cache(w.stores, u)

        for step in ops:
            kind = step[0]
            if kind == "post":
                author = users[step[1]]
                post_id = await factories.create_ready_post(
                    primary.stores, author, created_at=next_time()
                )
                posts.append(post_id)
                await everywhere("post.ready", post_id=post_id, author_id=author)
            elif kind == "delete" and posts:
                post_id = posts.pop(step[1] % len(posts))
                doc = await primary.stores.db.posts.find_one_and_delete({"_id": post_id})
                await everywhere("post.deleted", post_id=post_id, author_id=doc["author_id"])
            elif kind in ("follow", "unfollow", "block") and step[1] != step[2]:
                a, b = users[step[1]], users[step[2]]
                if kind == "follow":
                    if await graph.has_blocked(primary.stores, a, b) or await graph.has_blocked(
                        primary.stores, b, a
                    ):
                        continue
                    if await graph.create_follow(primary.stores, a, b):
                        await sync_graph(a, b)
                        await everywhere("user.followed", follower_id=a, followee_id=b)
                elif kind == "unfollow":
                    if await graph.remove_follow(primary.stores, a, b):
                        await sync_graph(a, b)
                        await everywhere("user.unfollowed", follower_id=a, followee_id=b)
                else:
                    await graph.create_block(primary.stores, a, b)
                    await graph.remove_follow(primary.stores, a, b)
                    await graph.remove_follow(primary.stores, b, a)
                    await sync_graph(a, b)
                    await everywhere("user.blocked", blocker_id=a, blocked_id=b)
            elif kind == "threshold":
                worlds[2].stores.settings.celebrity_follower_threshold = step[1]
            for w in worlds:
                await w.drain()
            await check()
    finally:
        for w in worlds:
            await w.close()
        for w in worlds:
            await drop_everything(w.settings)
