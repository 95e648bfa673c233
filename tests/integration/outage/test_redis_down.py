"""Redis is a cache: while it is down, what MongoDB can answer is served from it and flagged in
`extensions`, writes that need Redis only for derived state commit to MongoDB, visibility
checks read MongoDB (never fail open), and what truly needs Redis (search, the login limit)
answers SERVICE_UNAVAILABLE."""

from __future__ import annotations

import time

from core.ids import to_global_id
from tests.integration.outage.support import closed_port_url, private_redis, running
from tests.support import factories

POST = """query($id: ID!) { post(id: $id) { id caption likeCount commentCount viewerHasLiked
  author { username } comments(first: 10) { nodes { text } } } }"""
PROFILE = """query($name: String!) { user(username: $name) { username followerCount
  isFollowedByViewer viewerCanSeeContent posts(first: 10) { nodes { caption } } } }"""
RANKED = "query { feed(first: 10, order: RANKED) { nodes { caption } pageInfo { hasNextPage } } }"
NOTIFICATIONS = "query { notifications(first: 5) { nodes { type } } unreadNotificationCount }"
LIKE = "mutation($id: ID!) { likePost(postId: $id) { likeCount viewerHasLiked } }"
COMMENT = 'mutation($id: ID!) { addComment(input: {postId: $id, text: "still here"}) { text } }'
FOLLOW = "mutation($id: ID!) { follow(userId: $id) { status } }"


async def _world(stores):
    """author (public) with two posts and a comment, viewer following author; a private
    account the viewer does not follow; an account that blocked the viewer."""
    author, author_token = await factories.create_user(stores, "author")
    viewer, token = await factories.create_user(stores, "viewer")
    private, _ = await factories.create_user(stores, "private", is_private=True)
    blocker, _ = await factories.create_user(stores, "blocker")
    await factories.follow(stores, viewer, author)
    first = await factories.create_ready_post(stores, author, caption="first")
    second = await factories.create_ready_post(stores, author, caption="second")
    hidden = await factories.create_ready_post(stores, private, caption="private")
    blocked = await factories.create_ready_post(stores, blocker, caption="blocked")
    from datastore import graph

    await graph.create_block(stores, blocker, viewer)
    return {
        "author": author,
        "author_token": author_token,
        "viewer": viewer,
        "token": token,
        "private": private,
        "blocker": blocker,
        "first": first,
        "second": second,
        "hidden": hidden,
        "blocked": blocked,
    }


def _gid(kind: str, oid) -> dict:
    return {"id": to_global_id(kind, oid)}


async def test_reads_come_from_mongodb_and_say_so(settings, stores):
    w = await _world(stores)
    from datastore import comments

    await comments.insert_comment(
        stores, comments.new_comment(w["first"], w["viewer"], "nice", None, _now())
    )
    dead = settings.model_copy(update={"redis_url": closed_port_url()})
    async with running(dead) as (_, gql, _http):
        start = time.monotonic()
        post = await gql(POST, _gid("Post", w["first"]), token=w["token"])
        profile = await gql(PROFILE, {"name": "author"}, token=w["token"])
        ranked = await gql(RANKED, token=w["token"])
        notes = await gql(NOTIFICATIONS, token=w["token"])
        took = time.monotonic() - start
    assert took < 5, took
    got = post.ok()["post"]
    assert (got["caption"], got["author"]["username"]) == ("first", "author")
    assert [c["text"] for c in got["comments"]["nodes"]] == ["nice"]
    assert post["extensions"]["degraded"]["source"] == "mongodb"
    assert "comments" in post["extensions"]["degraded"]["reads"]
    user = profile.ok()["user"]
    assert user["isFollowedByViewer"] and user["followerCount"] == 1
    assert [p["caption"] for p in user["posts"]["nodes"]] == ["second", "first"]
    assert profile["extensions"]["degraded"]["source"] == "mongodb"
    assert sorted(p["caption"] for p in ranked.ok()["feed"]["nodes"]) == ["first", "second"]
    assert ranked["extensions"]["feed"] == {
        "degraded": True,
        "source": "mongodb",
        "reason": "ranking cache unavailable",
    }
    assert notes.ok()["unreadNotificationCount"] == 0


async def test_visibility_never_fails_open(settings, stores):
    w = await _world(stores)
    dead = settings.model_copy(update={"redis_url": closed_port_url()})
    async with running(dead) as (_, gql, _http):
        blocked = await gql(POST, _gid("Post", w["blocked"]), token=w["token"])
        hidden = await gql(POST, _gid("Post", w["hidden"]), token=w["token"])
        grid = await gql(PROFILE, {"name": "private"}, token=w["token"])
        like = await gql(LIKE, _gid("Post", w["blocked"]), token=w["token"])
        follow = await gql(FOLLOW, _gid("User", w["blocker"]), token=w["token"])
    assert blocked.ok()["post"] is None
    assert hidden.ok()["post"] is None
    user = grid.ok()["user"]
    assert user["viewerCanSeeContent"] is False and user["posts"]["nodes"] == []
    assert like.codes == ["NOT_FOUND"]
    assert follow.codes == ["FORBIDDEN"]


