from bson import ObjectId

from core.ids import to_global_id
from services.visibility import can_see_content, visible_owner_ids
from tests.integration.accounts.helpers import (
    BLOCK,
    FOLLOW,
    FOLLOWERS,
    FOLLOWING,
    UNBLOCK,
    UPDATE,
    USER,
    page_all,
    register,
)
from tests.integration.accounts.test_follow_graph import Recorder


async def test_block_removes_follows_and_requests_both_ways(gql, stores):
    a, b = await register(gql, "blocker"), await register(gql, "blockee")
    await gql(FOLLOW, {"id": b.id}, token=a.token)
    await gql(FOLLOW, {"id": a.id}, token=b.token)
    (await gql(UPDATE, {"input": {"isPrivate": True}}, token=a.token)).ok()
    c = await register(gql, "bystander")
    await gql(FOLLOW, {"id": a.id}, token=c.token)  # a request, unaffected by the block
    with Recorder("user.blocked", "user.unfollowed") as rec:
        body = await gql(BLOCK, {"id": b.id}, token=a.token)
        assert body.ok()["block"] == {"id": b.id, "isBlockedByViewer": True}
        await gql(BLOCK, {"id": b.id}, token=a.token)  # idempotent
    assert sorted(n for n, _ in rec.seen) == ["user.blocked", "user.unfollowed", "user.unfollowed"]
    assert await stores.db.follows.count_documents({}) == 0
    assert await stores.db.blocks.count_documents({}) == 1
    assert await stores.db.follow_requests.count_documents({}) == 1
    docs = {d["_id"]: d async for d in stores.db.users.find({})}
    for oid in (a.oid, b.oid):
        assert docs[oid]["follower_count"] == docs[oid]["following_count"] == 0
    assert await stores.redis.zcard(stores.keys("followers", a.oid)) == 0


async def test_blocked_users_cannot_follow_or_see_each_other(gql, stores):
    a, b = await register(gql, "quiet"), await register(gql, "loud")
    await gql(BLOCK, {"id": b.id}, token=a.token)
    # The blocked side can neither follow nor find the blocker.
    assert (await gql(FOLLOW, {"id": a.id}, token=b.token)).codes == ["FORBIDDEN"]
    assert (await gql(USER, {"id": a.id}, token=b.token)).codes == ["NOT_FOUND"]
    assert (await gql(USER, {"username": "quiet"}, token=b.token)).codes == ["NOT_FOUND"]
    node = "query($id: ID!) { node(id: $id) { id } }"
    assert (await gql(node, {"id": a.id}, token=b.token)).ok() == {"node": None}
    # The blocker still sees the profile (to unblock) but not the content, and cannot follow.
    assert (await gql(USER, {"id": b.id}, token=a.token)).ok()["user"]["isBlockedByViewer"]
    assert (await gql(FOLLOW, {"id": b.id}, token=a.token)).codes == ["FORBIDDEN"]
    for query in (FOLLOWERS, FOLLOWING):
        assert (await gql(query, {"id": a.id}, token=b.token)).codes == ["NOT_FOUND"]
        assert (await gql(query, {"id": b.id}, token=a.token)).codes == ["FORBIDDEN"]
    assert await stores.db.follows.count_documents({}) == 0

    docs = {d["_id"]: d async for d in stores.db.users.find({})}
    assert not await can_see_content(stores, a.oid, docs[b.oid])
    assert not await can_see_content(stores, b.oid, docs[a.oid])
    assert await visible_owner_ids(stores, b.oid, docs.values()) == {b.oid}

    await gql(UNBLOCK, {"id": b.id}, token=a.token)
    await gql(UNBLOCK, {"id": b.id}, token=a.token)
    assert (await gql(FOLLOW, {"id": a.id}, token=b.token)).ok()["follow"]["status"] == (
        "FOLLOWING"
    )
    assert await page_all(gql, FOLLOWERS, a.id, b.token) == ["loud"]


