"""Dataloaders for interactions. One batched query per tick.

`viewer_likes` does not cache: a WebSocket connection keeps one context for its whole life, and
a cached "has the viewer liked this" would go stale between two `postUpdated` events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiodataloader import DataLoader
from bson import ObjectId

from services.interaction_queries import viewer_liked

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
        found = {d["_id"]: d async for d in ctx.stores.db.comments.find({"_id": {"$in": ids}})}
        return [found.get(i) for i in ids]

    return DataLoader(load, max_batch_size=500, cache=False)