async def test_writes_commit_to_mongodb_and_are_visible_after(settings, stores):
    w = await _world(stores)
    with private_redis() as redis:
        live = settings.model_copy(update={"redis_url": redis.url})
        async with running(live) as (_, gql, _http):
            # Warm the caches, so a Redis that keeps its data comes back with old copies.
            before = await gql(POST, _gid("Post", w["first"]), token=w["token"])
            assert before.ok()["post"]["likeCount"] == 0
            redis.stop()
            like = await gql(LIKE, _gid("Post", w["first"]), token=w["token"])
            comment = await gql(COMMENT, _gid("Post", w["first"]), token=w["token"])
            follow = await gql(FOLLOW, _gid("User", w["private"]), token=w["token"])
            again = await gql(LIKE, _gid("Post", w["first"]), token=w["token"])
            redis.start()  # with its AOF: the cached post still says 0 likes
            after = await gql(POST, _gid("Post", w["first"]), token=w["token"])
    assert like.ok()["likePost"] == {"likeCount": 1, "viewerHasLiked": True}
    assert comment.ok()["addComment"]["text"] == "still here"
    assert follow.ok()["follow"]["status"] == "REQUESTED"
    assert again.ok()["likePost"]["likeCount"] == 1  # idempotent during the outage too
    assert await stores.db.likes.count_documents({"post_id": w["first"]}) == 1
    post = await stores.db.posts.find_one({"_id": w["first"]})
    assert (post["like_count"], post["comment_count"]) == (1, 1)
    seen = after.ok()["post"]
    assert (seen["likeCount"], seen["viewerHasLiked"]) == (1, True)
    assert [c["text"] for c in seen["comments"]["nodes"]] == ["still here"]
    # The author is told once Redis is back: the notification was written to MongoDB.
    assert await stores.db.notifications.count_documents({"recipient_id": w["author"]}) >= 1


async def test_what_needs_redis_is_service_unavailable(settings, stores):
    await factories.create_user(stores, "someone")
    dead = settings.model_copy(update={"redis_url": closed_port_url()})
    async with running(dead) as (_, gql, _http):
        search = await gql('query { searchUsers(query: "some") { nodes { id } } }')
        login = await gql(
            "mutation($in: LoginInput!) { login(input: $in) { accessToken } }",
            {"in": {"login": "someone", "password": "not-the-password"}},
        )
    assert search["_status"] == 503 and search.codes == ["SERVICE_UNAVAILABLE"]
    # The login limit fails closed: an outage must not open a window for password guessing.
    assert login["_status"] == 503 and login.codes == ["SERVICE_UNAVAILABLE"]
    assert login.errors[0]["extensions"]["dependency"] == "redis"


def _now():
    from datetime import UTC, datetime

    t = datetime.now(UTC)
    return t.replace(microsecond=t.microsecond // 1000 * 1000)


async def test_create_post_is_saved_and_left_to_the_sweep(settings, stores, gql):
    from datetime import UTC, datetime, timedelta

    from core.ids import decode_id
    from datastore import posts
    from services.sweep_uploads import STUCK_PROCESSING_AGE
    from tests.integration.posts.conftest import create_post, upload
    from tests.support.samples import photo

    _, token = await factories.create_user(stores, "poster")
    upload_id = await upload(gql, token, photo(64, 48))  # through the healthy app
    dead = settings.model_copy(update={"redis_url": closed_port_url()})
    async with running(dead) as (_, dead_gql, _http):
        made = await create_post(dead_gql, token, [upload_id], caption="queued later")
    post = made.ok()["createPost"]
    assert post["status"] == "PROCESSING" and post["caption"] == "queued later"
    post_id = decode_id(post["id"], "Post")
    assert (await stores.db.posts.find_one({"_id": post_id}))["status"] == "PROCESSING"
    # Not orphaned: the sweep that re-enqueues stuck posts finds it once it is old enough.
    later = datetime.now(UTC) + STUCK_PROCESSING_AGE + timedelta(seconds=1)
    assert post_id in await posts.stuck_processing_ids(stores, later, limit=500)


async def test_a_block_during_the_outage_is_refused_whole(settings, stores):
    w = await _world(stores)
    dead = settings.model_copy(update={"redis_url": closed_port_url()})
    async with running(dead) as (_, gql, _http):
        body = await gql(
            "mutation($id: ID!) { block(userId: $id) { id } }",
            _gid("User", w["author"]),
            token=w["token"],
        )
    # Block sets that missed it would let the blocked account see content once Redis is back.
    assert body.codes == ["SERVICE_UNAVAILABLE"]
    assert await stores.db.blocks.count_documents({"blocker_id": w["viewer"]}) == 0
    assert await stores.db.follows.count_documents({"follower_id": w["viewer"]}) == 1