async def test_mutual_blocks_and_the_block_set_rebuild(gql, stores):
    a, b = await register(gql, "one"), await register(gql, "two")
    await gql(BLOCK, {"id": b.id}, token=a.token)
    await gql(BLOCK, {"id": a.id}, token=b.token)
    await gql(UNBLOCK, {"id": b.id}, token=a.token)
    # b still blocks a: the pair stays hidden from each other.
    assert (await gql(FOLLOW, {"id": b.id}, token=a.token)).codes == ["FORBIDDEN"]
    # Redis lost: the block set comes back from MongoDB.
    await stores.redis.delete(stores.keys("blockrel", a.oid))
    assert (await gql(FOLLOW, {"id": b.id}, token=a.token)).codes == ["FORBIDDEN"]


async def test_block_bad_inputs(gql):
    a = await register(gql, "solo")
    assert (await gql(BLOCK, {"id": a.id}, token=a.token)).codes == ["BAD_USER_INPUT"]
    ghost = to_global_id("User", ObjectId())
    assert (await gql(BLOCK, {"id": ghost}, token=a.token)).codes == ["NOT_FOUND"]
    assert (await gql(BLOCK, {"id": a.id})).codes == ["UNAUTHENTICATED"]


async def test_visible_owner_ids_for_anonymous_and_private(gql, stores):
    pub, priv, viewer = [await register(gql, n) for n in ("pub", "privy", "viewer")]
    await gql(UPDATE, {"input": {"isPrivate": True}}, token=priv.token)
    docs = {d["_id"]: d async for d in stores.db.users.find({})}
    assert await visible_owner_ids(stores, None, docs.values()) == {pub.oid, viewer.oid}
    assert await visible_owner_ids(stores, viewer.oid, docs.values()) == {pub.oid, viewer.oid}
    await gql(FOLLOW, {"id": priv.id}, token=viewer.token)
    await gql(
        "mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }",
        {"id": viewer.id},
        token=priv.token,
    )
    docs = {d["_id"]: d async for d in stores.db.users.find({})}
    assert await visible_owner_ids(stores, viewer.oid, docs.values()) == set(docs)


async def test_follows_racing_a_block_leave_no_edge(gql, stores):
    import asyncio

    a, b = await register(gql, "racea"), await register(gql, "raceb")
    results = await asyncio.gather(
        gql(FOLLOW, {"id": a.id}, token=b.token),
        gql(BLOCK, {"id": b.id}, token=a.token),
        gql(FOLLOW, {"id": b.id}, token=a.token),
        gql(FOLLOW, {"id": a.id}, token=b.token),
    )
    assert all(r.codes in ([], ["FORBIDDEN"]) for r in results)
    assert await stores.db.follows.count_documents({}) == 0
    docs = {d["_id"]: d async for d in stores.db.users.find({})}
    assert all(d["follower_count"] == d["following_count"] == 0 for d in docs.values())


async def test_a_profile_view_asks_mongodb_about_blocks_only_for_a_pair_with_one(counted):
    """`user(username:)` checks whether the owner blocked the viewer. The viewer's block set
    in Redis answers for everyone else; a pair in it is read from MongoDB, which also tells the
    direction (the blocker still sees the blocked user's profile, to unblock)."""
    application, gql, mongo, _ = counted
    owner = await register(gql, "owner")
    fan = await register(gql, "fan")
    other = await register(gql, "other")
    by_name = "query($u: String!) { user(username: $u) { id } }"
    assert (await gql(by_name, {"u": "owner"}, token=fan.token)).ok()  # builds fan's block set
    mongo.reset()
    assert (await gql(by_name, {"u": "owner"}, token=fan.token)).ok()["user"]["id"] == owner.id
    assert mongo.commands.get("find", 0) == 0, mongo.commands

    await gql(BLOCK, {"id": fan.id}, token=owner.token)
    assert (await gql(by_name, {"u": "owner"}, token=fan.token)).codes == ["NOT_FOUND"]
    for _ in range(2):  # the second view is counted: the first builds owner's set
        mongo.reset()
        assert (await gql(by_name, {"u": "fan"}, token=owner.token)).ok()["user"]["id"] == fan.id
    assert mongo.commands.get("find", 0) == 1, mongo.commands  # the pair is in the set
    # Redis lost the set: it is rebuilt, and the block still holds.
    await application.state.stores.redis.delete(application.state.stores.keys("blockrel", fan.oid))
    assert (await gql(by_name, {"u": "owner"}, token=fan.token)).codes == ["NOT_FOUND"]
    assert (await gql(by_name, {"u": "owner"}, token=other.token)).ok()["user"]["id"] == owner.id
