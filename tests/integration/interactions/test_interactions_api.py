"""Likes, comments, shares and notifications through GraphQL (the in-process ASGI app)."""

import asyncio

import pytest
from pymongo import monitoring

from core.ids import to_global_id
from tests.integration.interactions.helpers import block, many_users
from tests.support.factories import create_ready_post, create_user, follow
from tests.support.isolation import drop_everything, isolated_settings

LIKE = """mutation($id: ID!) { likePost(postId: $id) { id likeCount viewerHasLiked } }"""
UNLIKE = """mutation($id: ID!) { unlikePost(postId: $id) { id likeCount viewerHasLiked } }"""
ADD_COMMENT = """mutation($input: AddCommentInput!) {
  addComment(input: $input) {
    id text replyCount author { username } replyTo { id } post { id commentCount }
  }
}"""
POST_DETAIL = """query($id: ID!, $first: Int, $after: String) {
  post(id: $id) {
    likeCount commentCount shareCount viewerHasLiked
    likers(first: $first) { nodes { username } pageInfo { hasNextPage endCursor } }
    comments(first: $first, after: $after) {
      edges { cursor node { id text replyCount author { username }
        replies(first: 5) { nodes { text replyTo { id } } } } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
NOTIFICATIONS = """query($first: Int, $after: String) {
  unreadNotificationCount
  notifications(first: $first, after: $after) {
    nodes { id type read actorCount actors(first: 2) { username } post { id }
            comment { text } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def gid(kind, oid):
    return to_global_id(kind, oid)


async def test_like_unlike_through_graphql_is_idempotent_and_exact(gql, stores):
    author, author_token = await create_user(stores, "author")
    post_id = await create_ready_post(stores, author)
    users = await many_users(stores, "fan", 200)
    pid = gid("Post", post_id)

    results = await asyncio.gather(*(gql(LIKE, {"id": pid}, token=t) for _, t in users))
    assert all(r.ok()["likePost"]["viewerHasLiked"] for r in results)
    body = await gql(POST_DETAIL, {"id": pid, "first": 3}, token=users[0][1])
    assert body.ok()["post"]["likeCount"] == 200
    assert await stores.db.likes.count_documents({"post_id": post_id}) == 200

    results = await asyncio.gather(
        *(gql(UNLIKE, {"id": pid}, token=t) for _, t in users[:100]),
        *(gql(UNLIKE, {"id": pid}, token=t) for _, t in users[:100]),
    )
    assert all(not r.ok()["unlikePost"]["viewerHasLiked"] for r in results)
    post = (await gql(POST_DETAIL, {"id": pid, "first": 3}, token=users[150][1])).ok()["post"]
    assert post["likeCount"] == 100 == await stores.db.likes.count_documents({"post_id": post_id})
    assert post["viewerHasLiked"] is True
    # Likers newest first.
    newest = [
        d["user_id"] async for d in stores.db.likes.find({"post_id": post_id}).sort("_id", -1)
    ]
    names = {uid: f"fan{i}" for i, (uid, _) in enumerate(users)}
    assert [u["username"] for u in post["likers"]["nodes"]] == [names[u] for u in newest[:3]]
    assert post["likers"]["pageInfo"]["hasNextPage"]

    # The author hears of it once, grouped: 200 actors, unliking took nobody out.
    notes = (await gql(NOTIFICATIONS, token=author_token)).ok()["notifications"]["nodes"]
    assert [(n["type"], n["actorCount"]) for n in notes] == [("LIKE", 200)]


async def test_like_requires_login_and_a_visible_post(gql, stores):
    owner, _ = await create_user(stores, "owner", is_private=True)
    _, outsider = await create_user(stores, "outsider")
    post_id = await create_ready_post(stores, owner)
    body = await gql(LIKE, {"id": gid("Post", post_id)})
    assert body.codes == ["UNAUTHENTICATED"]
    body = await gql(LIKE, {"id": gid("Post", post_id)}, token=outsider)
    assert body.codes == ["NOT_FOUND"]


async def test_viewer_has_liked_is_one_likes_query_per_page(settings, stores):
    """A page of posts asks MongoDB once for the viewer's likes, not once per post."""
    import httpx

    from app import create_app
    from tests.support.graphql import GraphQLClient

    class LikesFinds(monitoring.CommandListener):
        def __init__(self) -> None:
            self.count = 0

        def started(self, event):
            if event.command_name == "find" and event.command.get("find") == "likes":
                self.count += 1

        def succeeded(self, event):
            pass

        def failed(self, event):
            pass

    listener = LikesFinds()
    app = create_app(settings, mongo_listeners=[listener])
    async with app.router.lifespan_context(app):
        app_stores = app.state.stores
        author, _ = await create_user(app_stores, "author2")
        _, token = await create_user(app_stores, "viewer2")
        post_ids = [await create_ready_post(app_stores, author) for _ in range(6)]
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            client = GraphQLClient(http)
            await client(LIKE, {"id": gid("Post", post_ids[2])}, token=token)
            query = """query($id: ID!) { user(id: $id) {
              posts(first: 10) { nodes { id viewerHasLiked } } } }"""
            listener.count = 0
            data = (await client(query, {"id": gid("User", author)}, token=token)).ok()
    liked = {n["id"]: n["viewerHasLiked"] for n in data["user"]["posts"]["nodes"]}
    assert liked == {gid("Post", p): p == post_ids[2] for p in post_ids}
    assert listener.count == 1


async def test_comments_replies_and_deletion(gql, stores):
    author, author_token = await create_user(stores, "author")
    _, alice_token = await create_user(stores, "alice")
    _, bob_token = await create_user(stores, "bob")
    post_id = await create_ready_post(stores, author)
    pid = gid("Post", post_id)

    first = await gql(ADD_COMMENT, {"input": {"postId": pid, "text": " hi "}}, token=alice_token)
    c1 = first.ok()["addComment"]
    assert c1["text"] == "hi" and c1["author"]["username"] == "alice"
    assert c1["post"]["commentCount"] == 1
    c2 = (
        await gql(ADD_COMMENT, {"input": {"postId": pid, "text": "second"}}, token=bob_token)
    ).ok()["addComment"]
    reply = (
        await gql(
            ADD_COMMENT,
            {"input": {"postId": pid, "text": "@alice agreed", "replyToId": c1["id"]}},
            token=bob_token,
        )
    ).ok()["addComment"]
    assert reply["replyTo"]["id"] == c1["id"]

    for bad in ("", "y" * 2201):
        body = await gql(ADD_COMMENT, {"input": {"postId": pid, "text": bad}}, token=bob_token)
        assert body.codes == ["BAD_USER_INPUT"]

    page1 = (await gql(POST_DETAIL, {"id": pid, "first": 1}, token=bob_token)).ok()["post"]
    assert page1["commentCount"] == 3
    [edge] = page1["comments"]["edges"]
    assert edge["node"]["text"] == "hi" and edge["node"]["replyCount"] == 1
    assert edge["node"]["replies"]["nodes"] == [
        {"text": "@alice agreed", "replyTo": {"id": c1["id"]}}
    ]
    after = page1["comments"]["pageInfo"]["endCursor"]
    page2 = (await gql(POST_DETAIL, {"id": pid, "first": 5, "after": after}, token=bob_token)).ok()
    assert [e["node"]["text"] for e in page2["post"]["comments"]["edges"]] == ["second"]
    assert not page2["post"]["comments"]["pageInfo"]["hasNextPage"]

    # Alice hears of the reply to her comment once (a COMMENT, not also a MENTION).
    notes = (await gql(NOTIFICATIONS, token=alice_token)).ok()["notifications"]["nodes"]
    assert [(n["type"], n["comment"]["text"]) for n in notes] == [("COMMENT", "@alice agreed")]

    delete = "mutation($id: ID!) { deleteComment(id: $id) }"
    assert (await gql(delete, {"id": c2["id"]}, token=alice_token)).codes == ["FORBIDDEN"]
    assert (await gql(delete, {"id": c2["id"]}, token=author_token)).ok()["deleteComment"]
    assert (await gql(delete, {"id": c1["id"]}, token=alice_token)).ok()["deleteComment"]
    post = (await gql(POST_DETAIL, {"id": pid, "first": 5}, token=bob_token)).ok()["post"]
    assert post["commentCount"] == 0 and post["comments"]["edges"] == []
    assert await stores.db.comments.count_documents({}) == 0
    # The notification went with its comment.
    assert (await gql(NOTIFICATIONS, token=alice_token)).ok()["notifications"]["nodes"] == []


async def test_comments_hide_blocked_authors(gql, stores):
    author, _ = await create_user(stores, "author")
    viewer, viewer_token = await create_user(stores, "viewer")
    troll, troll_token = await create_user(stores, "troll")
    post_id = await create_ready_post(stores, author)
    pid = gid("Post", post_id)
    await gql(ADD_COMMENT, {"input": {"postId": pid, "text": "bad"}}, token=troll_token)
    await gql(ADD_COMMENT, {"input": {"postId": pid, "text": "good"}}, token=viewer_token)
    await block(stores, viewer, troll)
    post = (await gql(POST_DETAIL, {"id": pid, "first": 5}, token=viewer_token)).ok()["post"]
    assert [e["node"]["text"] for e in post["comments"]["edges"]] == ["good"]


async def test_notifications_grouped_listed_and_marked_read(gql, stores):
    author, author_token = await create_user(stores, "author")
    users = await many_users(stores, "liker", 4)
    post_id = await create_ready_post(stores, author)
    pid = gid("Post", post_id)
    for _, token in users:
        await gql(LIKE, {"id": pid}, token=token)
    for _ in range(5):  # liking and unliking again (50 times: test_interaction_services)
        await gql(UNLIKE, {"id": pid}, token=users[0][1])
        await gql(LIKE, {"id": pid}, token=users[0][1])
    await gql(LIKE, {"id": pid}, token=author_token)  # own like: no notification
    await gql(ADD_COMMENT, {"input": {"postId": pid, "text": "wow"}}, token=users[1][1])

    data = (await gql(NOTIFICATIONS, {"first": 1}, token=author_token)).ok()
    assert data["unreadNotificationCount"] == 2
    [comment_note] = data["notifications"]["nodes"]
    assert comment_note["type"] == "COMMENT" and comment_note["comment"]["text"] == "wow"
    after = data["notifications"]["pageInfo"]["endCursor"]
    data = (await gql(NOTIFICATIONS, {"first": 5, "after": after}, token=author_token)).ok()
    [like_note] = data["notifications"]["nodes"]
    assert like_note["type"] == "LIKE" and like_note["actorCount"] == 4
    assert [a["username"] for a in like_note["actors"]] == ["liker3", "liker2"]
    assert like_note["post"] == {"id": pid}

    mark = "mutation($upTo: ID) { markNotificationsRead(upTo: $upTo) }"
    assert (await gql(mark, {"upTo": like_note["id"]}, token=author_token)).ok() == {
        "markNotificationsRead": 1
    }
    data = (await gql(NOTIFICATIONS, token=author_token)).ok()
    assert data["unreadNotificationCount"] == 1
    assert [n["read"] for n in data["notifications"]["nodes"]] == [False, True]
    # Somebody else's notification id is not found.
    _, other_token = await create_user(stores, "other")
    assert (await gql(mark, {"upTo": like_note["id"]}, token=other_token)).codes == ["NOT_FOUND"]
    assert (await gql(mark, {}, token=author_token)).ok() == {"markNotificationsRead": 1}


async def test_share_post_and_shared_with_me(gql, stores):
    author, _ = await create_user(stores, "author", is_private=True)
    sender, sender_token = await create_user(stores, "sender")
    friend, friend_token = await create_user(stores, "friend")
    outsider, _ = await create_user(stores, "outsider")
    await follow(stores, sender, author)
    await follow(stores, friend, author)
    post_id = await create_ready_post(stores, author)
    share = """mutation($id: ID!, $to: [ID!]!) {
      sharePost(postId: $id, toUserIds: $to) { id shareCount } }"""
    body = await gql(
        share, {"id": gid("Post", post_id), "to": [gid("User", outsider)]}, token=sender_token
    )
    assert body.codes == ["FORBIDDEN"]
    body = await gql(
        share, {"id": gid("Post", post_id), "to": [gid("User", friend)]}, token=sender_token
    )
    assert body.ok()["sharePost"]["shareCount"] == 1

    inbox = """query { viewer { sharedWithMe(first: 5) {
      nodes { sender { username } post { id } } } } }"""
    data = (await gql(inbox, token=friend_token)).ok()
    assert data["viewer"]["sharedWithMe"]["nodes"] == [
        {"sender": {"username": "sender"}, "post": {"id": gid("Post", post_id)}}
    ]
    notes = (await gql(NOTIFICATIONS, token=friend_token)).ok()["notifications"]["nodes"]
    assert [(n["type"], n["actors"]) for n in notes] == [("SHARE", [{"username": "sender"}])]
    # Someone else's inbox is not readable.
    other = "query($id: ID!) { node(id: $id) { ... on User { sharedWithMe { nodes { id } } } } }"
    data = (await gql(other, {"id": gid("User", friend)}, token=sender_token)).ok()
    assert data["node"]["sharedWithMe"] is None


@pytest.fixture
async def limited_settings():
    s = isolated_settings(rate_limit_like="3/minute", rate_limit_comment="2/minute")
    yield s
    await drop_everything(s)


async def test_likes_and_comments_are_rate_limited(limited_settings):
    import httpx

    from app import create_app
    from tests.support.graphql import GraphQLClient

    app = create_app(limited_settings)
    async with app.router.lifespan_context(app):
        s = app.state.stores
        author, _ = await create_user(s, "author")
        _, token = await create_user(s, "eager")
        posts = [gid("Post", await create_ready_post(s, author)) for _ in range(4)]
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50002))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            gql = GraphQLClient(http)
            for p in posts[:3]:
                (await gql(LIKE, {"id": p}, token=token)).ok()
            body = await gql(LIKE, {"id": posts[3]}, token=token)
            assert body.codes == ["RATE_LIMITED"]
            assert body.errors[0]["extensions"]["retryAfter"] >= 1
            for text in ("one", "two"):
                (
                    await gql(
                        ADD_COMMENT, {"input": {"postId": posts[0], "text": text}}, token=token
                    )
                ).ok()
            body = await gql(ADD_COMMENT, {"input": {"postId": posts[0], "text": "3"}}, token=token)
            assert body.codes == ["RATE_LIMITED"]


async def test_follow_and_follow_request_notify_through_the_accounts_mutations(gql, stores):
    public, public_token = await create_user(stores, "public")
    private, private_token = await create_user(stores, "private", is_private=True)
    fan, fan_token = await create_user(stores, "fan")
    follow_m = "mutation($id: ID!) { follow(userId: $id) { status } }"
    unfollow_m = "mutation($id: ID!) { unfollow(userId: $id) { id } }"
    approve_m = "mutation($id: ID!) { approveFollowRequest(userId: $id) { id } }"

    for _ in range(3):  # follow, unfollow, follow again...: one notification
        (await gql(follow_m, {"id": gid("User", public)}, token=fan_token)).ok()
        (await gql(unfollow_m, {"id": gid("User", public)}, token=fan_token)).ok()
    notes = (await gql(NOTIFICATIONS, token=public_token)).ok()["notifications"]["nodes"]
    assert [(n["type"], n["actors"]) for n in notes] == [("FOLLOW", [{"username": "fan"}])]

    body = await gql(follow_m, {"id": gid("User", private)}, token=fan_token)
    assert body.ok()["follow"]["status"] == "REQUESTED"
    notes = (await gql(NOTIFICATIONS, token=private_token)).ok()["notifications"]["nodes"]
    assert [n["type"] for n in notes] == ["FOLLOW_REQUEST"]
    (await gql(approve_m, {"id": gid("User", fan)}, token=private_token)).ok()
    notes = (await gql(NOTIFICATIONS, token=private_token)).ok()["notifications"]["nodes"]
    assert [n["type"] for n in notes] == ["FOLLOW"]
