"""Explore: popular recent READY posts from accounts the viewer does not follow.

The worker refreshes one global ranked set (`explore` zset: engagement with decay, public
authors only) every minute; a read filters it per viewer (followed, self, blocked, private
authors out) and pages through it by offset within the set's current version.

`explore:version`, bumped by every refresh, doubles as the built marker: a read that finds the
set empty and the marker gone (Redis lost both) refreshes it at once instead of answering
nothing until the next cron run; only the empty answer pays for the check.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from bson import ObjectId

from core.cursor import cursor_codec
from core.errors import BadInput
from core.pagination import Page
from datastore import posts
from datastore.accounts import private_user_ids
from datastore.doc_cache import post_cache, user_cache
from datastore.graph import blocked_among, following_ids
from datastore.posts import READY
from datastore.stores import Stores
from feed.keys import FeedKeys
from feed.ranking import engagement_score
from worker.registry import cron, job

EXPLORE_CURSOR = "explore"
EXPLORE_SIZE = 1000
EXPLORE_MAX_AGE = timedelta(days=7)
_REFRESH_LOCK_SECONDS = 30
_WAIT_SECONDS = 10.0


async def refresh_explore(stores: Stores, now: datetime | None = None) -> int:
    """Recompute the explore set from MongoDB; returns its size."""
    now = now or datetime.now(UTC)
    keys = FeedKeys(stores)
    candidates = await posts.ready_since(stores, now - EXPLORE_MAX_AGE)
    private = await private_user_ids(stores, list({p["author_id"] for p in candidates}))
    scored: dict[str, float] = {}
    for p in candidates:
        if p["author_id"] in private:
            continue
        age_hours = (now - p["published_at"]).total_seconds() / 3600
        # +1 so a new post with no engagement still ranks by freshness.
        scored[str(p["_id"])] = engagement_score(
            int(p.get("like_count", 0)) + 1, int(p.get("comment_count", 0)), age_hours
        )
    top = dict(sorted(scored.items(), key=lambda kv: kv[1], reverse=True)[:EXPLORE_SIZE])
    tmp = keys.explore() + ":next"
    async with stores.redis.pipeline(transaction=True) as pipe:
        pipe.delete(tmp)
        if top:
            pipe.zadd(tmp, top)
            pipe.rename(tmp, keys.explore())
        else:
            pipe.delete(keys.explore())
        pipe.incr(keys.explore() + ":version")
        await pipe.execute()
    return len(top)


async def read_explore(
    stores: Stores, viewer: ObjectId | None, first: int, after: str | None
) -> Page[dict]:
    keys = FeedKeys(stores)
    offset = 0
    if after:
        payload = cursor_codec(stores.settings).decode(EXPLORE_CURSOR, after)
        if not isinstance(payload, int) or payload < 0:
            raise BadInput("Malformed cursor", argument="after")
        offset = payload
    excluded: set[ObjectId] = set()
    if viewer is not None:
        excluded = {*await following_ids(stores, viewer), viewer}
    ids = await stores.redis.zrevrange(keys.explore(), 0, EXPLORE_SIZE - 1)
    if not ids and await ensure_explore(stores):
        ids = await stores.redis.zrevrange(keys.explore(), 0, EXPLORE_SIZE - 1)
    docs = await post_cache(stores).get_many([ObjectId(i) for i in ids])
    live = [
        d
        for d in docs
        if d is not None and d.get("status") == READY and d["author_id"] not in excluded
    ]
    if viewer is not None and live:
        # Blocks either way, from the viewer's block set (one SMISMEMBER), not a scan.
        blocked = await blocked_among(stores, viewer, list({d["author_id"] for d in live}))
        live = [d for d in live if d["author_id"] not in blocked]
    authors = await user_cache(stores).get_many(list({d["author_id"] for d in live}))
    private = {a["_id"] for a in authors if a is not None and a.get("is_private")}
    visible = [d for d in live if d["author_id"] not in private]
    page = visible[offset : offset + first + 1]
    encode = cursor_codec(stores.settings).encode
    cursors = [encode(EXPLORE_CURSOR, offset + i + 1) for i in range(len(page))]
    return Page(page[:first], cursors[:first], len(page) > first)


async def ensure_explore(stores: Stores) -> bool:
    """Refresh a lost explore set (its version marker gone), one process at a time (SET NX EX);
    the others wait for that refresh. Returns whether the set was (re)built meanwhile."""
    keys = FeedKeys(stores)
    version = keys.explore() + ":version"
    if await stores.redis.exists(version):
        return False
    lock = keys.explore() + ":lock"
    if await stores.redis.set(lock, "1", nx=True, ex=_REFRESH_LOCK_SECONDS):
        try:
            await refresh_explore(stores)
        finally:
            await stores.redis.delete(lock)
        return True
    deadline = time.monotonic() + _WAIT_SECONDS
    while time.monotonic() < deadline:
        if await stores.redis.exists(version):
            break
        await asyncio.sleep(0.05)  # another process's refresh: across processes, no Event
    return True


@job
async def refresh_explore_job(ctx: dict[str, Any]) -> int:
    return await refresh_explore(ctx["stores"])


cron("* * * * *")(refresh_explore_job)
