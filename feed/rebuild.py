"""The way back from MongoDB, the source of truth: rebuild a timeline or an authored set when its
`built` marker is missing (never built, dropped for an inactive user, or Redis was flushed)."""

from __future__ import annotations

from collections.abc import Sequence

from bson import ObjectId

from datastore import posts
from datastore.graph import following_ids
from datastore.stores import Stores
from feed.keys import FeedKeys, score_of

_PROJECTION = {"published_at": 1, "created_at": 1}


async def _rebuild(
    stores: Stores, authors: list[ObjectId], key: str, marker: str
) -> dict[str, int]:
    """Replace zset `key` with the newest TIMELINE_CAP READY posts of `authors` and set
    `marker`, in one MULTI so readers never see a half-built set."""
    found = await posts.newest_ready(
        stores, authors, stores.settings.timeline_cap, projection=_PROJECTION
    )
    entries = {str(p["_id"]): score_of(p) for p in found}
    async with stores.redis.pipeline(transaction=True) as pipe:
        pipe.delete(key)
        if entries:
            pipe.zadd(key, entries)
        pipe.set(marker, 1)
        await pipe.execute()
    return entries


async def rebuild_timeline(stores: Stores, user: ObjectId) -> None:
    keys = FeedKeys(stores)
    authors = [*await following_ids(stores, user), user]
    await _rebuild(stores, authors, keys.timeline(user), keys.timeline_built(user))


async def rebuild_authored(stores: Stores, author: ObjectId) -> dict[str, int]:
    keys = FeedKeys(stores)
    return await _rebuild(stores, [author], keys.authored(author), keys.authored_built(author))


async def ensure_authored(stores: Stores, authors: Sequence[ObjectId]) -> None:
    """Rebuild the authored sets among `authors` that are not built (one round trip to check)."""
    if not authors:
        return
    keys = FeedKeys(stores)
    async with stores.redis.pipeline(transaction=False) as pipe:
        for author in authors:
            pipe.exists(keys.authored_built(author))
        built = await pipe.execute()
    for author, ok in zip(authors, built, strict=True):
        if not ok:
            await rebuild_authored(stores, author)
