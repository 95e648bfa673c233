"""Worker jobs of search (named in worker/jobs.py)."""

from __future__ import annotations

from typing import Any

from bson import ObjectId

from search import index
from search.handlers import reindex
from worker.registry import cron, job


@job
async def search_reindex(ctx: dict[str, Any], *, kind: str, id: str) -> None:
    """Retry of an index update a handler could not make inline."""
    await reindex(ctx["stores"], kind, ObjectId(id))


@job
async def search_rebuild(ctx: dict[str, Any]) -> dict[str, int]:
    """Rebuild every search index from MongoDB (after a Redis flush or loss)."""
    return await index.rebuild_index(ctx["stores"])


@cron("* * * * *")
async def search_sync_users(ctx: dict[str, Any]) -> int:
    """Every minute: index users whose profile changed without an event (see sync_users)."""
    return await index.sync_users(ctx["stores"])
