"""Reactions to domain events: notifications (likes, comments, mentions, follows) and the
clean-up that deleting a post or blocking a user needs. Listed in core.events.HANDLER_MODULES,
and in worker/jobs.py for the `notify_post_mentions` job."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from core.events import Deps, on
from datastore import comments, likes, notifications, shares
from datastore import posts as posts_repo
from datastore.accounts import user_ids_by_username
from datastore.doc_cache import comment_cache, post_cache
from datastore.posts import READY
from datastore.stores import Stores
from realtime.channels import publish_post_update
from services.comment_threads import drop_threads
from services.interactions_base import may_see_post
from services.notify import notify, remove_actor_between, withdraw
from services.text import parse_mentions
from worker import jobs
from worker.queue import enqueue
from worker.registry import job


@on("post.liked")
async def _notify_like(
    deps: Deps, *, post_id: ObjectId, user_id: ObjectId, author_id: ObjectId, **_: object
) -> None:
    await notify(
        deps.stores, recipient_id=author_id, type_="LIKE", actor_id=user_id, post_id=post_id
    )


@on("comment.added")
async def _notify_comment(
    deps: Deps, *, comment_id: ObjectId, post_id: ObjectId, author_id: ObjectId, **_: object
) -> None:
    stores = deps.stores
    (post,) = await post_cache(stores).get_many([post_id])
    cached = comment_cache(stores)
    (comment,) = await cached.get_many([comment_id])
    if post is None or comment is None:
        return
    await notify(
        stores,
        recipient_id=post["author_id"],
        type_="COMMENT",
        actor_id=author_id,
        post_id=post_id,
        comment_id=comment_id,
    )
    notified = {post["author_id"]}
    parent_id = comment.get("reply_to_id")
    if parent_id is not None:
        # A reply also reaches the author of the comment it answers ("replied to you").
        (parent,) = await cached.get_many([parent_id])
        if parent is not None and parent["author_id"] not in notified:
            notified.add(parent["author_id"])
            await notify(
                stores,
                recipient_id=parent["author_id"],
                type_="COMMENT",
                actor_id=author_id,
                post_id=post_id,
                comment_id=comment_id,
            )
    # Whoever already hears of the comment itself gets no second, MENTION notification.
    await _notify_mentions(
        stores,
        post,
        parse_mentions(comment["text"]),
        actor_id=author_id,
        comment_id=comment_id,
        skip=notified,
    )


@on("post.ready")
async def _notify_caption_mentions_on_ready(
    deps: Deps, *, post_id: ObjectId, author_id: ObjectId, post: dict | None = None, **_: object
) -> None:
    if post is None:
        await _notify_caption_mentions(deps, post_id=post_id, author_id=author_id)
        return
    if post.get("status") != READY or not _caption_mentions(post):
        return  # the common case: nothing to look up, no I/O on the delivery path
    # Looking the names up (the username map; MongoDB for names it lacks) and a write per
    # person: the worker does it, off the path that delivers the post. The job
    # re-reads the post, and notify() is idempotent per (recipient, post), so a re-announced
    # post or a retried job notifies nobody twice.
    await enqueue(
        deps.queue,
        jobs.NOTIFY_POST_MENTIONS,
        post_id=str(post_id),
        author_id=str(author_id),
    )


@on("post.edited")
async def _notify_caption_mentions(
    deps: Deps, *, post_id: ObjectId, author_id: ObjectId, **_: object
) -> None:
    # Read fresh, not through the cache, which this must not fill.
    post = next(iter(await posts_repo.find_posts(deps.stores, [post_id])), None)
    if post is None or post.get("status") != READY:
        return
    # The group key is per post, so a post edited or re-announced never notifies one person twice.
    await _notify_mentions(
        deps.stores, post, _caption_mentions(post), actor_id=author_id, comment_id=None
    )


@job
async def notify_post_mentions(ctx: dict[str, Any], *, post_id: str, author_id: str) -> None:
    """The people a READY post's caption mentions hear of it (enqueued by post.ready)."""
    await _notify_caption_mentions(
        Deps(ctx["stores"], ctx["queue"]), post_id=ObjectId(post_id), author_id=ObjectId(author_id)
    )


def _caption_mentions(post: dict) -> list[str]:
    return post.get("mentions") or parse_mentions(post.get("caption") or "")


async def _notify_mentions(
    stores: Stores,
    post: dict,
    usernames: list[str],
    *,
    actor_id: ObjectId,
    comment_id: ObjectId | None,
    skip: set[ObjectId] | None = None,
) -> None:
    if not usernames:
        return
    names = list(dict.fromkeys(u.lower() for u in usernames[:50]))
    for user_id in (await user_ids_by_username(stores, names)).values():
        if user_id in (skip or ()) or not await may_see_post(stores, user_id, post):
            continue
        await notify(
            stores,
            recipient_id=user_id,
            type_="MENTION",
            actor_id=actor_id,
            post_id=post["_id"],
            comment_id=comment_id,
        )


@on("user.followed")
async def _notify_follow(
    deps: Deps, *, follower_id: ObjectId, followee_id: ObjectId, **_: object
) -> None:
    # An approved request becomes a follow: the request notification has been answered.
    await withdraw(
        deps.stores, recipient_id=followee_id, type_="FOLLOW_REQUEST", actor_id=follower_id
    )
    await notify(deps.stores, recipient_id=followee_id, type_="FOLLOW", actor_id=follower_id)


@on("user.follow_requested")
async def _notify_follow_request(
    deps: Deps, *, requester_id: ObjectId, target_id: ObjectId, **_: object
) -> None:
    await notify(deps.stores, recipient_id=target_id, type_="FOLLOW_REQUEST", actor_id=requester_id)


@on("user.blocked")
async def _forget_blocked(
    deps: Deps, *, blocker_id: ObjectId, blocked_id: ObjectId, **_: object
) -> None:
    await remove_actor_between(deps.stores, blocker_id, blocked_id)


@on("post.deleted")
async def _forget_post(deps: Deps, *, post_id: ObjectId, **_: object) -> None:
    stores = deps.stores
    refs = await comments.refs_of_post(stores, post_id)
    for repository in (likes, comments, shares, notifications):
        await repository.delete_for_post(stores, post_id)
    roots = [r["_id"] for r in refs if r["reply_to_id"] is None]
    await drop_threads(stores, post_id, [None, *roots])
    await comment_cache(stores).invalidate(r["_id"] for r in refs)
    # Live `postUpdated` streams re-read the post, find it gone and complete.
    await publish_post_update(deps.stores, post_id)
