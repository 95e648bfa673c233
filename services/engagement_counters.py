"""The post's like/comment/share counters, exact under heavy concurrency on FerretDB too.

MongoDB applies `$inc` atomically, so there a counter is one `find_one_and_update`. FerretDB
1.x does not (an update is an unisolated read-modify-write of the whole document), so writers of
one post are serialized with `datastore.doc_lock`, and a post update costs ~40 ms there: 200
concurrent likes applied one by one would take seconds. So each writer first adds its delta to a
Redis hash (HINCRBY is atomic), then whoever holds the post's lock applies everything pending in
one `$inc` and subtracts exactly what it applied. A waiter that finds nothing pending knows an
earlier holder already applied its delta. 200 likes become a handful of MongoDB writes, and the
count still moves only by deltas whose edge insert/delete really happened.
"""

from __future__ import annotations

from bson import ObjectId
from pymongo import ReturnDocument

from datastore.doc_lock import document_lock, retry_busy
from datastore.stores import Stores

# A pending hash outlives a crashed holder (the next writer of the post applies it).
_PENDING_TTL_SECONDS = 7 * 24 * 3600


async def bump_post_counters(
    stores: Stores, post_id: ObjectId, deltas: dict[str, int]
) -> dict | None:
    """Add `deltas` (e.g. {"like_count": 1}) to the post; returns the post document with the
    deltas applied, or None when the post no longer exists."""
    if not stores.settings.serialize_document_writes:
        return await retry_busy(
            lambda: stores.db.posts.find_one_and_update(
                {"_id": post_id}, {"$inc": deltas}, return_document=ReturnDocument.AFTER
            )
        )
    pending = stores.keys("pending", "posts", post_id)
    async with stores.redis.pipeline(transaction=True) as pipe:
        for field, delta in deltas.items():
            pipe.hincrby(pending, field, delta)
        pipe.expire(pending, _PENDING_TTL_SECONDS)
        await pipe.execute()
    async with document_lock(stores, "posts", post_id):
        found = {k: int(v) for k, v in (await stores.redis.hgetall(pending)).items() if int(v)}
        if not found:
            return await stores.db.posts.find_one({"_id": post_id})
        doc = await retry_busy(
            lambda: stores.db.posts.find_one_and_update(
                {"_id": post_id}, {"$inc": found}, return_document=ReturnDocument.AFTER
            )
        )
        # Subtract what was applied (not DEL): deltas added meanwhile stay for the next holder.
        async with stores.redis.pipeline(transaction=True) as pipe:
            for field, value in found.items():
                pipe.hincrby(pending, field, -value)
            await pipe.execute()
        return doc
