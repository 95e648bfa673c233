"""The ids of a post's comments in order, kept in Redis: one sorted set per thread (a post's
top-level comments, or the replies to one comment), so a comments page is one ZRANGEBYLEX and
one cached MGET.

Why: on FerretDB a `find({post_id, reply_to_id}).sort(_id)` walks the whole `comments`
collection (0.6 s at 20,000 comments), and the post page is among the most read. On MongoDB the
compound index answers it, but the Redis read is cheaper still.

Members are comment ids in hex with score 0, so they sort by `_id` exactly as MongoDB does
(ObjectIds compare byte-wise; lowercase hex keeps that order) and a cursor is the last id.
MongoDB stays the truth: a thread is rebuilt from it whenever its BUILT member is absent (never
read, expired, or Redis lost), writers add and remove ids as they insert and delete, and an id
whose document is gone is dropped when a reader meets it.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable

from bson import ObjectId
from redis.exceptions import RedisError

from datastore import comments, deferred_deletes
from datastore.outages import REDIS_OUTAGE, note_degraded
from datastore.stores import Stores

log = logging.getLogger(__name__)

# Sorts before every 24-character id, and "(0" excludes only it.
BUILT = "0"
# A thread nobody reads or writes for this long leaves Redis; the next reader rebuilds it.
IDLE_SECONDS = 7 * 24 * 3600


def thread_key(stores: Stores, post_id: ObjectId, root_id: ObjectId | None) -> str:
    """Top-level comments of `post_id`, or the replies to comment `root_id`."""
    return stores.keys("thread", post_id, root_id or "top")


async def add_to_thread(stores: Stores, comment: dict) -> None:
    """After the comment's insert. A thread not built yet gets the id too: the rebuild adds
    what MongoDB holds to what is there, so an insert racing a rebuild is not lost. The comment
    is already saved, so a Redis failure here is logged, not raised: the thread is dropped
    instead, if Redis allows, and rebuilt by its next reader."""
    key = thread_key(stores, comment["post_id"], comment.get("reply_to_id"))
    try:
        async with stores.redis.pipeline(transaction=False) as pipe:
            pipe.zadd(key, {str(comment["_id"]): 0})
            pipe.expire(key, IDLE_SECONDS)
            await pipe.execute()
    except RedisError as exc:
        # repair: the thread is dropped once Redis answers (its next read rebuilds it).
        log.error("comment %s not added to its thread: %s", comment["_id"], exc)
        deferred_deletes.defer_delete(stores.redis, [key])
        with contextlib.suppress(RedisError):
            await stores.redis.delete(key)


async def remove_from_thread(
    stores: Stores, post_id: ObjectId, root_id: ObjectId | None, ids: Iterable[ObjectId]
) -> None:
    members = [str(i) for i in ids]
    if members:
        await stores.redis.zrem(thread_key(stores, post_id, root_id), *members)


async def drop_threads(
    stores: Stores, post_id: ObjectId, root_ids: Iterable[ObjectId | None]
) -> None:
    """Forget the reply threads of deleted comments (`root_ids`), and with None the post's
    top-level thread. The next reader of a thread that still exists rebuilds it."""
    keys = [thread_key(stores, post_id, r) for r in root_ids]
    if keys:
        await stores.redis.delete(*keys)


async def thread_ids(
    stores: Stores,
    post_id: ObjectId,
    root_id: ObjectId | None,
    *,
    after: ObjectId | None,
    limit: int,
) -> list[ObjectId]:
    """Up to `limit` comment ids of the thread past `after`, in `_id` order. One round trip when
    the thread is built; otherwise a rebuild, which reads only `_id`s from MongoDB."""
    key = thread_key(stores, post_id, root_id)
    lower = f"({after}" if after else f"({BUILT}"
    try:
        stale = deferred_deletes.deferred(stores.redis)
        async with stores.redis.pipeline(transaction=False) as pipe:
            if stale:
                pipe.delete(*stale)  # threads an outage left without a comment
            pipe.zscore(key, BUILT)
            pipe.zrangebylex(key, lower, "+", 0, limit)
            pipe.expire(key, IDLE_SECONDS)
            *_, built, members, _ = await pipe.execute()
        deferred_deletes.done(stores.redis, stale)
    except REDIS_OUTAGE:
        # The thread from MongoDB alone: a scan on FerretDB, but the page is served.
        note_degraded("comments")
        ids = sorted(await comments.thread_member_ids(stores, post_id, root_id))
        return [i for i in ids if after is None or i > after][:limit]
    if built is None:
        members = await _rebuild(stores, key, post_id, root_id, lower, limit)
    return [ObjectId(m) for m in members]


async def _rebuild(
    stores: Stores, key: str, post_id: ObjectId, root_id: ObjectId | None, lower: str, limit: int
) -> list[str]:
    """Add MongoDB's ids to the thread and read the page in one MULTI, so a writer's or a
    deleter's change to the key cannot fall between the two."""
    ids = await comments.thread_member_ids(stores, post_id, root_id)
    members = {str(i): 0 for i in ids}
    members[BUILT] = 0
    async with stores.redis.pipeline(transaction=True) as pipe:
        pipe.zadd(key, members)
        pipe.expire(key, IDLE_SECONDS)
        pipe.zrangebylex(key, lower, "+", 0, limit)
        *_, page = await pipe.execute()
    return page
