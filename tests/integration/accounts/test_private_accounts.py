from tests.integration.accounts.helpers import (
    APPROVE,
    FOLLOW,
    FOLLOWERS,
    FOLLOWING,
    REJECT,
    REQUESTS,
    UNFOLLOW,
    UPDATE,
    USER,
    page_all,
    register,
)
from tests.support.factories import create_ready_post


async def _private(gql, name: str):
    acct = await register(gql, name)
    (await gql(UPDATE, {"input": {"isPrivate": True}}, token=acct.token)).ok()
    return acct


async def test_following_a_private_account_creates_a_request_the_owner_answers(gql, stores):
    owner = await _private(gql, "priv")
    a, b, c = [await register(gql, n) for n in ("ra", "rb", "rc")]
    for acct in (a, b, c, a):
        body = await gql(FOLLOW, {"id": owner.id}, token=acct.token)
        assert body.ok()["follow"]["status"] == "REQUESTED"
    assert await stores.db.follow_requests.count_documents({}) == 3
    assert await stores.db.follows.count_documents({}) == 0
    seen = (await gql(USER, {"id": owner.id}, token=a.token)).ok()["user"]
    assert seen["viewerHasRequested"] is True and seen["isFollowedByViewer"] is False

    assert await page_all(gql, REQUESTS, owner.id, owner.token) == ["rc", "rb", "ra"]
    refused = await gql(REQUESTS, {"id": owner.id}, token=a.token)
    assert refused.codes == ["FORBIDDEN"]
    assert (await gql(REQUESTS, {"id": owner.id})).codes == ["UNAUTHENTICATED"]

    assert (await gql(APPROVE, {"id": a.id}, token=owner.token)).ok()
    assert (await gql(REJECT, {"id": b.id}, token=owner.token)).ok()
    assert (await gql(REJECT, {"id": b.id}, token=owner.token)).ok()  # idempotent
    again = await gql(APPROVE, {"id": b.id}, token=owner.token)
    assert again.codes == ["NOT_FOUND"]
    assert await page_all(gql, REQUESTS, owner.id, owner.token) == ["rc"]
    me = (await gql(USER, {"id": owner.id}, token=a.token)).ok()["user"]
    assert me["isFollowedByViewer"] is True and me["followerCount"] == 1
    assert (await gql(FOLLOW, {"id": owner.id}, token=a.token)).ok()["follow"]["status"] == (
        "FOLLOWING"
    )
    # Withdrawing a request is an unfollow.
    await gql(UNFOLLOW, {"id": owner.id}, token=c.token)
    assert await page_all(gql, REQUESTS, owner.id, owner.token) == []


async def test_private_lists_and_posts_are_refused_to_non_followers(gql, stores):
    owner = await _private(gql, "hidden")
    friend, stranger, followed = [await register(gql, n) for n in ("friend", "stranger", "pal")]
    await gql(FOLLOW, {"id": owner.id}, token=friend.token)
    await gql(APPROVE, {"id": friend.id}, token=owner.token)
    await gql(FOLLOW, {"id": followed.id}, token=owner.token)
    await create_ready_post(stores, owner.oid, caption="secret")

    for query in (FOLLOWERS, FOLLOWING):
        for token in (stranger.token, None):
            body = await gql(query, {"id": owner.id}, token=token)
            assert body.codes == ["FORBIDDEN"]
            # The profile itself (and its counts) stays visible; only the list is refused.
            assert body.data["user"]["followers" if query is FOLLOWERS else "following"] is None
    assert await page_all(gql, FOLLOWERS, owner.id, friend.token) == ["friend"]
    assert await page_all(gql, FOLLOWING, owner.id, friend.token) == ["pal"]
    assert await page_all(gql, FOLLOWERS, owner.id, owner.token) == ["friend"]
    profile = (await gql(USER, {"id": owner.id}, token=stranger.token)).ok()["user"]
    assert profile["followerCount"] == 1 and profile["isPrivate"] is True
    can = "query($id: ID!) { user(id: $id) { viewerCanSeeContent } }"
    assert (await gql(can, {"id": owner.id}, token=stranger.token)).ok()["user"] == {
        "viewerCanSeeContent": False
    }
    assert (await gql(can, {"id": owner.id}, token=friend.token)).ok()["user"] == {
        "viewerCanSeeContent": True
    }
    await _posts_paths_refused(gql, stores, owner, stranger, friend)


async def _posts_paths_refused(gql, stores, owner, stranger, friend) -> None:
    """Every path to the private account's posts that exists in the schema at the time."""
    fields = await gql('{ __type(name: "User") { fields { name } } }')
    names = {f["name"] for f in fields.ok()["__type"]["fields"]}
    if "posts" in names:
        q = "query($id: ID!) { user(id: $id) { posts(first: 10) { edges { node { id } } } } }"
        for token in (stranger.token, None):
            body = await gql(q, {"id": owner.id}, token=token)
            posts = (body.data or {}).get("user") or {}
            assert body.codes == ["FORBIDDEN"] or (posts.get("posts") or {}).get("edges") == []
        body = await gql(q, {"id": owner.id}, token=friend.token)
        assert len(body.ok()["user"]["posts"]["edges"]) == 1
    query_fields = await gql('{ __type(name: "Query") { fields { name } } }')
    if "post" in {f["name"] for f in query_fields.ok()["__type"]["fields"]}:
        from core.ids import to_global_id

        post = await stores.db.posts.find_one({"author_id": owner.oid})
        q = "query($id: ID!) { post(id: $id) { id } }"
        gid = to_global_id("Post", post["_id"])
        for token in (stranger.token, None):
            body = await gql(q, {"id": gid}, token=token)
            assert (body.data or {}).get("post") is None
        assert (await gql(q, {"id": gid}, token=friend.token)).ok()["post"]["id"] == gid


async def test_turning_public_approves_pending_requests(gql, stores):
    owner = await _private(gql, "opening")
    a = await register(gql, "waiter")
    await gql(FOLLOW, {"id": owner.id}, token=a.token)
    body = await gql(UPDATE, {"input": {"isPrivate": False}}, token=owner.token)
    assert body.ok()["updateProfile"]["isPrivate"] is False
    assert await stores.db.follow_requests.count_documents({}) == 0
    assert await page_all(gql, FOLLOWERS, owner.id, a.token) == ["waiter"]
    doc = await stores.db.users.find_one({"_id": owner.oid})
    assert doc["follower_count"] == 1


async def test_privacy_change_emits_an_event(gql):
    from tests.integration.accounts.test_follow_graph import Recorder

    acct = await register(gql, "eventful")
    with Recorder("user.privacy_changed") as rec:
        await gql(UPDATE, {"input": {"isPrivate": True}}, token=acct.token)
        await gql(UPDATE, {"input": {"isPrivate": True}}, token=acct.token)
    assert rec.seen == [("user.privacy_changed", {"user_id": acct.oid, "is_private": True})]


async def test_racing_approvals_of_one_request_count_once(gql, stores):
    import asyncio

    owner = await _private(gql, "busyowner")
    fan = await register(gql, "keen")
    await gql(FOLLOW, {"id": owner.id}, token=fan.token)
    results = await asyncio.gather(
        *(gql(APPROVE, {"id": fan.id}, token=owner.token) for _ in range(8))
    )
    assert all(not r.errors for r in results)
    assert await stores.db.follows.count_documents({}) == 1
    doc = await stores.db.users.find_one({"_id": owner.oid})
    assert doc["follower_count"] == 1
