import asyncio

from bson import ObjectId

from core import events
from core.ids import to_global_id
from datastore import graph
from tests.integration.accounts.helpers import (
    FOLLOW,
    FOLLOWERS,
    FOLLOWING,
    UNFOLLOW,
    USER,
    page_all,
    register,
)
from tests.support.factories import create_user


class Recorder:
    """Collects domain events for one test (handlers are removed afterwards)."""

    def __init__(self, *names: str) -> None:
        self.names = names
        self.seen: list[tuple[str, dict]] = []
        self._fns = []

    def __enter__(self) -> "Recorder":
        for name in self.names:

            async def fn(deps, _name=name, **payload):
                self.seen.append((_name, payload))

            events.on(name)(fn)
            self._fns.append((name, fn))
        return self

    def __exit__(self, *exc) -> None:
        for name, fn in self._fns:
            events._HANDLERS[name].remove(fn)


async def test_follow_and_unfollow_are_idempotent_and_counted(gql, stores):
    a = await register(gql, "ann")
    b = await register(gql, "ben")
    with Recorder("user.followed", "user.unfollowed") as rec:
        for _ in range(3):
            body = await gql(FOLLOW, {"id": b.id}, token=a.token)
            assert body.ok()["follow"] == {
                "status": "FOLLOWING",
                "user": {"id": b.id, "followerCount": 1},
            }
        seen = (await gql(USER, {"id": b.id}, token=a.token)).ok()["user"]
        assert seen["isFollowedByViewer"] is True and seen["followsViewer"] is False
        back = (await gql(USER, {"id": a.id}, token=b.token)).ok()["user"]
        assert back["followsViewer"] is True and back["followingCount"] == 1
        for _ in range(2):
            body = await gql(UNFOLLOW, {"id": b.id}, token=a.token)
            assert body.ok()["unfollow"]["followerCount"] == 0
    assert rec.seen == [
        ("user.followed", {"follower_id": a.oid, "followee_id": b.oid}),
        ("user.unfollowed", {"follower_id": a.oid, "followee_id": b.oid}),
    ]
    assert await stores.db.follows.count_documents({}) == 0
    docs = {d["_id"]: d async for d in stores.db.users.find({})}
    assert docs[a.oid]["following_count"] == 0 and docs[b.oid]["follower_count"] == 0


async def test_self_follow_unknown_user_and_bad_ids_are_refused(gql, stores):
    a = await register(gql, "cat")
    assert (await gql(FOLLOW, {"id": a.id}, token=a.token)).codes == ["BAD_USER_INPUT"]
    ghost = to_global_id("User", ObjectId())
    assert (await gql(FOLLOW, {"id": ghost}, token=a.token)).codes == ["NOT_FOUND"]
    assert (await gql(FOLLOW, {"id": "%%%"}, token=a.token)).codes == ["BAD_USER_INPUT"]
    post_id = to_global_id("Post", ObjectId())
    assert (await gql(FOLLOW, {"id": post_id}, token=a.token)).codes == ["BAD_USER_INPUT"]
    assert (await gql(FOLLOW, {"id": a.id})).codes == ["UNAUTHENTICATED"]
    assert await stores.db.follows.count_documents({}) == 0
    doc = await stores.db.users.find_one({"_id": a.oid})
    assert doc["following_count"] == doc["follower_count"] == 0


async def test_user_lookup_by_id_or_username(gql):
    a = await register(gql, "Dora.X")
    by_name = await gql(USER, {"username": "dora.x"})
    assert by_name.ok()["user"]["id"] == a.id
    by_id = await gql(USER, {"id": a.id})
    assert by_id.ok()["user"]["username"] == "Dora.X"
    assert (await gql(USER, {"username": "nobody"})).codes == ["NOT_FOUND"]
    assert (await gql(USER, {"id": to_global_id("User", ObjectId())})).codes == ["NOT_FOUND"]
    assert (await gql(USER, {})).codes == ["BAD_USER_INPUT"]
    assert (await gql(USER, {"id": a.id, "username": "dora.x"})).codes == ["BAD_USER_INPUT"]


