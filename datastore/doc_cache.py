"""Read-through Redis cache of whole MongoDB documents, keyed by `_id`.

Why: a feed page hydrates up to 50 posts and their authors. On FerretDB only `_id` equality is
pushed down to SQLite (an `$in` scans the collection), so the hot path reads documents from
Redis with one MGET, and only misses go to MongoDB (by `_id`, then one pipelined SET). Entries
expire after a TTL and are deleted when the document changes (domain event handlers call
`invalidate`), so staleness is bounded either way. If Redis is down the cache is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Sequence

import bson
from bson import ObjectId
from redis.exceptions import RedisError

from datastore.stores import Stores

log = logging.getLogger(__name__)


# Called with (collection, hits, misses) after each lookup; the gateway registers its metrics
# here, so this layer does not import the layers above it.
LOOKUP_OBSERVERS: list[Callable[[str, int, int], None]] = []


class DocCache:
    def __init__(
        self,
        stores: Stores,
        collection: str,
        ttl_seconds: int = 600,
        cacheable: Callable[[dict], bool] | None = None,
    ) -> None:
        self.stores = stores
        self.collection = collection
        self.ttl = ttl_seconds
        self.cacheable = cacheable or (lambda doc: True)

    def key(self, doc_id: ObjectId) -> str:
        return self.stores.keys("doc", self.collection, doc_id)

    async def get_many(self, ids: Sequence[ObjectId]) -> list[dict | None]:
        if not ids:
            return []
        redis = self.stores.redis_raw
        cached: list[bytes | None]
        try:
            cached = await redis.mget([self.key(i) for i in ids])
        except RedisError as exc:
            log.warning("doc cache unavailable, reading MongoDB: %s", exc)
            cached = [None] * len(ids)
            redis = None
        found: dict[ObjectId, dict] = {}
        missing: list[ObjectId] = []
        for doc_id, raw in zip(ids, cached, strict=True):
            if raw is not None:
                found[doc_id] = bson.decode(raw, codec_options=_CODEC)
            elif doc_id not in found:
                missing.append(doc_id)
        for observe in LOOKUP_OBSERVERS:
            observe(self.collection, len(ids) - len(missing), len(missing))
        if missing:
            fetched = await self._read_mongo(list(dict.fromkeys(missing)))
            for doc in fetched:
                found[doc["_id"]] = doc
            to_cache = [doc for doc in fetched if self.cacheable(doc)]
            if to_cache and redis is not None:
                try:
                    async with redis.pipeline(transaction=False) as pipe:
                        for doc in to_cache:
                            pipe.set(self.key(doc["_id"]), bson.encode(doc), ex=self.ttl)
                        await pipe.execute()
                except RedisError as exc:
                    log.warning("doc cache write skipped: %s", exc)
        return [found.get(i) for i in ids]

    async def _read_mongo(self, ids: list[ObjectId]) -> list[dict]:
        collection = self.stores.db[self.collection]
        if self.stores.settings.mongo_point_reads or len(ids) == 1:
            # FerretDB pushes `_id` equality down to SQLite, which walks the table to the row
            # (no index: about 1 ms for an old document, a full scan for a new one), but
            # answers `$in` by decoding the whole collection (tens of seconds at that size).
            found = await asyncio.gather(*(collection.find_one({"_id": i}) for i in ids))
            return [d for d in found if d is not None]
        return [d async for d in collection.find({"_id": {"$in": ids}})]

    async def prime(self, docs: Iterable[dict]) -> None:
        """Cache documents a writer has just written in full, so the first reader does not miss
        (on FerretDB a miss on a new document scans its collection: seconds at 100k posts)."""
        docs = [d for d in docs if self.cacheable(d)]
        if not docs:
            return
        try:
            async with self.stores.redis_raw.pipeline(transaction=False) as pipe:
                for doc in docs:
                    pipe.set(self.key(doc["_id"]), bson.encode(doc), ex=self.ttl)
                await pipe.execute()
        except RedisError as exc:
            log.warning("doc cache write skipped: %s", exc)

    async def invalidate(self, ids: Iterable[ObjectId | str]) -> None:
        keys = [self.key(i) for i in ids]
        if keys:
            try:
                await self.stores.redis_raw.delete(*keys)
            except RedisError as exc:
                log.warning("doc cache invalidation failed: %s", exc)


_CODEC = bson.CodecOptions(tz_aware=True)


def user_cache(stores: Stores) -> DocCache:
    return DocCache(stores, "users")


def post_cache(stores: Stores) -> DocCache:
    # Only READY posts: a post still processing changes status (to FAILED) without an event,
    # and its author polls it.
    return DocCache(stores, "posts", cacheable=lambda doc: doc.get("status") == "READY")


def comment_cache(stores: Stores) -> DocCache:
    # Writers drop a comment's copy when its reply_count moves or it is deleted.
    return DocCache(stores, "comments")
