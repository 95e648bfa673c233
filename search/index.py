"""The search indexes in Redis: how they are laid out, kept up to date, and rebuilt.

Why Redis and not MongoDB: FerretDB pushes only `_id` equality down to SQLite, so a prefix,
regex or sort query on users/posts scans the collection. Every search is answered from the
structures below, and MongoDB is read by `_id` only (to hydrate the page being returned).

Keys (all under `stores.keys("sx", ...)`; `{u}`, `{p}`, `{l}` are ObjectId hex, `{tag}` a
`text.hashtag_key`):

  sx:u:lex            zset, score 0, member "{term}\\0{u}"     every user term, for ZRANGEBYLEX
  sx:u:p:{prefix}     zset member {u}, score follower_count  users by 1..PREFIX_LEN-char prefix
  sx:u:rank           zset member {u}, score follower_count  scores of lex matches (ZMSCORE)
  sx:u:x              zset, score 0, member "{username_key}\\0{u}"   exact username match
  sx:u:t:{u}          string: JSON {terms, x, score}         what is indexed for the user
  sx:h:lex / sx:h:p:{prefix} / sx:h:rank    as for users, member {tag}, score post count
  sx:h:r:{tag}        zset member {p}, score published ms    hashtag page, RECENT
  sx:h:t:{tag}        zset member {p}, score hot score       hashtag page, TOP
  sx:l:lex / sx:l:p:{prefix} / sx:l:rank    as for hashtags, member {l}
  sx:l:r:{l} / sx:l:t:{l}                   location page, RECENT / TOP
  sx:l:m:{l}          hash name, lat, lng                    location card (no MongoDB read)
  sx:l:geo            GEO set of {l} with coordinates        near-a-point search
  sx:p:{p}            string: JSON {a, tags, loc, t, hot}    what is indexed for a post (a: author)
  sx:built            string: time of the last full rebuild; its absence means the index was
                      lost (a query that finds nothing then rebuilds it: search/rebuild.py)
  sx:users_synced     string: time of the last `sync_users` run
  sxj                 zset "u:{u}" / "p:{p}" -> ms: entries updated in the last hour, replayed
                      after a rebuild's swap (outside `sx:`, so the swap keeps it)
  sxb:...             a rebuild's staging copy of `sx:...`, RENAMEd over it in one MULTI
  sxlock              the rebuild lock (SET NX EX, renewed by each bulk write)

Counts (hashtag and location post counts) are the cardinality of the RECENT zset, written to
the ranking zsets by one Lua script so concurrent posts never leave a stale count behind.
"""

from __future__ import annotations

import logging
import math
import time
from collections import defaultdict
from collections.abc import AsyncIterable, Iterable
from datetime import UTC, datetime
from typing import Any

import orjson
from bson import ObjectId
from redis.exceptions import WatchError

from datastore import posts
from datastore.accounts import find_user, user_ids_updated_since
from datastore.posts import READY
from datastore.stores import Stores
from search import text

log = logging.getLogger(__name__)

# Prefixes up to this length get their own score-ordered zset (a one-letter query must rank
# among thousands of matches); longer ones are few enough to rank from a ZRANGEBYLEX slice.
PREFIX_LEN = 3
SEP = "\x00"

_USER_PROJECTION = {"username": 1, "full_name": 1, "follower_count": 1}
_POST_PROJECTION = {
    "author_id": 1,
    "status": 1,
    "hashtags": 1,
    "location": 1,
    "like_count": 1,
    "comment_count": 1,
    "share_count": 1,
    "created_at": 1,
    "published_at": 1,
}