async def test_lists_are_newest_first_and_stable_while_the_graph_changes(gql, stores):
    star = await register(gql, "star")
    fans = [await register(gql, f"fan{i}") for i in range(7)]
    for fan in fans:
        (await gql(FOLLOW, {"id": star.id}, token=fan.token)).ok()
        await gql(FOLLOW, {"id": fans[0].id}, token=star.token) if fan is fans[0] else None
    names = await page_all(gql, FOLLOWERS, star.id, star.token, first=2)
    assert names == [f"fan{i}" for i in reversed(range(7))]

    # Page through while others follow and unfollow: no repeats, no skips of rows that
    # stayed, and new follows (newer than the cursor) do not shift later pages.
    first = (await gql(FOLLOWERS, {"id": star.id, "first": 3}, token=star.token)).ok()
    conn = first["user"]["followers"]
    seen = [e["node"]["username"] for e in conn["edges"]]
    assert seen == ["fan6", "fan5", "fan4"]
    late = await register(gql, "latecomer")
    await gql(FOLLOW, {"id": star.id}, token=late.token)
    await gql(UNFOLLOW, {"id": star.id}, token=fans[4].token)  # already paged past
    await gql(UNFOLLOW, {"id": star.id}, token=fans[2].token)  # not yet reached
    rest = await gql(
        FOLLOWERS,
        {"id": star.id, "first": 50, "after": conn["pageInfo"]["endCursor"]},
        token=star.token,
    )
    assert [e["node"]["username"] for e in rest.ok()["user"]["followers"]["edges"]] == [
        "fan3",
        "fan1",
        "fan0",
    ]
    following = await page_all(gql, FOLLOWING, fans[3].id, star.token)
    assert following == ["star"]


async def test_equal_follow_times_page_without_repeats(stores, gql):
    # Many follows in the same millisecond share a score; the (score, id) cursor splits them.
    owner, token = await create_user(stores, "owner")
    when = graph.now_ms_precision()
    ids = []
    for i in range(9):
        uid, _ = await create_user(stores, f"same{i}")
        await graph.create_follow(stores, uid, owner, now=when)
        ids.append(uid)
    names = await page_all(gql, FOLLOWERS, to_global_id("User", owner), token, first=2)
    assert sorted(names) == sorted(f"same{i}" for i in range(9))
    assert len(names) == 9


async def test_cursor_checks(gql, stores):
    a = await register(gql, "eve")
    other = (await gql(FOLLOWING, {"id": a.id, "first": 1}, token=a.token)).ok()
    assert other["user"]["following"]["edges"] == []
    bad = await gql(FOLLOWERS, {"id": a.id, "after": "garbage"}, token=a.token)
    assert bad.codes == ["BAD_USER_INPUT"]
    too_many = await gql(FOLLOWERS, {"id": a.id, "first": 51}, token=a.token)
    assert too_many.codes == ["BAD_USER_INPUT"]


async def test_zsets_are_rebuilt_from_mongodb_when_lost_or_drifted(gql, stores):
    star = await register(gql, "rebuilt")
    fans = [await register(gql, f"r{i}") for i in range(4)]
    for fan in fans:
        await gql(FOLLOW, {"id": star.id}, token=fan.token)
    await stores.redis.delete(stores.keys("followers", star.oid))
    await stores.redis.zadd(stores.keys("following", fans[0].oid), {str(ObjectId()): 1})
    names = await page_all(gql, FOLLOWERS, star.id, star.token)
    assert names == ["r3", "r2", "r1", "r0"]
    assert await graph.following_ids(stores, fans[0].oid) == [star.oid]
    assert set(await graph.follower_ids(stores, star.oid)) == {f.oid for f in fans}
    await stores.redis.delete(stores.keys("followers", star.oid))
    await graph.rebuild_graph_cache(stores, star.oid)
    assert await stores.redis.zcard(stores.keys("followers", star.oid)) == 4


async def test_200_concurrent_follow_and_unfollow_keep_counters_exact(gql, stores):
    target, _ = await create_user(stores, "celebrity")
    target_gid = to_global_id("User", target)
    users = [await create_user(stores, f"c{i:03d}") for i in range(200)]
    # Half already follow; then 100 of them unfollow and the other 100 follow, all at once,
    # plus a duplicate follow from some followers to exercise idempotency under the race.
    for uid, _ in users[:100]:
        await graph.create_follow(stores, uid, target)
    calls = [gql(UNFOLLOW, {"id": target_gid}, token=tok) for _, tok in users[:100]]
    calls += [gql(FOLLOW, {"id": target_gid}, token=tok) for _, tok in users[100:]]
    calls += [gql(FOLLOW, {"id": target_gid}, token=tok) for _, tok in users[150:170]]
    results = await asyncio.gather(*calls)
    assert all(not r.errors for r in results), [r.errors for r in results if r.errors][:3]

    edges = await stores.db.follows.count_documents({"followee_id": target})
    doc = await stores.db.users.find_one({"_id": target})
    assert edges == 100
    assert doc["follower_count"] == edges
    assert await stores.redis.zcard(stores.keys("followers", target)) == edges
    counts = {
        d["_id"]: d["following_count"] async for d in stores.db.users.find({"_id": {"$ne": target}})
    }
    assert all(counts[uid] == 0 for uid, _ in users[:100])
    assert all(counts[uid] == 1 for uid, _ in users[100:])
    body = await gql(USER, {"id": target_gid})
    assert body.ok()["user"]["followerCount"] == 100
