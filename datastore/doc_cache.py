"""Read-through Redis cache of whole MongoDB documents, keyed by `_id`.

Why: a feed page hydrates up to 50 posts and their authors. On FerretDB only `_id` equality is
pushed down to SQLite (an `$in` scans the collection), so the hot path reads documents from
Redis with one MGET, and only misses go to MongoDB (by `_id`, then one pipelined SET). Entries
expire after a TTL and are deleted when the document changes (domain event handlers call
`invalidate`), so staleness is bounded either way. If Redis is down the cache is skipped:
reads go to MongoDB, and the keys a write could not invalidate are remembered per client and
deleted in the first cache round trip once Redis answers again (a Redis that kept its data
through the outage would otherwise serve the old documents until their TTL).

Format (v2, `doc:v2:{collection}:{id}`): JSON `{"d": doc, "t": paths}` written by orjson, where
ObjectIds are hex strings and datetimes integer milliseconds (what BSON keeps), and `t` lists
the path of each such value (`["o", "_id"]`, `["d", "media", 0, "created_at"]`) so decoding
restores exactly those and never walks the rest of the document. Why not BSON: on a post with
two media items of six renditions, `orjson.loads` + restoring the typed paths takes 7.9 us
against 10.9 us for `bson.decode` (C extension), and, more to the point, a Lua script inside
Redis can read a JSON entry (feed/recent_page_lua.py reads `author_id`, `status`,
`following_count`). `_id` and the collection's `lead` fields are written first, so the script
reads them with one anchored pattern instead of decoding the document. The version in the key
means an old BSON entry is never read as JSON: it is simply never looked up again, and expires.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

import orjson
from bson import ObjectId
from redis.exceptions import RedisError

from datastore import deferred_deletes
from datastore.outages import note_degraded
from datastore.stores import Stores

log = logging.getLogger(__name__)


# Called with (collection, hits, misses) after each lookup; the gateway registers its metrics
# here, so this layer does not import the layers above it.
LOOKUP_OBSERVERS: list[Callable[[str, int, int], None]] = []

# Bumped whenever the encoding changes: entries of another format live under other keys.
FORMAT_VERSION = "v2"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
_PLAIN = (str, int, float, bool, type(None))


class Uncacheable(TypeError):
    """A document holds a value the JSON form cannot carry exactly (bytes, Decimal128, NaN...);
    such a document is simply not cached."""


def encode_doc(doc: dict, lead: Sequence[str] = ()) -> bytes:
    """The cache entry for `doc`: `_id` and `lead` fields first (see the module docstring)."""
    paths: list[list[Any]] = []

    def walk(value: Any, path: list[Any]) -> Any:
        kind = type(value)
        if kind is dict:
            return {k: walk(v, [*path, k]) for k, v in value.items()}
        if kind is list or kind is tuple:
            return [walk(v, [*path, i]) for i, v in enumerate(value)]
        if kind is ObjectId:
            paths.append(["o", *path])
            return str(value)
        if isinstance(value, datetime):
            paths.append(["d", *path])
            aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
            return (aware - _EPOCH) // _MS  # BSON's precision: whole milliseconds
        if kind is float and not math.isfinite(value):
            raise Uncacheable(f"non-finite float at {path}")
        if isinstance(value, _PLAIN):
            return value
        raise Uncacheable(f"{kind.__name__} at {path}")

    ordered = {k: doc[k] for k in ("_id", *lead) if k in doc}
    ordered.update(doc)
    return orjson.dumps({"d": walk(ordered, []), "t": paths})


# Decoded entries by their exact bytes, per process. A feed page decodes 40 entries (about a
# fifth of its CPU at 6 us each) and most of them are the same few thousand posts and authors
# again; equal bytes are an equal document, so a memo can never be stale. Each caller gets its
# own top-level dict; nested values are shared, so cached documents' nested lists and dicts
# are read-only (nothing on a read path writes into them).
DECODED_MEMO_SIZE = 10_000


@lru_cache(maxsize=DECODED_MEMO_SIZE)
def _decode_shared(raw: bytes) -> dict:
    return decode_doc(raw)


def decode_entry(raw: bytes | str) -> dict:
    if type(raw) is bytes:
        return dict(_decode_shared(raw))
    return decode_doc(raw)


def decode_doc(raw: bytes | str) -> dict:
    entry = orjson.loads(raw)
    doc = entry["d"]
    for kind, *path in entry["t"]:
        node = doc
        for step in path[:-1]:
            node = node[step]
        value = node[path[-1]]
        node[path[-1]] = ObjectId(value) if kind == "o" else entry_time(value)
    return doc


def entry_time(ms: int) -> datetime:
    """A datetime as an entry holds it (integer milliseconds), for readers of raw fields."""
    return _EPOCH + ms * _MS


class DocCache:
    def __init__(
        self,
        stores: Stores,
        collection: str,
        ttl_seconds: int = 600,
        cacheable: Callable[[dict], bool] | None = None,
        lead: Sequence[str] = (),
    ) -> None:
        self.stores = stores
        self.collection = collection
        self.ttl = ttl_seconds
        self.cacheable = cacheable or (lambda doc: True)
        # Fields written right after `_id`, where Lua readers of the entry find them.
        self.lead = tuple(lead)

    def key(self, doc_id: ObjectId | str) -> str:
        return self.stores.keys("doc", FORMAT_VERSION, self.collection, doc_id)

    def key_prefix(self) -> str:
        """`key(id)` is this followed by the id hex, for scripts that build keys themselves."""
        return self.stores.keys("doc", FORMAT_VERSION, self.collection, "")

    def observe(self, hits: int, misses: int) -> None:
        """Report lookups to the metrics, also for entries a script read (feed/recent_script.py)."""
        for observe in LOOKUP_OBSERVERS:
            observe(self.collection, hits, misses)

    def encode(self, doc: dict) -> bytes:
        return encode_doc(doc, self.lead)

    def decode(self, raw: bytes | str) -> dict | None:
        """The cached document, or None for an entry that does not decode (written by a tool
        that did not use `encode`): the caller treats it as a miss and overwrites it."""
        try:
            return decode_entry(raw)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as exc:
            log.warning("unreadable %s cache entry, read as a miss: %s", self.collection, exc)
            return None

    async def get_many(self, ids: Sequence[ObjectId]) -> list[dict | None]:
        if not ids:
            return []
        redis = self.stores.redis_raw
        cached: list[bytes | None]
        try:
            stale = deferred_deletes.deferred(redis)
            if stale:
                cached = await self._mget_after_delete(redis, stale, ids)
            else:
                cached = await redis.mget([self.key(i) for i in ids])
        except RedisError as exc:
            log.warning("doc cache unavailable, reading MongoDB: %s", exc)
            note_degraded(self.collection)
            cached = [None] * len(ids)
            redis = None
        found: dict[ObjectId, dict] = {}
        missing: list[ObjectId] = []
        for doc_id, raw in zip(ids, cached, strict=True):
            doc = self.decode(raw) if raw is not None else None
            if doc is not None:
                found[doc_id] = doc
            elif doc_id not in found:
                missing.append(doc_id)
        self.observe(len(ids) - len(missing), len(missing))
        if missing:
            fetched = await self._read_mongo(list(dict.fromkeys(missing)))
            for doc in fetched:
                found[doc["_id"]] = doc
            if redis is not None:
                await self._write(redis, fetched)
        return [found.get(i) for i in ids]

    async def _mget_after_delete(
        self, redis: Any, stale: list[str], ids: Sequence[ObjectId]
    ) -> list[bytes | None]:
        """MGET, after deleting the keys an outage left stale: still one round trip."""
        async with redis.pipeline(transaction=False) as pipe:
            pipe.delete(*stale)
            pipe.mget([self.key(i) for i in ids])
            _, cached = await pipe.execute()
        deferred_deletes.done(redis, stale)
        return cached

    def _entries(self, docs: Iterable[dict]) -> list[tuple[str, bytes]]:
        entries = []
        for doc in docs:
            if not self.cacheable(doc):
                continue
            try:
                entries.append((self.key(doc["_id"]), self.encode(doc)))
            except TypeError as exc:  # Uncacheable, or orjson refusing (a non-str key, a huge int)
                log.warning("%s %s not cached: %s", self.collection, doc.get("_id"), exc)
        return entries

    async def _write(self, redis: Any, docs: Iterable[dict]) -> None:
        entries = self._entries(docs)
        if not entries:
            return
        try:
            async with redis.pipeline(transaction=False) as pipe:
                stale = deferred_deletes.deferred(redis)
                if stale:
                    pipe.delete(*stale)
                for key, raw in entries:
                    pipe.set(key, raw, ex=self.ttl)
                await pipe.execute()
            deferred_deletes.done(redis, stale)
        except RedisError as exc:
            log.warning("doc cache write skipped: %s", exc)

    async def _read_mongo(self, ids: list[ObjectId]) -> list[dict]:
        # Point reads on FerretDB, one `$in` on MongoDB: the backend knows which is cheap.
        return await self.stores.backend.find_by_ids(self.collection, ids)

    async def prime(self, docs: Iterable[dict]) -> None:
        """Cache documents a writer has just written in full, so the first reader does not miss
        (on FerretDB a miss on a new document scans its collection: seconds at 100k posts)."""
        await self._write(self.stores.redis_raw, docs)

    async def invalidate(self, ids: Iterable[ObjectId | str]) -> None:
        keys = [self.key(i) for i in ids]
        if keys:
            redis = self.stores.redis_raw
            stale = deferred_deletes.deferred(redis)
            try:
                await redis.delete(*keys, *stale)
            except RedisError as exc:
                # repair: remembered, and deleted once Redis answers (see the docstring).
                log.warning("doc cache invalidation failed, deferred: %s", exc)
                deferred_deletes.defer_delete(redis, keys)
                return
            deferred_deletes.done(redis, stale)


def user_cache(stores: Stores) -> DocCache:
    # following_count leads: the feed script compares it with the following set's size.
    return DocCache(stores, "users", lead=("following_count",))


def post_cache(stores: Stores) -> DocCache:
    # Only READY posts: a post still processing changes status (to FAILED) without an event,
    # and its author polls it.
    # author_id and status lead: the feed script filters a page by them; the ranking fields
    # follow, which a RANKED window reads without decoding (feed/recent_page_lua.py).
    return DocCache(
        stores,
        "posts",
        cacheable=lambda doc: doc.get("status") == "READY",
        lead=("author_id", "status", "published_at", "like_count", "comment_count"),
    )


def comment_cache(stores: Stores) -> DocCache:
    # Writers drop a comment's copy when its reply_count moves or it is deleted.
    return DocCache(stores, "comments")
