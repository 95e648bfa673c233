"""Account activity: recorded in Redis on the request path, copied to `users.last_active_at` by
the worker (`flush_activity` cron, services/touch_activity.py).

  active              zset user hex -> last activity (ms); fan-out skips followers absent or
                      older than INACTIVE_AFTER_DAYS here (feed/fanout.py)
  activity:unflushed  set of user hex recorded since the last flush

Why not write MongoDB on the request: on FerretDB that `$set` is a locked read-modify-write of
the whole user document (~180 ms). Nothing reads `last_active_at` on a request path (fan-out
reads the zset), so a copy at most a cron period old is enough; the field stays for tooling and
reports. For the same reason the flush leaves the user's cached document in place (a stale
`last_active_at` there is read by nobody): dropping it made every active viewer's next feed
page, once a minute, miss its viewer document and read MongoDB.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Any

from bson import ObjectId

from datastore.accounts import raise_last_active
from datastore.stores import Stores

FLUSH_BATCH = 500
_FLUSH_CONCURRENCY = 16


def active_key(stores: Stores) -> str:
    return stores.keys("active")


def unflushed_key(stores: Stores) -> str:
    return stores.keys("activity", "unflushed")


def now_ms() -> int:
    return int(time.time() * 1000)


def queue_record(pipe: Any, stores: Stores, user: ObjectId | str, at_ms: int | None = None) -> None:
    """Queue the two writes recording activity on a caller's pipeline."""
    pipe.zadd(active_key(stores), {str(user): at_ms or now_ms()})
    pipe.sadd(unflushed_key(stores), str(user))


async def record_activity(stores: Stores, user: ObjectId | str, at_ms: int | None = None) -> None:
    async with stores.redis.pipeline(transaction=False) as pipe:
        queue_record(pipe, stores, user, at_ms)
        await pipe.execute()


async def flush_activity(stores: Stores, batch: int = FLUSH_BATCH) -> int:
    """Write `last_active_at` for everyone recorded since the last flush; returns how many.

    SPOP hands each user to one flusher; a user recorded again meanwhile is simply in the set
    again for the next flush. `$max`: a login's own write (services/authenticate.py) is never
    undone by an older recorded time. A failed write puts its user back for the next run."""
    redis = stores.redis
    written = 0
    limit = asyncio.Semaphore(_FLUSH_CONCURRENCY)

    async def write(user: str, at_ms: float) -> None:
        when = datetime.fromtimestamp(at_ms / 1000, UTC)
        async with limit:
            try:
                await raise_last_active(stores, ObjectId(user), when, keep_cached=True)
            except Exception:
                await redis.sadd(unflushed_key(stores), user)
                raise

    while True:
        users: list[str] = await redis.spop(unflushed_key(stores), batch) or []
        if not users:
            return written
        scores = await redis.zmscore(active_key(stores), users)
        due = [(u, s) for u, s in zip(users, scores, strict=True) if s is not None]
        await asyncio.gather(*(write(u, s) for u, s in due))
        written += len(due)
        if len(users) < batch:
            return written
