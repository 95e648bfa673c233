"""Resolvers for likes, comments, shares, notifications and the real-time subscriptions.

Thin: authenticate, decode arguments, call the domain, return documents or pages.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from bson import ObjectId

from core.events import Deps
from core.ids import decode_id
from core.pagination import Page
from datastore.graph import blocked_among
from realtime.channels import (
    feed_channel,
    listen,
    next_batch,
    notification_channel,
    post_channel,
)
from resolvers.context import Context
from resolvers.interactions_loaders import comments_by_id, viewer_likes, visible_posts_by_id
from resolvers.loaders import users_by_id
from services import interaction_queries as queries
from services.add_comment import add_comment
from services.delete_comment import delete_comment
from services.interactions_base import load_visible_post, may_see_post
from services.like_post import like_post
from services.share_post import share_post
from services.unlike_post import unlike_post


def _deps(ctx: Context) -> Deps:
    return Deps(ctx.stores, ctx.queue)


# --- mutations -----------------------------------------------------------------------------
async def resolve_like(ctx: Context, post_id: str) -> dict:
    viewer = ctx.require_viewer()
    return await like_post(_deps(ctx), viewer, decode_id(post_id, "Post"))


async def resolve_unlike(ctx: Context, post_id: str) -> dict:
    viewer = ctx.require_viewer()
    return await unlike_post(_deps(ctx), viewer, decode_id(post_id, "Post"))


async def resolve_add_comment(
    ctx: Context, post_id: str, text: str, reply_to_id: str | None
) -> dict:
    viewer = ctx.require_viewer()
    return await add_comment(
        _deps(ctx),
        viewer,
        decode_id(post_id, "Post"),
        text,
        decode_id(reply_to_id, "Comment") if reply_to_id else None,
    )


async def resolve_delete_comment(ctx: Context, comment_id: str) -> bool:
    viewer = ctx.require_viewer()
    return await delete_comment(_deps(ctx), viewer, decode_id(comment_id, "Comment"))


async def resolve_share(ctx: Context, post_id: str, to_user_ids: list[str]) -> dict:
    viewer = ctx.require_viewer()
    recipients = [decode_id(u, "User") for u in to_user_ids]
    return await share_post(_deps(ctx), viewer, decode_id(post_id, "Post"), recipients)


async def resolve_mark_read(ctx: Context, up_to: str | None) -> int:
    viewer = ctx.require_viewer()
    anchor = decode_id(up_to, "Notification") if up_to else None
    return await queries.mark_notifications_read(ctx.stores, viewer, anchor)


# --- queries -------------------------------------------------------------------------------
async def resolve_notifications(ctx: Context, first: int | None, after: str | None) -> Page[dict]:
    viewer = ctx.require_viewer()
    return await queries.notifications_page(
        ctx.stores, viewer, ctx.cursors.clamp_first(first), after
    )


async def resolve_unread_count(ctx: Context) -> int:
    return await queries.unread_notification_count(ctx.stores, ctx.require_viewer())


async def resolve_viewer_has_liked(ctx: Context, post: dict) -> bool:
    if ctx.viewer_id is None:
        return False
    return await ctx.loader(viewer_likes).load(post["_id"])


async def resolve_likers(
    ctx: Context, post: dict, first: int | None, after: str | None
) -> Page[dict]:
    """Users who like the post, newest first (the Post was already visibility-checked)."""
    page = await queries.likers_page(
        ctx.stores, ctx.viewer_id, post["_id"], ctx.cursors.clamp_first(first), after
    )
    users = await ctx.loader(users_by_id).load_many([like["user_id"] for like in page.items])
    keep = [i for i, u in enumerate(users) if u is not None]
    return Page([users[i] for i in keep], [page.cursors[i] for i in keep], page.has_next)


async def resolve_comments(
    ctx: Context, post: dict, first: int | None, after: str | None
) -> Page[dict]:
    return await queries.comments_page(
        ctx.stores, ctx.viewer_id, post["_id"], ctx.cursors.clamp_first(first), after
    )


async def resolve_replies(
    ctx: Context, comment: dict, first: int | None, after: str | None
) -> Page[dict]:
    return await queries.comments_page(
        ctx.stores,
        ctx.viewer_id,
        comment["post_id"],
        ctx.cursors.clamp_first(first),
        after,
        reply_to_id=comment["_id"],
    )


async def resolve_shared_with_me(
    ctx: Context, user_id: ObjectId, first: int | None, after: str | None
) -> Page[dict] | None:
    """Only the viewer's own inbox exists for them; anybody else's is null."""
    if ctx.viewer_id is None or ctx.viewer_id != user_id:
        return None
    return await queries.shared_with_me_page(
        ctx.stores, user_id, ctx.cursors.clamp_first(first), after
    )


async def load_comment(ctx: Context, comment_id: ObjectId) -> dict | None:
    return await ctx.loader(comments_by_id).load(comment_id)


async def load_visible_comment(ctx: Context, comment_id: ObjectId) -> dict | None:
    """A comment, if the viewer may see its post and is not blocked with its author."""
    comment = await load_comment(ctx, comment_id)
    if comment is None:
        return None
    post = await load_post(ctx, comment["post_id"])
    if post is None:
        return None
    viewer = ctx.viewer_id
    if viewer is not None and await blocked_among(ctx.stores, viewer, [comment["author_id"]]):
        return None
    return comment


async def load_post(ctx: Context, post_id: ObjectId | None) -> dict | None:
    """A post document if the viewer may see it (null otherwise)."""
    if post_id is None:
        return None
    return await ctx.loader(visible_posts_by_id).load(post_id)


async def load_users(ctx: Context, ids: list[ObjectId]) -> list[dict]:
    return [u for u in await ctx.loader(users_by_id).load_many(ids) if u is not None]


async def load_notification(ctx: Context, notification: ObjectId) -> dict | None:
    """A notification by id, only for its recipient."""
    if ctx.viewer_id is None:
        return None
    return await queries.notification_of(ctx.stores, ctx.viewer_id, notification)


# --- subscriptions -------------------------------------------------------------------------
async def notification_stream(ctx: Context) -> AsyncIterator[dict]:
    """The viewer's notifications as they are created or gain an actor."""
    viewer = ctx.require_viewer()
    stores = ctx.stores
    async with listen(stores, notification_channel(stores, viewer)) as queue:
        while True:
            ids = list(dict.fromkeys(m.get("id") for m in await next_batch(queue)))
            for raw_id in ids:
                if not isinstance(raw_id, str) or not ObjectId.is_valid(raw_id):
                    continue
                doc = await queries.notification_of(stores, viewer, ObjectId(raw_id))
                if doc is not None:
                    yield doc