# Recount a hashtag's or location's posts and write the count everywhere it ranks, atomically,
# so the last writer always writes the current count (two posts indexed at once stay exact).
# KEYS: posts zset, rank zset, lex zset, geo zset, prefix zsets...  ARGV: member, n_lex, lex...
_RECOUNT = """
local c = redis.call('ZCARD', KEYS[1])
local member = ARGV[1]
local nlex = tonumber(ARGV[2])
if c > 0 then
  redis.call('ZADD', KEYS[2], c, member)
  for i = 5, #KEYS do redis.call('ZADD', KEYS[i], c, member) end
  for i = 1, nlex do redis.call('ZADD', KEYS[3], 0, ARGV[2 + i]) end
else
  redis.call('ZREM', KEYS[2], member)
  redis.call('ZREM', KEYS[4], member)
  for i = 5, #KEYS do redis.call('ZREM', KEYS[i], member) end
  for i = 1, nlex do redis.call('ZREM', KEYS[3], ARGV[2 + i]) end
end
return c
"""


def hot_score(published_ms: float, likes: int, comments: int, shares: int) -> float:
    """TOP order: engagement on a log scale plus publish time (x10 engagement = 12.5 h newer).
    Monotonic in time, so scores never need recomputing as posts age."""
    engagement = max(1, int(likes) + 2 * int(comments) + 3 * int(shares))
    return round(math.log10(engagement) + published_ms / 1000 / 45000, 9)


def _lex_members(terms: Iterable[str], member: str) -> list[str]:
    return [f"{t}{SEP}{member}" for t in terms]


def _prefix_set(terms: Iterable[str]) -> set[str]:
    return {p for t in terms for p in text.prefixes(t, PREFIX_LEN)}


def username_key(username: str) -> str:
    """What an exact username match compares: folded, letters, digits, '.' and '_' only."""
    folded = text.fold(username.strip().lstrip("@"))
    return "".join(ch for ch in folded if ch.isalnum() or ch in "._")[:64]


# Every entry update also notes its object in a journal (a zset, member -> time in ms, in the
# same MULTI: no extra round trip), so a rebuild can replay what changed while it was building
# into staging keys (search/rebuild.py). Kept for an hour, far longer than any rebuild.
JOURNAL_SECONDS = 3600


def journal_key(stores: Stores) -> str:
    return stores.keys("sxj")


def queue_journal(pipe: Any, stores: Stores, member: str) -> None:
    now_ms = int(time.time() * 1000)
    key = journal_key(stores)
    pipe.zadd(key, {member: now_ms})
    pipe.zremrangebyscore(key, "-inf", now_ms - JOURNAL_SECONDS * 1000)


# --- users -----------------------------------------------------------------------------------


def _user_entry(doc: dict) -> dict[str, Any]:
    return {
        "terms": text.user_terms(doc.get("username") or "", doc.get("full_name") or ""),
        "x": username_key(doc.get("username") or ""),
        "score": int(doc.get("follower_count") or 0),
    }


def _queue_user(pipe: Any, k: Any, hexid: str, old: dict | None, new: dict | None) -> None:
    """Queue the commands that turn the user's indexed entry `old` into `new` (None: absent)."""
    old_terms = set(old["terms"]) if old else set()
    new_terms = set(new["terms"]) if new else set()
    gone_prefixes = _prefix_set(old_terms) - _prefix_set(new_terms)
    for p in gone_prefixes:
        pipe.zrem(k("sx", "u", "p", p), hexid)
    gone_lex = _lex_members(old_terms - new_terms, hexid)
    if gone_lex:
        pipe.zrem(k("sx", "u", "lex"), *gone_lex)
    if old and old["x"] and (not new or new["x"] != old["x"]):
        pipe.zrem(k("sx", "u", "x"), f"{old['x']}{SEP}{hexid}")
    if new is None:
        pipe.zrem(k("sx", "u", "rank"), hexid)
        pipe.delete(k("sx", "u", "t", hexid))
        return
    score = new["score"]
    for p in _prefix_set(new_terms):
        pipe.zadd(k("sx", "u", "p", p), {hexid: score})
    if new_terms:
        pipe.zadd(k("sx", "u", "lex"), dict.fromkeys(_lex_members(new_terms, hexid), 0))
    if new["x"]:
        pipe.zadd(k("sx", "u", "x"), {f"{new['x']}{SEP}{hexid}": 0})
    pipe.zadd(k("sx", "u", "rank"), {hexid: score})
    pipe.set(k("sx", "u", "t", hexid), orjson.dumps(new))


