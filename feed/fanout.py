"""Fan-out on write, run by the worker.

`FanOutOnWrite` pushes a READY post into each active follower's timeline, pipelined in batches
of FANOUT_BATCH. Authors above the celebrity threshold (hybrid) or every author (pull) are not
fanned out: they join the `celebs` set and readers pull their authored set instead. Followers
who have not read their feed for INACTIVE_AFTER_DAYS are skipped and their timeline dropped;
their next read rebuilds it from MongoDB. ZADD is idempotent, so a retried job (the worker died,
Redis blipped) delivers everything exactly once.
"""

from __future__ import annotations

import logging
from typing import Any

from bson import ObjectId

from core.events import Deps, emit
from datastore import posts
from datastore.accounts import find_user
from datastore.graph import follower_count, follower_ids
from datastore.posts import PostStatus
from datastore.stores import Stores
from feed.keys import FeedKeys, score_of
from feed.rebuild import ensure_authored
from feed.timelines import FANOUT_BATCH, Timelines, chunks
from worker.registry import job

log = logging.getLogger(__name__)


def is_celebrity(stores: Stores, author: dict) -> bool:
    strategy = stores.settings.feed_strategy
    if strategy == "push":
        return False
    if strategy == "pull":
        return True
    return int(author.get("follower_count", 0)) > stores.settings.celebrity_follower_threshold


class FanOutOnWrite:
    def __init__(self, deps: Deps, batch_size: int = FANOUT_BATCH) -> None:
        self.deps = deps
        self.stores = deps.stores
        self.keys = FeedKeys(deps.stores)
        self.timelines = Timelines(deps.stores)
        self.batch_size = batch_size

    async def call(
        self, post_id: ObjectId, author_id: ObjectId | None = None, score: int | None = None
    ) -> int:
        """Deliver one post; returns the number of timelines it reached.

        With `author_id` and `score` (what the post.ready handler enqueues) no MongoDB read is
        needed: the post is still live if it is in its author's authored set, which the handler
        filled and a deletion empties (`retract_post`). Otherwise (an older job, or the authored
        set was lost) the post and author are read from MongoDB as before."""
        if author_id is not None and score is not None:
            live = await self.stores.redis.zscore(self.keys.authored(author_id), str(post_id))
            if live is not None:
                return await self._fan_out(author_id, {str(post_id): score}, None)
        post = await posts.find_post(self.stores, post_id)
        if post is None or post.get("status") != PostStatus.READY:
            return 0
        author = await find_user(self.stores, post["author_id"])
        if author is None:
            return 0
        return await self._fan_out(author["_id"], {str(post_id): score_of(post)}, author)

    async def _fan_out(
        self, author_id: ObjectId, entries: dict[str, int], author: dict | None
    ) -> int:
        if author is None:
            # No MongoDB read of the author (on FerretDB an `_id` read scans `users`): the
            # follower count that decides "celebrity" is the size of the follower set the
            # fan-out walks, which datastore/graph.py writes with every follow and every
            # follower-list read checks against the counter.
            count = await follower_count(self.stores, author_id)
            author = {"_id": author_id, "follower_count": count}
            verified = False
        else:
            verified = True
        if is_celebrity(self.stores, author):
            await self.stores.redis.sadd(self.keys.celebrities(), str(author_id))
            return 0
        if await self.stores.redis.srem(self.keys.celebrities(), str(author_id)):
            # The author was pulled at read time until now: their recent posts were never
            # pushed, so deliver them all with this one.
            await ensure_authored(self.stores, [author_id])
            entries |= await self.timelines.authored_entries(author_id)
        expected = int(author.get("follower_count", 0))
        followers = await follower_ids(self.stores, author_id, expected, verify=verified)
        return await self._deliver(author_id, entries, followers)

    async def _deliver(
        self, author_id: ObjectId, entries: dict[str, int], followers: list[ObjectId]
    ) -> int:
        delivered: list[ObjectId] = []
        for batch in chunks(followers, self.batch_size):
            active, inactive = await self.timelines.split_active(batch)
            await self.timelines.push(active, entries)
            await self.timelines.drop(inactive)
            delivered += active
        if delivered:
            await emit(
                "feed.delivered",
                self.deps,
                author_id=author_id,
                post_ids=list(entries),
                user_ids=delivered,
            )
        return len(delivered)


class RemoveFromTimelines:
    """A deleted post leaves every timeline it reached (followers', the author's, celebrity
    sets, explore)."""

    def __init__(self, deps: Deps) -> None:
        self.stores = deps.stores
        self.timelines = Timelines(deps.stores)

    async def call(self, post_id: ObjectId, author_id: ObjectId) -> None:
        followers = await follower_ids(self.stores, author_id)
        for batch in chunks([*followers, author_id]):
            await self.timelines.remove(batch, [str(post_id)])


@job
async def fan_out_post(
    ctx: dict[str, Any], *, post_id: str, author_id: str | None = None, score: int | None = None
) -> int:
    return await FanOutOnWrite(Deps(ctx["stores"], ctx["queue"])).call(
        ObjectId(post_id), ObjectId(author_id) if author_id else None, score
    )


@job
async def remove_post_from_timelines(ctx: dict[str, Any], *, post_id: str, author_id: str) -> None:
    await RemoveFromTimelines(Deps(ctx["stores"], ctx["queue"])).call(
        ObjectId(post_id), ObjectId(author_id)
    )
