"""Comments, shares, mentions and notification rules, through the services."""

import asyncio

import pytest

from core.errors import BadInput, Forbidden, NotFound
from core.events import emit
from services.add_comment import add_comment
from services.delete_comment import delete_comment
from services.interaction_queries import (
    mark_notifications_read,
    notifications_page,
    shared_with_me_page,
    unread_notification_count,
)
from services.like_post import like_post
from services.share_post import share_post
from services.unlike_post import unlike_post
from tests.integration.interactions.helpers import block, deps_of, many_users
from tests.support.factories import create_ready_post, create_user, follow


async def _post_doc(stores, post_id):
    return await stores.db.posts.find_one({"_id": post_id})


async def test_comment_count_stays_exact_with_concurrent_comments_and_deletes(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    post_id = await create_ready_post(stores, author)
    users = await many_users(stores, "c", 20)
    comments = await asyncio.gather(
        *(add_comment(deps, uid, post_id, f"nice {i}") for i, (uid, _) in enumerate(users))
    )
    top = comments[0]
    replies = await asyncio.gather(
        *(add_comment(deps, uid, post_id, "reply", top["_id"]) for uid, _ in users[:5])
    )
    # A reply to a reply attaches to the top-level comment: replies are one level deep.
    nested = await add_comment(deps, users[6][0], post_id, "deeper", replies[0]["_id"])
    assert nested["reply_to_id"] == top["_id"]
    assert (await stores.db.comments.find_one({"_id": top["_id"]}))["reply_count"] == 6
    assert (await _post_doc(stores, post_id))["comment_count"] == 26

    # The post's author deletes the top comment (and its replies) while others delete theirs.
    await asyncio.gather(
        delete_comment(deps, author, top["_id"]),
        *(delete_comment(deps, users[i][0], comments[i]["_id"]) for i in range(1, 5)),
    )
    in_db = await stores.db.comments.count_documents({"post_id": post_id})
    assert (await _post_doc(stores, post_id))["comment_count"] == in_db == 15


async def test_comment_rules(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    other, _ = await create_user(stores, "other")
    stranger, _ = await create_user(stores, "stranger")
    post_id = await create_ready_post(stores, author)
    for bad in ("", "   ", "x" * 2201):
        with pytest.raises(BadInput):
            await add_comment(deps, other, post_id, bad)
    ok = await add_comment(deps, other, post_id, "x" * 2200)
    assert len(ok["text"]) == 2200
    with pytest.raises(Forbidden):
        await delete_comment(deps, stranger, ok["_id"])
    assert await delete_comment(deps, other, ok["_id"])
    with pytest.raises(NotFound):
        await delete_comment(deps, other, ok["_id"])

    private, _ = await create_user(stores, "private", is_private=True)
    hidden = await create_ready_post(stores, private)
    with pytest.raises(NotFound):
        await add_comment(deps, other, hidden, "let me in")
    with pytest.raises(NotFound):
        await like_post(deps, other, hidden)


async def test_like_unlike_fifty_times_is_one_notification(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    fan, _ = await create_user(stores, "fan")
    post_id = await create_ready_post(stores, author)
    for _ in range(50):
        await like_post(deps, fan, post_id)
        await unlike_post(deps, fan, post_id)
    await like_post(deps, author, post_id)  # your own like notifies nobody
    page = await notifications_page(stores, author, 20, None)
    assert [(n["type"], n["actor_count"]) for n in page.items] == [("LIKE", 1)]
    assert await unread_notification_count(stores, author) == 1
    assert (await _post_doc(stores, post_id))["like_count"] == 1


async def test_notifications_newest_first_paged_and_marked_read(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    users = await many_users(stores, "u", 5)
    posts = [await create_ready_post(stores, author) for _ in range(3)]
    for uid, _ in users:
        await like_post(deps, uid, posts[0])
    await add_comment(deps, users[0][0], posts[1], "first!")
    await like_post(deps, users[1][0], posts[2])

    first = await notifications_page(stores, author, 2, None)
    assert [n["type"] for n in first.items] == ["LIKE", "COMMENT"]
    assert first.items[0]["post_id"] == posts[2] and first.has_next
    rest = await notifications_page(stores, author, 2, first.cursors[-1])
    assert [(n["type"], n["actor_count"]) for n in rest.items] == [("LIKE", 5)]
    # Newest actor first when read back.
    assert rest.items[0]["actor_ids"][-1] == users[-1][0]
    assert not rest.has_next

    assert await unread_notification_count(stores, author) == 3
    assert await mark_notifications_read(stores, author, first.items[1]["_id"]) == 2
    assert await unread_notification_count(stores, author) == 1
    assert await mark_notifications_read(stores, author, None) == 1
    assert await unread_notification_count(stores, author) == 0

    # A new actor brings the grouped notification back to the top, unread.
    newcomer, _ = await create_user(stores, "newcomer")
    await like_post(deps, newcomer, posts[0])
    top = (await notifications_page(stores, author, 1, None)).items[0]
    assert top["post_id"] == posts[0] and top["actor_count"] == 6 and not top["read"]


async def test_blocked_users_do_not_notify_and_block_removes_their_notifications(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    pest, _ = await create_user(stores, "pest")
    friend, _ = await create_user(stores, "friend")
    post_id = await create_ready_post(stores, author)
    await like_post(deps, pest, post_id)
    await like_post(deps, friend, post_id)
    await block(stores, author, pest)
    await emit("user.blocked", deps, blocker_id=author, blocked_id=pest)
    [note] = (await notifications_page(stores, author, 20, None)).items
    assert note["actor_ids"] == [friend] and note["actor_count"] == 1

    # A mention by someone you blocked does not reach you, even on a post you may see.
    other_post = await create_ready_post(stores, friend)
    await add_comment(deps, pest, other_post, "hey @author look")
    await add_comment(deps, friend, other_post, "hey @AUTHOR look")
    types = [n["type"] for n in (await notifications_page(stores, author, 20, None)).items]
    assert types == ["MENTION", "LIKE"]


async def test_mentions_only_reach_users_who_may_see_the_post(app, stores):
    deps = deps_of(app)
    owner, _ = await create_user(stores, "owner", is_private=True)
    follower, _ = await create_user(stores, "follower")
    outsider, _ = await create_user(stores, "outsider")
    await follow(stores, follower, owner)
    post_id = await create_ready_post(
        stores, owner, caption="with @follower and @outsider", mentions=["follower", "outsider"]
    )
    await emit("post.ready", deps_of(app), post_id=post_id, author_id=owner)
    await emit("post.ready", deps_of(app), post_id=post_id, author_id=owner)  # re-announced
    await add_comment(deps, follower, post_id, "@outsider you should see this")
    mentioned = [n async for n in stores.db.notifications.find({"type": "MENTION"})]
    assert [n["recipient_id"] for n in mentioned] == [follower]
    assert await stores.db.notifications.count_documents({"recipient_id": outsider}) == 0


async def test_share_inbox_and_rules(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author", is_private=True)
    sender, _ = await create_user(stores, "sender")
    friend, _ = await create_user(stores, "friend")
    outsider, _ = await create_user(stores, "outsider")
    await follow(stores, sender, author)
    await follow(stores, friend, author)
    post_id = await create_ready_post(stores, author)

    with pytest.raises(Forbidden):
        await share_post(deps, sender, post_id, [friend, outsider])
    assert await stores.db.shares.count_documents({}) == 0
    with pytest.raises(BadInput):
        await share_post(deps, sender, post_id, [sender])
    with pytest.raises(NotFound):
        await share_post(deps, outsider, post_id, [friend])

    post = await share_post(deps, sender, post_id, [friend])
    post = await share_post(deps, sender, post_id, [friend])  # again: nothing new
    assert post["share_count"] == 1 == await stores.db.shares.count_documents({})
    inbox = await shared_with_me_page(stores, friend, 20, None)
    assert [(s["post_id"], s["sender_id"]) for s in inbox.items] == [(post_id, sender)]
    [note] = (await notifications_page(stores, friend, 20, None)).items
    assert note["type"] == "SHARE" and note["actor_ids"] == [sender]

    # The author blocks the friend: the shared post disappears from the friend's inbox.
    await block(stores, author, friend)
    assert (await shared_with_me_page(stores, friend, 20, None)).items == []


async def test_deleting_a_post_removes_its_interactions(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    fan, _ = await create_user(stores, "fan")
    post_id = await create_ready_post(stores, author)
    await like_post(deps, fan, post_id)
    await add_comment(deps, fan, post_id, "wow")
    await stores.db.posts.delete_one({"_id": post_id})
    await emit("post.deleted", deps, post_id=post_id, author_id=author)
    for name in ("likes", "comments", "shares", "notifications"):
        assert await stores.db[name].count_documents({"post_id": post_id}) == 0, name


async def test_follow_and_follow_request_notifications(app, stores):
    deps = deps_of(app)
    star, _ = await create_user(stores, "star", is_private=True)
    fan, _ = await create_user(stores, "fan")
    await emit("user.follow_requested", deps, requester_id=fan, target_id=star)
    assert [n["type"] for n in (await notifications_page(stores, star, 20, None)).items] == [
        "FOLLOW_REQUEST"
    ]
    for _ in range(3):  # approved, unfollowed, followed again...
        await emit("user.followed", deps, follower_id=fan, followee_id=star)
    notes = (await notifications_page(stores, star, 20, None)).items
    assert [(n["type"], n["actor_ids"]) for n in notes] == [("FOLLOW", [fan])]


async def test_concurrent_shares_keep_share_count_exact(app, stores):
    deps = deps_of(app)
    author, _ = await create_user(stores, "author")
    post_id = await create_ready_post(stores, author)
    senders = await many_users(stores, "s", 30)
    recipient, _ = await create_user(stores, "inbox")
    # Every sender twice at once: the second send of a pair is a no-op.
    await asyncio.gather(
        *(share_post(deps, uid, post_id, [recipient]) for uid, _ in senders),
        *(share_post(deps, uid, post_id, [recipient]) for uid, _ in senders),
    )
    post = await _post_doc(stores, post_id)
    assert post["share_count"] == 30 == await stores.db.shares.count_documents({})
    assert len((await shared_with_me_page(stores, recipient, 50, None)).items) == 30
    assert await stores.db.notifications.count_documents({"recipient_id": recipient}) == 30


async def test_a_notification_group_keeps_only_its_most_recent_actors(app, stores, monkeypatch):
    import datastore.notifications as notify_module

    monkeypatch.setattr(notify_module, "MAX_STORED_ACTORS", 3)
    author, _ = await create_user(stores, "author")
    post_id = await create_ready_post(stores, author)
    users = await many_users(stores, "l", 5)
    for uid, _ in users:
        await like_post(deps_of(app), uid, post_id)
    [note] = (await notifications_page(stores, author, 5, None)).items
    assert note["actor_count"] == 5
    assert note["actor_ids"] == [uid for uid, _ in users[-3:]]
