"""Dataloaders for the viewer's relation to many users at once (one Redis call per batch)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

from aiodataloader import DataLoader
from bson import ObjectId

from datastore import graph
from datastore.outages import REDIS_OUTAGE

if TYPE_CHECKING:
    from resolvers.context import Context


def _relation_loader(ctx: Context, kind: graph.GraphKind) -> DataLoader:
    async def load(ids: list[ObjectId]) -> list[bool]:
        viewer = ctx.viewer_id
        if viewer is None:
            return [False] * len(ids)
        with contextlib.suppress(REDIS_OUTAGE):  # follow_scores then reads MongoDB
            await graph.ensure_graph_cache(ctx.stores, kind, viewer)
        return await graph.follow_scores(ctx.stores, kind, viewer, ids)

    return DataLoader(load, max_batch_size=500)


def viewer_follows(ctx: Context) -> DataLoader:
    """user id -> does the viewer follow that user?"""
    return _relation_loader(ctx, "following")


def follows_viewer(ctx: Context) -> DataLoader:
    """user id -> does that user follow the viewer?"""
    return _relation_loader(ctx, "followers")


def viewer_requested(ctx: Context) -> DataLoader:
    """user id -> has the viewer a pending follow request to that user? (`_id` reads)"""

    async def load(ids: list[ObjectId]) -> list[bool]:
        viewer = ctx.viewer_id
        if viewer is None:
            return [False] * len(ids)
        return list(
            await asyncio.gather(*(graph.request_exists(ctx.stores, viewer, i) for i in ids))
        )

    return DataLoader(load, max_batch_size=100)


def viewer_blocked(ctx: Context) -> DataLoader:
    """user id -> has the viewer blocked that user? (`_id` reads)"""

    async def load(ids: list[ObjectId]) -> list[bool]:
        viewer = ctx.viewer_id
        if viewer is None:
            return [False] * len(ids)
        return list(await asyncio.gather(*(graph.has_blocked(ctx.stores, viewer, i) for i in ids)))

    return DataLoader(load, max_batch_size=100)
