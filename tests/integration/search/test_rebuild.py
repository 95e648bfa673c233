"""The search indexes heal themselves: a lost index is rebuilt by the first query that finds
nothing, a rebuild swaps staging keys in and replays what changed meanwhile, and two rebuilds
never run at once."""

from __future__ import annotations

import asyncio

import pytest
from bson import ObjectId

from core.events import Deps, emit
from search import index, queries, rebuild
from tests.support.factories import create_ready_post, create_user


@pytest.fixture
def deps(app, stores) -> Deps:
    return Deps(stores, app.state.queue)


async def _user(deps: Deps, username: str, **kw) -> ObjectId:
    uid, _ = await create_user(deps.stores, username, **kw)
    await emit("user.registered", deps, user_id=uid)
    return uid


async def _names(stores, q: str) -> list[str]:
    page = await queries.search_users(stores, None, q, 20, None)
    return [d["username"] for d in page.items]


async def _flush_prefix(stores) -> None:
    """What a FLUSHALL does to this test's keys (the shared Redis is never flushed)."""
    found = [k async for k in stores.redis.scan_iter(match=stores.keys("*"), count=1000)]
    if found:
        await stores.redis.delete(*found)


async def test_after_a_flush_the_next_query_of_each_kind_rebuilds_the_index(deps, stores):
    author = await _user(deps, "heal_author", full_name="Healing Author")
    loc = {"id": ObjectId(), "name": "Plaza Mayor", "lat": 40.4155, "lng": -3.7074}
    post = await create_ready_post(stores, author, hashtags=["madrid"], location=loc)
    await emit("post.ready", deps, post_id=post, author_id=author)
    await index.rebuild_index(stores)

    async def answers():
        return [
            await _names(stores, "heal"),
            [h.name for h in (await queries.search_hashtags(stores, "mad", 5, None)).items],
            await queries.get_hashtag(stores, "madrid"),
            [h.name for h in (await queries.search_locations(stores, "plaza", 5, None)).items],
            [
                h.name
                for h in (
                    await queries.search_locations(stores, "", 5, None, lat=40.4, lng=-3.7)
                ).items
            ],
            [
                p["_id"]
                for p in (
                    await queries.hashtag_posts(stores, None, "madrid", "RECENT", 5, None)
                ).items
            ],
            [
                p["_id"]
                for p in (
                    await queries.location_posts(stores, None, loc["id"], "TOP", 5, None)
                ).items
            ],
            (await queries.get_location(stores, loc["id"])).post_count,
        ]

    before = await answers()
    assert before[0] == ["heal_author"] and before[-1] == 1
    for ask in range(len(before)):
        await _flush_prefix(stores)
        assert not await rebuild.is_built(stores)
        after = await answers()
        assert after[ask] == before[ask], ask
        assert after == before
        assert await rebuild.is_built(stores)


async def test_an_empty_answer_from_a_built_index_does_not_rebuild(deps, stores, monkeypatch):
    await _user(deps, "someone")
    await index.rebuild_index(stores)
    calls = []

    async def counting(stores_, **kw):
        calls.append(1)
        return {}

    monkeypatch.setattr(rebuild, "rebuild_index", counting)
    assert await _names(stores, "nobodyhere") == []
    assert calls == []


async def test_an_account_registered_during_a_rebuild_is_found_after_it(deps, stores, monkeypatch):
    for i in range(5):
        await _user(deps, f"early{i}")
    real_all_users = rebuild.all_users
    registered: list[ObjectId] = []

    async def users_with_a_registration_midway(stores_, projection, batch_size=5000):
        n = 0
        async for doc in real_all_users(stores_, projection, batch_size):
            yield doc
            n += 1
            if n == 2:  # the build has read its snapshot of users; an account arrives
                registered.append(await _user(deps, "latecomer", full_name="Arrived Midway"))

    monkeypatch.setattr(rebuild, "all_users", users_with_a_registration_midway)
    counts = await index.rebuild_index(stores)
    assert registered and counts["replayed"] >= 1
    assert await _names(stores, "latecomer") == ["latecomer"]
    assert await _names(stores, "arrived") == ["latecomer"]
    assert sorted(await _names(stores, "early")) == [f"early{i}" for i in range(5)]


async def test_concurrent_rebuilds_build_once_and_leave_a_whole_index(deps, stores, monkeypatch):
    for i in range(8):
        await _user(deps, f"twin{i}")
    builds = []
    real_bulk = index.bulk_index

    async def slow_bulk(*a, **kw):
        builds.append(1)
        await asyncio.sleep(0.3)  # long enough for the others to find the lock taken
        return await real_bulk(*a, **kw)

    monkeypatch.setattr(index, "bulk_index", slow_bulk)
    await _flush_prefix(stores)
    results = await asyncio.gather(
        index.rebuild_index(stores),
        index.rebuild_index(stores),
        queries.search_users(stores, None, "twin", 20, None),
    )
    assert len(builds) == 1
    assert results[1] == {"waited": 1}
    assert len(results[2].items) == 8
    assert not [k async for k in stores.redis.scan_iter(match=stores.keys("sxb", "*"))]
    assert not await stores.redis.exists(rebuild.lock_key(stores))


async def test_a_rebuild_drops_entries_mongodb_no_longer_has(deps, stores):
    gone = await _user(deps, "vanishing")
    await _user(deps, "staying")
    await stores.db.users.delete_one({"_id": gone})  # without the event that would unindex it
    await index.rebuild_index(stores)
    assert await _names(stores, "vanishing") == []
    assert await _names(stores, "staying") == ["staying"]
    assert not await stores.redis.exists(stores.keys("sx", "u", "t", gone))