async def index_user(stores: Stores, user_id: ObjectId) -> None:
    """Bring the user's search entries in line with their MongoDB document (or remove them if
    the user is gone). Idempotent; safe to call after any profile or follower-count change."""
    doc = await find_user(stores, user_id, projection=_USER_PROJECTION)
    new = _user_entry(doc) if doc else None
    hexid = str(user_id)
    k = stores.keys
    tkey = k("sx", "u", "t", hexid)
    async with stores.redis.pipeline(transaction=True) as pipe:
        # WATCH the entry so two concurrent re-indexes of one user cannot interleave their diffs.
        while True:
            try:
                await pipe.watch(tkey)
                raw = await pipe.get(tkey)
                old = orjson.loads(raw) if raw else None
                pipe.multi()
                _queue_user(pipe, k, hexid, old, new)
                queue_journal(pipe, stores, f"u:{hexid}")
                await pipe.execute()
                return
            except WatchError:
                continue


# --- posts, hashtags, locations ----------------------------------------------------------------


def _post_entry(doc: dict) -> dict[str, Any] | None:
    """What the index keeps for a READY post (None: the post must not be indexed)."""
    if doc.get("status") != READY:
        return None
    published = doc.get("published_at") or doc.get("created_at")
    t = published.timestamp() * 1000 if published else time.time() * 1000
    tags = sorted({text.hashtag_key(h) for h in doc.get("hashtags") or [] if isinstance(h, str)})
    tags = [t_ for t_ in tags if t_]
    loc = doc.get("location") or None
    loc_entry = None
    if isinstance(loc, dict) and loc.get("id") is not None:
        lat, lng = loc.get("lat"), loc.get("lng")
        has_point = isinstance(lat, int | float) and isinstance(lng, int | float)
        loc_entry = {
            "id": str(loc["id"]),
            "name": str(loc.get("name") or ""),
            "lat": float(lat) if has_point else None,
            "lng": float(lng) if has_point else None,
        }
    return {
        "a": str(doc["author_id"]),
        "tags": tags,
        "loc": loc_entry,
        "t": t,
        "hot": hot_score(
            t, doc.get("like_count", 0), doc.get("comment_count", 0), doc.get("share_count", 0)
        ),
    }


def _valid_point(lat: float | None, lng: float | None) -> bool:
    # Redis GEO accepts latitudes within +-85.05112878 only (Web Mercator).
    return lat is not None and lng is not None and -85.05 <= lat <= 85.05 and -180 <= lng <= 180


def _queue_post(pipe: Any, k: Any, hexid: str, old: dict | None, new: dict | None) -> None:
    old_tags = set(old["tags"]) if old else set()
    new_tags = set(new["tags"]) if new else set()
    for tag in old_tags - new_tags:
        pipe.zrem(k("sx", "h", "r", tag), hexid)
        pipe.zrem(k("sx", "h", "t", tag), hexid)
    old_loc = old["loc"]["id"] if old and old["loc"] else None
    new_loc = new["loc"]["id"] if new and new["loc"] else None
    if old_loc and old_loc != new_loc:
        pipe.zrem(k("sx", "l", "r", old_loc), hexid)
        pipe.zrem(k("sx", "l", "t", old_loc), hexid)
    if new is None:
        pipe.delete(k("sx", "p", hexid))
        return
    for tag in new_tags:
        pipe.zadd(k("sx", "h", "r", tag), {hexid: new["t"]})
        pipe.zadd(k("sx", "h", "t", tag), {hexid: new["hot"]})
    if new["loc"]:
        loc = new["loc"]
        pipe.zadd(k("sx", "l", "r", loc["id"]), {hexid: new["t"]})
        pipe.zadd(k("sx", "l", "t", loc["id"]), {hexid: new["hot"]})
        meta = {"name": loc["name"]}
        if _valid_point(loc["lat"], loc["lng"]):
            meta |= {"lat": repr(loc["lat"]), "lng": repr(loc["lng"])}
        pipe.hset(k("sx", "l", "m", loc["id"]), mapping=meta)
    pipe.set(k("sx", "p", hexid), orjson.dumps(new))


