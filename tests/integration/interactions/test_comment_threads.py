"""Comment pages come from the thread index in Redis (services/comment_threads.py) and the
comment cache; MongoDB stays the truth the index is rebuilt from."""

from __future__ import annotations

import asyncio

from bson import ObjectId

from core.ids import decode_id, to_global_id
from services.comment_threads import BUILT, add_to_thread, thread_ids, thread_key
from tests.integration.interactions.helpers import many_users
from tests.support.factories import create_ready_post, create_user

ADD = """mutation($input: AddCommentInput!) { addComment(input: $input) { id } }"""
DELETE = "mutation($id: ID!) { deleteComment(id: $id) }"
PAGE = """query($id: ID!, $first: Int, $after: String) {
  post(id: $id) {
    commentCount
    comments(first: $first, after: $after) {
      nodes { id text replyCount author { username } }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""
REPLIES = """query($id: ID!) { node(id: $id) { ... on Comment {
  replyCount replies(first: 10) { nodes { text } } } } }"""


async def comment(gql, token: str, post_id: ObjectId, text: str, reply_to: str | None = None):
    payload = {"postId": to_global_id("Post", post_id), "text": text}
    if reply_to:
        payload["replyToId"] = reply_to
    return (await gql(ADD, {"input": payload}, token=token)).ok()["addComment"]["id"]


async def mongo_ids(stores, post_id: ObjectId, root: ObjectId | None = None) -> list[str]:
    query = {"post_id": post_id, "reply_to_id": root}
    return [
        to_global_id("Comment", d["_id"])
        async for d in stores.db.comments.find(query).sort("_id", 1)
    ]


async def test_a_comments_page_costs_the_same_for_5_or_20_and_reads_no_mongodb(counted):
    application, gql, mongo, redis = counted
    stores = application.state.stores
    author, _ = await create_user(stores, "author")
    people = await many_users(stores, "fan", 20)
    _, viewer = await create_user(stores, "viewer")
    small = await create_ready_post(stores, author)
    large = await create_ready_post(stores, author)
    for i, (_, token) in enumerate(people):
        if i < 5:
            await comment(gql, token, small, f"s{i}")
        await comment(gql, token, large, f"l{i}")
    for post in (small, large):  # warm the users' and posts' cached documents
        assert (await gql(PAGE, {"id": to_global_id("Post", post), "first": 20}, token=viewer)).ok()
    costs = {}
    for post, n in ((small, 5), (large, 20)):
        mongo.reset()
        redis.reset()
        body = await gql(PAGE, {"id": to_global_id("Post", post), "first": 20}, token=viewer)
        page = body.ok()["post"]
        assert len(page["comments"]["nodes"]) == n == page["commentCount"]
        costs[n] = (mongo.total, redis.total)
    assert costs[5] == costs[20] and costs[20][0] == 0, costs

    # Redis lost the thread: one query of comment ids rebuilds it, and the page is the same.
    await stores.redis.delete(thread_key(stores, large, None))
    mongo.reset()
    body = await gql(PAGE, {"id": to_global_id("Post", large), "first": 20}, token=viewer)
    again = body.ok()["post"]
    assert again == page
    assert mongo.commands == {"find": 1}, mongo.commands
    assert [n["id"] for n in page["comments"]["nodes"]] == await mongo_ids(stores, large)


async def test_comments_added_while_the_thread_is_rebuilt_are_all_listed(app, gql, stores):
    """30 people comment at once while another reader keeps losing and rebuilding the thread:
    each sees their own comment right after adding it, and the index ends equal to MongoDB, in
    order, and to commentCount."""
    author, _ = await create_user(stores, "author")
    post = await create_ready_post(stores, author)
    pid = to_global_id("Post", post)
    people = await many_users(stores, "fan", 30)
    key = thread_key(stores, post, None)
    writing = True

    async def keep_rebuilding() -> int:
        rounds = 0
        while writing:
            await stores.redis.delete(key)
            assert (await gql(PAGE, {"id": pid, "first": 50})).ok()
            rounds += 1
        return rounds

    async def add_and_see(i: int, token: str) -> None:
        mine = await comment(gql, token, post, f"c{i}")
        page = (await gql(PAGE, {"id": pid, "first": 50}, token=token)).ok()["post"]
        assert mine in [n["id"] for n in page["comments"]["nodes"]]

    reader = asyncio.create_task(keep_rebuilding())
    await asyncio.gather(*(add_and_see(i, token) for i, (_, token) in enumerate(people)))
    writing = False
    assert await reader > 0

    page = (await gql(PAGE, {"id": pid, "first": 50})).ok()["post"]
    listed = [n["id"] for n in page["comments"]["nodes"]]
    assert listed == await mongo_ids(stores, post)
    assert len(listed) == 30 == page["commentCount"]
    assert await stores.redis.zscore(key, BUILT) is not None


async def test_a_rebuild_keeps_ids_added_after_it_read_mongodb(stores):
    """The interleaving behind the test above, made deterministic: a writer's id lands in a
    thread that is not built yet (the rebuild's MongoDB read came before the insert). The
    rebuild adds to the set instead of replacing it, so the id stays."""
    author, _ = await create_user(stores, "author")
    post = await create_ready_post(stores, author)
    late = {"_id": ObjectId(), "post_id": post, "reply_to_id": None}
    await add_to_thread(stores, late)  # its MongoDB insert is after the rebuild's read
    ids = await thread_ids(stores, post, None, after=None, limit=10)
    assert ids == [late["_id"]]
    assert await stores.redis.zscore(thread_key(stores, post, None), BUILT) is not None


async def test_deleting_comments_updates_threads_reply_counts_and_pages(gql, stores):
    author, author_token = await create_user(stores, "author")
    _, alice = await create_user(stores, "alice")
    _, bob = await create_user(stores, "bob")
    post = await create_ready_post(stores, author)
    pid = to_global_id("Post", post)
    first = await comment(gql, alice, post, "first")
    second = await comment(gql, bob, post, "second")
    replies = [await comment(gql, bob, post, f"re{i}", reply_to=first) for i in range(3)]
    root = decode_id(first, "Comment")

    thread = (await gql(REPLIES, {"id": first}, token=bob)).ok()["node"]
    assert thread == {"replyCount": 3, "replies": {"nodes": [{"text": f"re{i}"} for i in range(3)]}}
    assert (await gql(DELETE, {"id": replies[1]}, token=bob)).ok()["deleteComment"]
    thread = (await gql(REPLIES, {"id": first}, token=bob)).ok()["node"]
    assert thread == {"replyCount": 2, "replies": {"nodes": [{"text": "re0"}, {"text": "re2"}]}}

    # Deleting the top-level comment takes its replies and their thread with it.
    assert (await gql(DELETE, {"id": first}, token=author_token)).ok()["deleteComment"]
    page = (await gql(PAGE, {"id": pid, "first": 10}, token=bob)).ok()["post"]
    assert [n["id"] for n in page["comments"]["nodes"]] == [second]
    assert page["commentCount"] == 1
    assert not await stores.redis.exists(thread_key(stores, post, root))

    # Deleting the post drops its top-level thread.
    assert await stores.redis.exists(thread_key(stores, post, None))
    delete_post = "mutation($id: ID!) { deletePost(id: $id) }"
    assert (await gql(delete_post, {"id": pid}, token=author_token)).ok()["deletePost"]
    assert not await stores.redis.exists(thread_key(stores, post, None))
    assert await stores.db.comments.count_documents({"post_id": post}) == 0


async def test_an_id_whose_comment_is_gone_is_skipped_and_dropped(gql, stores):
    """A rebuild can read an id just before its comment is deleted and add it back after the
    deleter removed it; the reader that meets it drops it."""
    author, _ = await create_user(stores, "author")
    _, token = await create_user(stores, "fan")
    post = await create_ready_post(stores, author)
    kept = await comment(gql, token, post, "kept")
    key = thread_key(stores, post, None)
    ghost = str(ObjectId())
    await stores.redis.zadd(key, {ghost: 0})
    page = (await gql(PAGE, {"id": to_global_id("Post", post), "first": 10})).ok()["post"]
    assert [n["id"] for n in page["comments"]["nodes"]] == [kept]
    assert await stores.redis.zscore(key, ghost) is None
