"""Dirty marks: which documents' counters a write may have left behind the edges they count.

Every edge write (a like, comment, share, follow, a post becoming READY or deleted) marks the
documents whose counters it will move, BEFORE it writes the edge, so a crash between the edge
and its counter leaves a mark behind; `maintenance/reconcile.py` recounts marked documents from
the edge collections. Marked first on purpose: a mark made after the counter would be lost
with the very crash it is for.

Why Redis (a zset per kind, member = document id, score = time of the latest mark in ms) and
not a MongoDB field: the mark is one ZADD with no document write, so it adds no FerretDB write
(each costs a scan-free but locked SQLite write) and no contention on hot posts; the time lets
the reconciler leave alone documents a write is still working on. When Redis is down the mark
is skipped (the write still commits to MongoDB), and the reconciler's sweep of recently created
edges (by `created_at`) finds those documents instead.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from typing import Any, Literal

from redis.exceptions import RedisError

from datastore.stores import Stores

log = logging.getLogger(__name__)

DirtyKind = Literal["posts", "users", "hashtags", "locations"]
KINDS: tuple[DirtyKind, ...] = ("posts", "users", "hashtags", "locations")

# Remove a mark only if no write marked the document again since it was read.
_UNMARK_IF_UNCHANGED = """
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then
  return redis.call('ZREM', KEYS[1], ARGV[1])
end
return 0
"""


def dirty_key(stores: Stores, kind: DirtyKind) -> str:
    return stores.keys("dirty", kind)


def now_ms() -> int:
    return int(time.time() * 1000)


def queue_marks(pipe: Any, stores: Stores, marks: dict[DirtyKind, Iterable[Any]]) -> None:
    """Queue the marks on a caller's pipeline (to ride on a round trip it makes anyway)."""
    at = now_ms()
    for kind, ids in marks.items():
        members = {str(i): at for i in ids if i is not None}
        if members:
            pipe.zadd(dirty_key(stores, kind), members)


async def mark_dirty(stores: Stores, marks: dict[DirtyKind, Iterable[Any]]) -> None:
    """Mark documents dirty (one round trip). A Redis error is logged, not raised: the write
    goes on, and the reconciler's sweep by `created_at` finds what was not marked."""
    try:
        async with stores.redis.pipeline(transaction=False) as pipe:
            queue_marks(pipe, stores, marks)
            if pipe.command_stack:
                await pipe.execute()
    except RedisError as exc:
        log.warning("could not mark %s dirty (the sweep will find them): %s", marks, exc)


async def due(
    stores: Stores, kind: DirtyKind, older_than_ms: int, limit: int
) -> list[tuple[str, int]]:
    """Marked documents whose latest mark is older than `older_than_ms`, oldest first."""
    rows = await stores.redis.zrangebyscore(
        dirty_key(stores, kind), "-inf", older_than_ms, start=0, num=limit, withscores=True
    )
    return [(m, int(s)) for m, s in rows]


async def mark_score(stores: Stores, kind: DirtyKind, member: str) -> int | None:
    score = await stores.redis.zscore(dirty_key(stores, kind), member)
    return None if score is None else int(score)


async def unmark_if_unchanged(stores: Stores, kind: DirtyKind, member: str, score: int) -> bool:
    return bool(
        await stores.redis.eval(_UNMARK_IF_UNCHANGED, 1, dirty_key(stores, kind), member, score)
    )


async def remark(stores: Stores, kind: DirtyKind, member: str) -> None:
    """Look at the document again later (after a repair, to see that it held)."""
    await stores.redis.zadd(dirty_key(stores, kind), {member: now_ms()}, gt=True)


async def count(stores: Stores, kind: DirtyKind) -> int:
    return int(await stores.redis.zcard(dirty_key(stores, kind)))