async def _recount(stores: Stores, kind: str, member: str, terms: list[str]) -> None:
    """Write the current post count of a hashtag ("h") or location ("l") to its rankings."""
    k = stores.keys
    keys = [
        k("sx", kind, "r", member),
        k("sx", kind, "rank"),
        k("sx", kind, "lex"),
        k("sx", "l", "geo") if kind == "l" else k("sx", "h", "nogeo"),
        *(k("sx", kind, "p", p) for p in sorted(_prefix_set(terms))),
    ]
    lex = _lex_members(terms, member)
    await stores.redis.eval(_RECOUNT, len(keys), *keys, member, len(lex), *lex)


async def _recount_location(stores: Stores, loc_id: str) -> None:
    k = stores.keys
    meta = await stores.redis.hgetall(k("sx", "l", "m", loc_id))
    await _recount(stores, "l", loc_id, text.name_terms(meta.get("name", "")))
    if "lat" in meta and await stores.redis.exists(k("sx", "l", "r", loc_id)):
        await stores.redis.geoadd(
            k("sx", "l", "geo"), (float(meta["lng"]), float(meta["lat"]), loc_id)
        )


async def index_post(stores: Stores, post_id: ObjectId) -> None:
    """Bring a post's hashtag and location entries in line with MongoDB: READY posts are in the
    pages of their hashtags and location, others (processing, failed, deleted) in none."""
    doc = await posts.find_post(stores, post_id, projection=_POST_PROJECTION)
    await _apply_post(stores, str(post_id), _post_entry(doc) if doc else None)


async def index_post_doc(stores: Stores, doc: dict) -> None:
    """`index_post` from a post document already at hand (the READY document the media
    pipeline just wrote), without reading MongoDB."""
    await _apply_post(stores, str(doc["_id"]), _post_entry(doc))


async def unindex_post(stores: Stores, post_id: ObjectId) -> None:
    await _apply_post(stores, str(post_id), None)


async def _apply_post(stores: Stores, hexid: str, new: dict | None) -> None:
    k = stores.keys
    pkey = k("sx", "p", hexid)
    async with stores.redis.pipeline(transaction=True) as pipe:
        while True:
            try:
                await pipe.watch(pkey)
                raw = await pipe.get(pkey)
                old = orjson.loads(raw) if raw else None
                pipe.multi()
                _queue_post(pipe, k, hexid, old, new)
                queue_journal(pipe, stores, f"p:{hexid}")
                await pipe.execute()
                break
            except WatchError:
                continue
    tags = set(old["tags"] if old else []) | set(new["tags"] if new else [])
    for tag in sorted(tags):
        await _recount(stores, "h", tag, text.name_terms(tag))
    locs = {e["loc"]["id"] for e in (old, new) if e and e["loc"]}
    for loc_id in sorted(locs):
        await _recount_location(stores, loc_id)


async def refresh_engagement(stores: Stores, post_id: ObjectId) -> None:
    """A like, comment or share changed the post's TOP score: rewrite it where it is indexed.
    ZADD XX, so a post removed meanwhile is not brought back."""
    k = stores.keys
    hexid = str(post_id)
    raw = await stores.redis.get(k("sx", "p", hexid))
    if not raw:
        return
    entry = orjson.loads(raw)
    doc = await posts.find_post(
        stores, post_id, projection={"like_count": 1, "comment_count": 1, "share_count": 1}
    )
    if not doc:
        return
    hot = hot_score(
        entry["t"], doc.get("like_count", 0), doc.get("comment_count", 0), doc.get("share_count", 0)
    )
    async with stores.redis.pipeline(transaction=False) as pipe:
        for tag in entry["tags"]:
            pipe.zadd(k("sx", "h", "t", tag), {hexid: hot}, xx=True)
        if entry["loc"]:
            pipe.zadd(k("sx", "l", "t", entry["loc"]["id"]), {hexid: hot}, xx=True)
        await pipe.execute()