async def post_stream(ctx: Context, post_id: str) -> AsyncIterator[dict]:
    """The post now, then again after every change of its counts, for as long as the viewer may
    see it. The first message doubles as "subscribed": nothing published after it is missed."""
    viewer = ctx.require_viewer()
    stores = ctx.stores
    key = decode_id(post_id, "Post")
    await load_visible_post(stores, viewer, key)
    async with listen(stores, post_channel(stores, key)) as queue:
        # Read after subscribing, so a change between the check above and here is included.
        post = await queries.current_post(stores, key)
        while post is not None:
            # Re-checked on every event: a block or a switch to private ends the stream.
            if not await may_see_post(stores, viewer, post):
                return
            yield post
            await next_batch(queue)
            post = await queries.current_post(stores, key)


async def feed_stream(ctx: Context) -> AsyncIterator[dict[str, Any]]:
    """`{new_post_count, latest_post}` whenever the feed engine reports new posts at the top of
    the viewer's feed; `latest_post` is null if the viewer may not see it."""
    viewer = ctx.require_viewer()
    stores = ctx.stores
    async with listen(stores, feed_channel(stores, viewer)) as queue:
        while True:
            batch = await next_batch(queue)
            last = batch[-1] if batch else {}
            raw_id = last.get("latest_post_id")
            latest = None
            if isinstance(raw_id, str) and ObjectId.is_valid(raw_id):
                post = await queries.current_post(stores, ObjectId(raw_id))
                if post is not None and await may_see_post(stores, viewer, post):
                    latest = post
            yield {"new_post_count": int(last.get("new_post_count") or 0), "latest_post": latest}
