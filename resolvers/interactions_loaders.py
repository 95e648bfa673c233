"""Dataloaders for interactions. One batched query per tick.

`viewer_likes` does not cache: a WebSocket connection keeps one context for its whole life, and
a cached "has the viewer liked this" would go stale between two `postUpdated` events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiodataloader import DataLoader
from bson import ObjectId

from datastore.doc_cache import comment_cache, post_cache
from services.interaction_queries import viewer_liked
from services.visibility import visible_posts

if TYPE_CHECKING:
    from resolvers.context import Context


def viewer_likes(ctx: Context) -> DataLoader:
    """post id -> whether the request's viewer likes it: one query for a page of posts."""

    async def load(post_ids: list[ObjectId]) -> list[bool]:
        viewer = ctx.viewer_id
        if viewer is None:
            return [False] * len(post_ids)
        liked = await viewer_liked(ctx.stores, viewer, post_ids)
        return [p in liked for p in post_ids]

    return DataLoader(load, max_batch_size=500, cache=False)


def comments_by_id(ctx: Context) -> DataLoader:
    """comment id -> comment document (or None)."""

    async def load(ids: list[ObjectId]) -> list[dict | None]:
        return await comment_cache(ctx.stores).get_many(ids)

    return DataLoader(load, max_batch_size=500, cache=False)


def visible_posts_by_id(ctx: Context) -> DataLoader:
    """post id -> post document if the viewer may see it (else None): one read of the posts and
    one of their authors through the document cache (MongoDB for misses only) and a few Redis
    calls for a whole list of notifications, shares or comments. Not cached by the loader, so a
    long-lived WebSocket context reads current documents (the cache drops a copy on every
    write)."""

    async def load(ids: list[ObjectId]) -> list[dict | None]:
        posts = await post_cache(ctx.stores).get_many(list(ids))
        return await visible_posts(ctx.stores, ctx.viewer_id, posts)

    return DataLoader(load, max_batch_size=500, cache=False)