# --- rebuild ---------------------------------------------------------------------------------


async def clear_index(stores: Stores) -> int:
    """Delete every search key (under this deployment's prefix). Returns how many."""
    pattern = stores.keys("sx", "*")
    deleted = 0
    batch: list[str] = []
    async for key in stores.redis.scan_iter(match=pattern, count=2000):
        batch.append(key)
        if len(batch) >= 1000:
            deleted += await stores.redis.delete(*batch)
            batch = []
    if batch:
        deleted += await stores.redis.delete(*batch)
    return deleted


class _Bulk:
    """Accumulates index writes in memory and sends them as few, large commands (one ZADD per
    key and chunk, MSET for entries): a rebuild is bound by round trips and reply parsing, not
    by Redis itself."""

    def __init__(self, stores: Stores, limit: int) -> None:
        self.r = stores.redis
        self.limit = limit
        self.zsets: dict[str, dict[str, float]] = defaultdict(dict)
        self.strings: dict[str, bytes] = {}
        self.hashes: dict[str, dict[str, str]] = {}
        self.geo: list[Any] = []
        self.size = 0

    def zadd(self, key: str, mapping: dict[str, float]) -> None:
        self.zsets[key].update(mapping)
        self.size += len(mapping)

    async def maybe_flush(self) -> None:
        if self.size >= self.limit:
            await self.flush()

    async def flush(self) -> None:
        chunk = 5000
        async with self.r.pipeline(transaction=False) as pipe:
            for key, mapping in self.zsets.items():
                items = list(mapping.items())
                for i in range(0, len(items), chunk):
                    pipe.zadd(key, dict(items[i : i + chunk]))
            strings = list(self.strings.items())
            for i in range(0, len(strings), chunk):
                pipe.mset(dict(strings[i : i + chunk]))
            for key, mapping in self.hashes.items():
                pipe.hset(key, mapping=mapping)
            for i in range(0, len(self.geo), 3 * chunk):
                pipe.geoadd(self._geo_key, self.geo[i : i + 3 * chunk])
            if self.lock:
                pipe.expire(*self.lock)
            await pipe.execute()
        self.zsets.clear()
        self.strings.clear()
        self.hashes.clear()
        self.geo = []
        self.size = 0

    _geo_key = ""
    lock: tuple[str, int] | None = None


async def rebuild_index(stores: Stores, *, batch_size: int = 200_000) -> dict[str, int]:
    """Rebuild every search structure from MongoDB into staging keys and swap them in (see
    `search.rebuild.rebuild_index`): safe while events keep arriving."""
    from search.rebuild import rebuild_index as build_and_swap

    return await build_and_swap(stores, batch_size=batch_size)


