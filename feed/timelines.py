"""Operations on timelines and authored sets. Pipelined: one round trip per batch of users."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from bson import ObjectId

from datastore.stores import Stores
from feed.keys import FeedKeys

Id = ObjectId | str
FANOUT_BATCH = 1000


class Timelines:
    def __init__(self, stores: Stores) -> None:
        self.stores = stores
        self.redis = stores.redis
        self.keys = FeedKeys(stores)
        self.cap = stores.settings.timeline_cap

    # --- writes --------------------------------------------------------------------------
    async def add_to_authored(self, author: Id, post_id: Id, score: int) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(self.keys.authored(author), {str(post_id): score})
            pipe.zremrangebyrank(self.keys.authored(author), 0, -(self.cap + 1))
            await pipe.execute()

    async def push(self, users: Sequence[Id], entries: dict[str, int]) -> None:
        """Add `entries` (post id -> score) to each user's timeline and trim it to the cap.
        ZADD is idempotent, so a retried fan-out never duplicates."""
        if not users or not entries:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for user in users:
                key = self.keys.timeline(user)
                pipe.zadd(key, entries)
                pipe.zremrangebyrank(key, 0, -(self.cap + 1))
                pipe.delete(self.keys.ranked_latest(user))  # the next RANKED page re-ranks
            await pipe.execute()

    async def remove(self, users: Sequence[Id], post_ids: Sequence[str]) -> None:
        if not users or not post_ids:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for user in users:
                pipe.zrem(self.keys.timeline(user), *post_ids)
                pipe.delete(self.keys.ranked_latest(user))
            await pipe.execute()

    async def drop(self, users: Sequence[Id]) -> None:
        """Forget these users' timelines; their next read rebuilds from MongoDB."""
        if users:
            keys = [self.keys.timeline(u) for u in users]
            keys += [self.keys.timeline_built(u) for u in users]
            keys += [self.keys.ranked_latest(u) for u in users]
            await self.redis.delete(*keys)

    async def authored_entries(self, author: Id) -> dict[str, int]:
        pairs = await self.redis.zrange(self.keys.authored(author), 0, -1, withscores=True)
        return {member: int(score) for member, score in pairs}

    # --- activity ------------------------------------------------------------------------
    async def mark_active(self, user: Id, now_ms: int | None = None) -> None:
        await self.redis.zadd(*self.active_entry(user, now_ms))

    def active_entry(self, user: Id, now_ms: int | None = None) -> tuple[str, dict[str, int]]:
        """ZADD arguments recording a feed read now, for callers batching their own pipeline."""
        return self.keys.active(), {str(user): now_ms or int(time.time() * 1000)}

    async def split_active(self, users: Sequence[Id]) -> tuple[list[Id], list[Id]]:
        """(active, inactive) by last feed read within INACTIVE_AFTER_DAYS."""
        if not users:
            return [], []
        cutoff = time.time() * 1000 - self.stores.settings.inactive_after_days * 86_400_000
        scores = await self.redis.zmscore(self.keys.active(), [str(u) for u in users])
        active, inactive = [], []
        for user, score in zip(users, scores, strict=True):
            (active if score is not None and score >= cutoff else inactive).append(user)
        return active, inactive


def chunks(items: Sequence[Id], size: int = FANOUT_BATCH) -> Iterable[Sequence[Id]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]
