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

import asyncio
import uuid
from collections import OrderedDict

from bson import ObjectId
from pymongo import ReturnDocument

from datastore.doc_lock import document_lock, retry_busy
from datastore.stores import Stores

# A pending hash outlives a crashed holder (the next writer of the post applies it).
_PENDING_TTL_SECONDS = 7 * 24 * 3600
_TOKEN = "_token"
# The last flush's result per post, in this process (bounded): (token, post document).
_LATEST: OrderedDict[tuple[int, str], tuple[str, dict]] = OrderedDict()
_MEMO_SIZE = 10_000


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
    inflight = stores.keys("pending", "posts", post_id, "inflight")
    latest = stores.keys("pending", "posts", post_id, "latest")
    memo_key = (id(asyncio.get_running_loop()), latest)
    async with document_lock(stores, "posts", post_id):
        async with stores.redis.pipeline(transaction=False) as pipe:
            pipe.hgetall(inflight)
            pipe.hgetall(pending)
            pipe.get(latest)
            record, queued, latest_token = await pipe.execute()
        if record:
            await _settle_interrupted_flush(stores, post_id, pending, inflight, record)
            queued = await stores.redis.hgetall(pending)
        found = {k: int(v) for k, v in queued.items() if int(v)}
        if not found:
            # An earlier holder applied our delta. If that was the latest flush and it ran in
            # this process, its result is at hand: 200 waiters need not read the post 200 times.
            memo = _LATEST.get(memo_key)
            if memo is not None and latest_token is not None and memo[0] == latest_token:
                return memo[1]
            return await stores.db.posts.find_one({"_id": post_id})
        # Recorded before the write, with a token the write stamps on the post: if this process
        # dies between the $inc and the subtraction, the next holder can tell whether the $inc
        # landed, so a delta is applied exactly once even then.
        token = uuid.uuid4().hex
        await stores.redis.hset(inflight, mapping={**found, _TOKEN: token})
        await stores.redis.expire(inflight, _PENDING_TTL_SECONDS)
        doc = await retry_busy(
            lambda: stores.db.posts.find_one_and_update(
                {"_id": post_id},
                {"$inc": found, "$set": {"counter_flush": token}},
                return_document=ReturnDocument.AFTER,
            )
        )
        await _subtract(stores, pending, inflight, found, latest=(latest, token))
        if doc is not None:
            _LATEST[memo_key] = (token, doc)
            _LATEST.move_to_end(memo_key)
            while len(_LATEST) > _MEMO_SIZE:
                _LATEST.popitem(last=False)
        return doc


async def _subtract(
    stores: Stores,
    pending: str,
    inflight: str,
    applied: dict[str, int],
    latest: tuple[str, str] | None = None,
) -> None:
    """Take `applied` off the pending deltas (not DEL: deltas added meanwhile stay for the next
    holder), forget the in-flight record and name the latest flush, in one transaction."""
    async with stores.redis.pipeline(transaction=True) as pipe:
        for field, value in applied.items():
            pipe.hincrby(pending, field, -value)
        pipe.delete(inflight)
        if latest is not None:
            pipe.set(latest[0], latest[1], ex=_PENDING_TTL_SECONDS)
        await pipe.execute()


async def _settle_interrupted_flush(
    stores: Stores, post_id: ObjectId, pending: str, inflight: str, record: dict[str, str]
) -> None:
    record = dict(record)
    token = record.pop(_TOKEN, None)
    post = await stores.db.posts.find_one({"_id": post_id}, projection={"counter_flush": 1})
    if post is not None and token is not None and post.get("counter_flush") == token:
        await _subtract(stores, pending, inflight, {k: int(v) for k, v in record.items()})
    else:
        await stores.redis.delete(inflight)  # the $inc never landed: the deltas are still pending