async def bulk_index(
    stores: Stores,
    users: AsyncIterable[dict],
    posts: AsyncIterable[dict],
    *,
    batch_size: int = 200_000,
    namespace: str = "sx",
    lock_key: str | None = None,
    lock_seconds: int = 0,
) -> dict[str, int]:
    """Index user and post documents in bulk into an empty index (the rebuild, and loaders
    that have the documents at hand, e.g. the benchmark). `namespace`: the first key part
    written under ("sx" is the live index; the rebuild writes to staging keys). `lock_key`:
    a lock whose expiry each flush renews to `lock_seconds`, in the same pipeline."""
    live = stores.keys

    def k(*parts: object) -> str:
        return live(namespace, *parts[1:])

    counts = {"users": 0, "posts": 0, "hashtags": 0, "locations": 0}
    bulk = _Bulk(stores, batch_size)
    bulk._geo_key = k("sx", "l", "geo")
    bulk.lock = (lock_key, lock_seconds) if lock_key else None

    async for doc in users:
        hexid = str(doc["_id"])
        entry = _user_entry(doc)
        score = entry["score"]
        for p in _prefix_set(entry["terms"]):
            bulk.zadd(k("sx", "u", "p", p), {hexid: score})
        bulk.zadd(k("sx", "u", "lex"), dict.fromkeys(_lex_members(entry["terms"], hexid), 0))
        if entry["x"]:
            bulk.zadd(k("sx", "u", "x"), {f"{entry['x']}{SEP}{hexid}": 0})
        bulk.zadd(k("sx", "u", "rank"), {hexid: score})
        bulk.strings[k("sx", "u", "t", hexid)] = orjson.dumps(entry)
        counts["users"] += 1
        await bulk.maybe_flush()

    tag_counts: dict[str, int] = defaultdict(int)
    loc_counts: dict[str, int] = defaultdict(int)
    loc_meta: dict[str, dict] = {}
    async for doc in posts:
        entry = _post_entry(doc)
        if entry is None:
            continue
        hexid = str(doc["_id"])
        for tag in entry["tags"]:
            bulk.zadd(k("sx", "h", "r", tag), {hexid: entry["t"]})
            bulk.zadd(k("sx", "h", "t", tag), {hexid: entry["hot"]})
            tag_counts[tag] += 1
        if entry["loc"]:
            loc_id = entry["loc"]["id"]
            bulk.zadd(k("sx", "l", "r", loc_id), {hexid: entry["t"]})
            bulk.zadd(k("sx", "l", "t", loc_id), {hexid: entry["hot"]})
            loc_counts[loc_id] += 1
            loc_meta[loc_id] = entry["loc"]
        bulk.strings[k("sx", "p", hexid)] = orjson.dumps(entry)
        counts["posts"] += 1
        await bulk.maybe_flush()

    # The counts are known here, so rankings are written directly (no per-tag recount).
    for tag, n in tag_counts.items():
        terms = text.name_terms(tag)
        bulk.zadd(k("sx", "h", "rank"), {tag: n})
        for p in _prefix_set(terms):
            bulk.zadd(k("sx", "h", "p", p), {tag: n})
        bulk.zadd(k("sx", "h", "lex"), dict.fromkeys(_lex_members(terms, tag), 0))
    for loc_id, n in loc_counts.items():
        loc = loc_meta[loc_id]
        terms = text.name_terms(loc["name"])
        bulk.zadd(k("sx", "l", "rank"), {loc_id: n})
        for p in _prefix_set(terms):
            bulk.zadd(k("sx", "l", "p", p), {loc_id: n})
        bulk.zadd(k("sx", "l", "lex"), dict.fromkeys(_lex_members(terms, loc_id), 0))
        meta = {"name": loc["name"]}
        if _valid_point(loc["lat"], loc["lng"]):
            meta |= {"lat": repr(loc["lat"]), "lng": repr(loc["lng"])}
            bulk.geo += [loc["lng"], loc["lat"], loc_id]
        bulk.hashes[k("sx", "l", "m", loc_id)] = meta
    counts["hashtags"] = len(tag_counts)
    counts["locations"] = len(loc_counts)
    bulk.strings[k("sx", "built")] = str(time.time()).encode()
    await bulk.flush()
    return counts


async def sync_users(stores: Stores, *, overlap_seconds: float = 5.0) -> int:
    """Re-index users whose document changed since the last sync (`updated_at`), a safety net
    for profile writes that emit no event (registration and profile edits emit none yet).
    Scans `users` in the worker, never on a query path. Returns how many were re-indexed."""
    marker = stores.keys("sx", "users_synced")
    started = time.time()
    since = float(await stores.redis.get(marker) or 0) - overlap_seconds
    changed = await user_ids_updated_since(stores, datetime.fromtimestamp(max(since, 0), UTC))
    n = 0
    for user_id in changed:
        await index_user(stores, user_id)
        n += 1
    await stores.redis.set(marker, repr(started))
    return n
