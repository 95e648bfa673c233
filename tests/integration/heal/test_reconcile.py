"""Counters converge on their edges: a crash between an edge write and its counter leaves a
dirty mark the reconciler repairs; writes made without marks (Redis down) are found by the
sweep; the reconciler racing live likes never leaves a wrong count behind."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from bson import ObjectId

from datastore import comments, dirty, graph, hashtags, likes, shares
from datastore.post_counters import add_to_post_counters
from maintenance import reconcile
from services.like_post import like_post
from tests.integration.interactions.helpers import deps_of, many_users
from tests.support.factories import create_ready_post, create_user


async def _post(stores, author) -> dict:
    return await stores.db.posts.find_one({"_id": await create_ready_post(stores, author)})


async def _counts(stores, collection, _id, fields) -> dict[str, int]:
    doc = await stores.db[collection].find_one({"_id": _id})
    return {f: doc.get(f, 0) for f in fields}


async def _settle(stores, passes: int = 4) -> None:
    """Reconcile with no grace period until no mark is left (bounded)."""
    for _ in range(passes):
        await reconcile.reconcile_dirty(stores, grace_seconds=0)
        if not any([await dirty.count(stores, k) for k in dirty.KINDS]):
            return
    raise AssertionError("dirty marks left after reconciling")


async def test_edges_written_without_their_counters_are_recounted(app, stores, monkeypatch):
    author, _ = await create_user(stores, "author")
    fans = [u for u, _ in await many_users(stores, "fan", 3)]
    post = await _post(stores, author)
    pid = post["_id"]
    now = datetime.now(UTC)
    # The crash: each repository's edge write happened, the counter update after it did not.
    for fan in fans:
        assert await likes.insert_like(stores, pid, fan, now)
    await comments.insert_comment(stores, comments.new_comment(pid, fans[0], "hi", None, now))
    assert await shares.insert_share(stores, pid, fans[0], fans[1], now)
    assert await add_to_post_counters(stores, pid, {"like_count": 1})  # one like did count

    async def crash(*_a, **_kw):
        raise ConnectionError("killed between the edge and its counters")

    monkeypatch.setattr(graph, "move_counters", crash)
    with pytest.raises(ConnectionError):
        await graph.create_follow(stores, fans[2], author)
    monkeypatch.undo()

    fields = ("like_count", "comment_count", "share_count")
    assert await _counts(stores, "posts", pid, fields) == dict(zip(fields, (1, 0, 0), strict=True))
    # Within the grace period a write may still be finishing: nothing is touched.
    assert await reconcile.reconcile_dirty(stores) == dict.fromkeys(dirty.KINDS, 0)

    fixed = await reconcile.reconcile_dirty(stores, grace_seconds=0)
    assert fixed == {"posts": 1, "users": 2, "hashtags": 0, "locations": 0}
    assert await _counts(stores, "posts", pid, fields) == dict(zip(fields, (3, 1, 1), strict=True))
    assert await _counts(stores, "users", author, ["follower_count"]) == {"follower_count": 1}
    assert await _counts(stores, "users", fans[2], ["following_count"]) == {"following_count": 1}
    # The repaired documents are looked at once more, then their marks go.
    await _settle(stores)
    assert await _counts(stores, "posts", pid, fields) == dict(zip(fields, (3, 1, 1), strict=True))


async def test_writes_made_without_marks_are_found_by_the_sweep(app, stores):
    """Redis down: the writes commit to MongoDB with no dirty mark."""
    author, _ = await create_user(stores, "author")
    fan, _ = await create_user(stores, "fan")
    post = await _post(stores, author)
    now = datetime.now(UTC)
    loc = {"id": ObjectId(), "name": "Somewhere", "lat": None, "lng": None}
    await stores.db.locations.insert_one({"_id": loc["id"], "name": "Somewhere", "post_count": 0})
    await hashtags.add_to_count(stores, ["sunset"], 1)
    await hashtags.add_to_count(stores, ["sunset"], -1)  # the tag exists, counting 0
    await stores.db.likes.insert_one({"post_id": post["_id"], "user_id": fan, "created_at": now})
    await stores.db.follows.insert_one(
        {"_id": graph.pair_id("follow", fan, author), "follower_id": fan, "followee_id": author}
        | {"created_at": now}
    )
    unmarked = await create_ready_post(stores, author, hashtags=["sunset", "sunrise"], location=loc)
    await stores.db.users.update_one({"_id": author}, {"$inc": {"post_count": -1}})
    for kind in dirty.KINDS:
        await stores.redis.delete(dirty.dirty_key(stores, kind))

    assert await reconcile.reconcile_dirty(stores, grace_seconds=0) == dict.fromkeys(dirty.KINDS, 0)
    assert await reconcile.sweep_recent(stores) >= 5
    fixed = await reconcile.reconcile_dirty(stores, grace_seconds=0)
    # "sunrise" was never counted: its first use's upsert is what the crash skipped.
    assert fixed == {"posts": 1, "users": 2, "hashtags": 2, "locations": 1}
    assert (await stores.db.posts.find_one({"_id": post["_id"]}))["like_count"] == 1
    user = await stores.db.users.find_one({"_id": author})
    assert (user["follower_count"], user["post_count"]) == (1, 2)
    assert (await stores.db.hashtags.find_one({"_id": "sunset"}))["post_count"] == 1
    assert (await stores.db.hashtags.find_one({"_id": "sunrise"}))["post_count"] == 1
    assert (await stores.db.locations.find_one({"_id": loc["id"]}))["post_count"] == 1
    assert unmarked


async def test_the_slow_pass_reaches_counters_no_mark_names(app, stores):
    author, _ = await create_user(stores, "author")
    posts = [await _post(stores, author) for _ in range(5)]
    await stores.db.posts.update_many({}, {"$set": {"like_count": 7}})
    total = {"posts": 0}
    for _ in range(3):
        fixed = await reconcile.slow_pass(stores, batch=2)
        total["posts"] += fixed["posts"]
    assert total["posts"] == 5
    assert {p["like_count"] async for p in stores.db.posts.find({})} == {0}
    assert posts


async def test_a_recount_never_overwrites_a_concurrent_increment(app, stores, monkeypatch):
    """Compare-and-set: two likes commit (edge and $inc) between the recount and the write of
    it; the stale recount must not replace the counter they moved."""
    author, _ = await create_user(stores, "author")
    fans = [u for u, _ in await many_users(stores, "fan", 4)]
    pid = (await _post(stores, author))["_id"]
    now = datetime.now(UTC)
    await likes.insert_like(stores, pid, fans[0], now)  # crashed: no counter
    real_truth = reconcile.truth

    async def truth_then_two_likes(stores_, kind, _id):
        counted = await real_truth(stores_, kind, _id)
        if kind == "posts":
            for fan in fans[1:3]:
                await stores.db.likes.insert_one(
                    {"post_id": pid, "user_id": fan, "created_at": now}
                )
                await add_to_post_counters(stores, pid, {"like_count": 1})
        return counted

    monkeypatch.setattr(reconcile, "truth", truth_then_two_likes)
    await reconcile.reconcile_dirty(stores, grace_seconds=0)
    monkeypatch.undo()
    assert (await stores.db.posts.find_one({"_id": pid}))["like_count"] == 2  # not the stale 1
    await _settle(stores)
    assert (await stores.db.posts.find_one({"_id": pid}))["like_count"] == 3


async def test_an_increment_landing_after_a_repair_is_caught_by_the_recheck(
    app, stores, monkeypatch
):
    """A like whose edge the recount saw but whose $inc lands just after the repair (a write
    slower than the grace period) leaves the count one high, until the re-check."""
    author, _ = await create_user(stores, "author")
    fans = [u for u, _ in await many_users(stores, "fan", 2)]
    pid = (await _post(stores, author))["_id"]
    now = datetime.now(UTC)
    await likes.insert_like(stores, pid, fans[0], now)  # crashed: no counter
    real_truth, real_remark = reconcile.truth, dirty.remark

    async def truth_with_an_edge_in_flight(stores_, kind, _id):
        if kind == "posts":
            await stores.db.likes.insert_one(
                {"post_id": pid, "user_id": fans[1], "created_at": now}
            )
        return await real_truth(stores_, kind, _id)

    async def remark_then_the_late_inc(stores_, kind, member):
        await real_remark(stores_, kind, member)
        await add_to_post_counters(stores, pid, {"like_count": 1})

    monkeypatch.setattr(reconcile, "truth", truth_with_an_edge_in_flight)
    monkeypatch.setattr(dirty, "remark", remark_then_the_late_inc)
    await reconcile.reconcile_dirty(stores, grace_seconds=0)
    monkeypatch.undo()
    assert (await stores.db.posts.find_one({"_id": pid}))["like_count"] == 3  # 2 edges: one high
    await _settle(stores)
    assert (await stores.db.posts.find_one({"_id": pid}))["like_count"] == 2


async def test_reconciling_while_likes_arrive_leaves_the_exact_count(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    pid = (await _post(stores, author))["_id"]
    fans = await many_users(stores, "fan", 40)
    await likes.insert_like(stores, pid, author, datetime.now(UTC))  # one crashed like
    done = asyncio.Event()

    async def reconcile_until_done():
        while not done.is_set():
            await reconcile.reconcile_dirty(stores, grace_seconds=0)
            await asyncio.sleep(0)

    async def burst():
        await asyncio.gather(*(like_post(deps, uid, pid) for uid, _ in fans))
        done.set()

    await asyncio.gather(reconcile_until_done(), burst())
    await _settle(stores)
    edges = await stores.db.likes.count_documents({"post_id": pid})
    assert edges == 41
    assert (await stores.db.posts.find_one({"_id": pid}))["like_count"] == edges
