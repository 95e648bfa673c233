"""Search queries and the hashtag and location pages, answered from the Redis indexes
(`search.index`); MongoDB is read by `_id` only, to hydrate what is returned.

Result lists are ranked in full from a bounded candidate set (at most MAX_CANDIDATES per
search), then cut into pages by a signed keyset cursor, so paging is stable and never uses
offsets. Post pages walk a zset downward from the cursor and drop what the viewer may not see.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from bson import ObjectId
from bson.errors import InvalidId

from core.cursor import decode_cursor, encode_cursor
from core.errors import BadInput
from core.pagination import Page
from datastore import graph
from datastore.doc_cache import post_cache, user_cache
from datastore.stores import Stores
from search import text
from search.index import PREFIX_LEN, SEP, username_key
from services.visibility import visible_owner_ids

# A search ranks at most this many matches; past it a query is too broad to be useful.
MAX_CANDIDATES = 1000
# Longer prefixes are ranked from a ZRANGEBYLEX slice of at most this many terms.
LEX_SCAN = 5000
# A post page stops looking after this many hidden posts in a row (then hasNextPage is true).
MAX_SCAN_POSTS = 2000
MAX_RADIUS_KM = 200.0
_UNTIL = b"\xff"  # sorts after every UTF-8 byte: the end of a ZRANGEBYLEX prefix range

PostOrder = Literal["TOP", "RECENT"]


@dataclass(frozen=True, slots=True)
class HashtagHit:
    name: str
    post_count: int


@dataclass(frozen=True, slots=True)
class LocationHit:
    id: ObjectId
    name: str
    lat: float | None
    lng: float | None
    post_count: int
    distance_km: float | None = None


async def docs_by_id(stores: Stores, collection: str, ids: Sequence[ObjectId]) -> list[dict | None]:
    """Users or posts by `_id` through the shared read-through Redis cache (one MGET; misses
    are one MongoDB `$in`). On FerretDB every MongoDB read scans the collection, `_id`
    equality included, so a page must not cost a read per item."""
    cache = user_cache(stores) if collection == "users" else post_cache(stores)
    return await cache.get_many(list(ids))


def _oid(hexid: str) -> ObjectId | None:
    try:
        return ObjectId(hexid)
    except (InvalidId, TypeError):
        return None


def _page(ranked: list[tuple[Any, ...]], first: int, kind: str, scope: Any, after: str | None):
    """Cut a fully ranked list of sort keys (tuples; the last element is the member) after the
    cursor. Returns (keys of the page, cursors, has_next)."""
    if after:
        payload = decode_cursor(kind, after)
        if not isinstance(payload, list) or len(payload) != 2 or payload[0] != scope:
            raise BadInput("This cursor belongs to another search", argument="after")
        last = tuple(payload[1])
        try:
            ranked = [key for key in ranked if list(key) > list(last)]
        except TypeError as exc:
            raise BadInput("Malformed cursor", argument="after") from exc
    chunk = ranked[:first]
    cursors = [encode_cursor(kind, [scope, list(key)]) for key in chunk]
    return chunk, cursors, len(ranked) > first


async def _lex_matches(stores: Stores, kind: str, prefix: str) -> list[str]:
    """Members whose indexed terms start with `prefix` (deduplicated, at most LEX_SCAN terms)."""
    lex = stores.keys("sx", kind, "lex")
    start = b"[" + prefix.encode()
    rows = await stores.redis.zrangebylex(lex, start, start + _UNTIL, start=0, num=LEX_SCAN)
    return list(dict.fromkeys(row.rsplit(SEP, 1)[1] for row in rows))


async def _ranked_candidates(stores: Stores, kind: str, query: text.Query) -> dict[str, float]:
    """member -> score for the best-scored matches of `query` (before filtering by the other
    words of a multi-word query)."""
    r = stores.redis
    k = stores.keys
    found: dict[str, float] = {}
    leads = [query.lead] + ([query.joined] if len(query.tokens) > 1 else [])
    for lead in leads:
        if len(lead) <= PREFIX_LEN:
            rows = await r.zrevrange(
                k("sx", kind, "p", lead), 0, MAX_CANDIDATES - 1, withscores=True
            )
            found.update(rows)
        else:
            members = await _lex_matches(stores, kind, lead)
            if members:
                scores = await r.zmscore(k("sx", kind, "rank"), members)
                found.update((m, s) for m, s in zip(members, scores, strict=True) if s is not None)
    if len(found) > MAX_CANDIDATES:
        best = sorted(found.items(), key=lambda ms: (-ms[1], ms[0]))[:MAX_CANDIDATES]
        found = dict(best)
    return found


async def _filter_terms(
    stores: Stores, query: text.Query, members: list[str], terms_of: Any
) -> list[str]:
    """Keep members all of whose query words match (multi-word queries only)."""
    if len(query.tokens) <= 1 or not members:
        return members
    found = await terms_of(members)
    return [m for m, terms in zip(members, found, strict=True) if terms and query.matches(terms)]


# --- users -----------------------------------------------------------------------------------


async def _user_terms(stores: Stores, members: list[str]) -> list[list[str] | None]:
    if not members:
        return []
    raws = await stores.redis.mget([stores.keys("sx", "u", "t", m) for m in members])
    return [orjson.loads(raw)["terms"] if raw else None for raw in raws]


async def search_users(
    stores: Stores, viewer: ObjectId | None, raw_query: str, first: int, after: str | None
) -> Page[dict]:
    """Users whose username or full name (or a word of either) starts with the query, ranked:
    exact username, then accounts the viewer follows, then by follower count. Users blocked
    either way never appear; private accounts do."""
    query = text.parse_query(raw_query)
    if query.empty:
        return Page([], [], False)
    r = stores.redis
    k = stores.keys
    exact_key = username_key(raw_query)
    scores = await _ranked_candidates(stores, "u", query)
    candidates = set(scores)

    # Accounts the viewer follows rank above the rest: find every followed match, not only
    # those among the best-scored candidates (ZINTER with the prefix zsets does it in Redis).
    followed: set[str] = set()
    if viewer is not None:
        following_key = k("following", viewer)
        for lead in {query.lead[:PREFIX_LEN], query.joined[:PREFIX_LEN]}:
            rows = await r.zinter(
                [k("sx", "u", "p", lead), following_key], aggregate="MIN", withscores=False
            )
            followed.update(rows)
        if followed:
            rank = await r.zmscore(k("sx", "u", "rank"), list(followed))
            for m, s in zip(list(followed), rank, strict=True):
                if s is not None:
                    scores.setdefault(m, s)
    exact: set[str] = set()
    if exact_key:
        start = b"[" + f"{exact_key}{SEP}".encode()
        rows = await r.zrangebylex(k("sx", "u", "x"), start, start + _UNTIL)
        exact = {row.rsplit(SEP, 1)[1] for row in rows}
        if exact:
            rank = await r.zmscore(k("sx", "u", "rank"), list(exact))
            scores.update((m, s) for m, s in zip(list(exact), rank, strict=True) if s is not None)

    # Candidates from the lead word's index match it whole; a multi-word query, and the
    # followed accounts found by their 3-letter prefix, are checked against every word.
    verified = candidates if len(query.tokens) == 1 else set()
    to_check = sorted((candidates | followed) - verified - exact)
    checked = await _user_terms(stores, to_check)
    ok = {m for m, t in zip(to_check, checked, strict=True) if t and query.matches(t)}
    keep = {m for m in verified | ok | exact if m in scores}
    if viewer is not None and keep:
        # Blocks either way hide the account: the accounts domain's Redis block sets.
        among = [o for o in map(_oid, keep) if o is not None]
        keep -= {str(o) for o in await graph.blocked_among(stores, viewer, among)}

    def tier(m: str) -> int:
        return 0 if m in exact else 1 if m in followed else 2

    ranked = sorted(((tier(m), -scores[m], m) for m in keep), key=lambda key: key)
    ranked = ranked[:MAX_CANDIDATES]
    chunk, cursors, has_next = _page(ranked, first, "searchUsers", query.joined, after)
    oids = [_oid(key[2]) for key in chunk]
    docs = await docs_by_id(stores, "users", [o for o in oids if o is not None])
    items: list[dict] = []
    out_cursors: list[str] = []
    by_id = {d["_id"]: d for d in docs if d}
    for oid, cur in zip(oids, cursors, strict=True):
        if oid in by_id:
            items.append(by_id[oid])
            out_cursors.append(cur)
    return Page(items, out_cursors, has_next)


# --- hashtags --------------------------------------------------------------------------------


async def _tag_terms(stores: Stores, members: list[str]) -> list[list[str]]:
    return [text.name_terms(m) for m in members]


async def search_hashtags(
    stores: Stores, raw_query: str, first: int, after: str | None
) -> Page[HashtagHit]:
    """Hashtags with a word starting with the query (accents and case ignored), most posts
    first."""
    query = text.parse_query(raw_query.strip().lstrip("#") if raw_query else raw_query)
    if query.empty:
        return Page([], [], False)
    scores = await _ranked_candidates(stores, "h", query)
    members = await _filter_terms(stores, query, list(scores), lambda ms: _tag_terms(stores, ms))
    ranked = sorted((-scores[m], m) for m in members)[:MAX_CANDIDATES]
    chunk, cursors, has_next = _page(ranked, first, "searchHashtags", query.joined, after)
    return Page([HashtagHit(m, int(-s)) for s, m in chunk], cursors, has_next)


async def get_hashtag(stores: Stores, name: str) -> HashtagHit | None:
    """A hashtag with at least one READY post, by name (with or without '#', any case)."""
    if len(name) > 200:
        raise BadInput("A hashtag is at most 100 characters", argument="name")
    tag = text.hashtag_key(name)
    if not tag:
        return None
    count = await stores.redis.zcard(stores.keys("sx", "h", "r", tag))
    return HashtagHit(tag, count) if count else None


# --- locations -------------------------------------------------------------------------------


async def _location_hits(
    stores: Stores, ids: list[str], distances: dict[str, float] | None = None
) -> list[LocationHit | None]:
    k = stores.keys
    async with stores.redis.pipeline(transaction=False) as pipe:
        for i in ids:
            pipe.hgetall(k("sx", "l", "m", i))
            pipe.zcard(k("sx", "l", "r", i))
        rows = await pipe.execute()
    out: list[LocationHit | None] = []
    for n, i in enumerate(ids):
        meta, count = rows[2 * n], rows[2 * n + 1]
        oid = _oid(i)
        if not meta or oid is None:
            out.append(None)
            continue
        out.append(
            LocationHit(
                id=oid,
                name=meta.get("name", ""),
                lat=float(meta["lat"]) if "lat" in meta else None,
                lng=float(meta["lng"]) if "lng" in meta else None,
                post_count=int(count),
                distance_km=(distances or {}).get(i),
            )
        )
    return out


async def search_locations(
    stores: Stores,
    raw_query: str,
    first: int,
    after: str | None,
    *,
    lat: float | None = None,
    lng: float | None = None,
    radius_km: float | None = None,
) -> Page[LocationHit]:
    """Locations whose name has a word starting with the query, most posts first. With `lat`
    and `lng`: locations within `radius_km` of that point, nearest first, optionally narrowed
    by the query (which may then be empty)."""
    query = text.parse_query(raw_query)
    if (lat is None) != (lng is None):
        raise BadInput("Give both lat and lng, or neither", argument="lat")
    if lat is not None and lng is not None:
        return await _nearby(stores, query, lat, lng, radius_km, first, after)
    if radius_km is not None:
        raise BadInput("radiusKm needs lat and lng", argument="radiusKm")
    if query.empty:
        return Page([], [], False)
    scores = await _ranked_candidates(stores, "l", query)
    members = list(scores)
    if len(query.tokens) > 1:
        hits = await _location_hits(stores, members)
        members = [
            m
            for m, h in zip(members, hits, strict=True)
            if h and query.matches(text.name_terms(h.name))
        ]
    ranked = sorted((-scores[m], m) for m in members)[:MAX_CANDIDATES]
    chunk, cursors, has_next = _page(ranked, first, "searchLocations", query.joined, after)
    hits = await _location_hits(stores, [m for _, m in chunk])
    pairs = [(h, c) for h, c in zip(hits, cursors, strict=True) if h]
    return Page([h for h, _ in pairs], [c for _, c in pairs], has_next)


async def _nearby(
    stores: Stores,
    query: text.Query,
    lat: float,
    lng: float,
    radius_km: float | None,
    first: int,
    after: str | None,
) -> Page[LocationHit]:
    if not (-90 <= lat <= 90 and -180 <= lng <= 180) or lat != lat or lng != lng:
        raise BadInput("lat must be within -90..90 and lng within -180..180", argument="lat")
    radius = 10.0 if radius_km is None else radius_km
    if not 0 < radius <= MAX_RADIUS_KM:
        raise BadInput(f"radiusKm must be within 0..{MAX_RADIUS_KM:g}", argument="radiusKm")
    rows = await stores.redis.geosearch(
        stores.keys("sx", "l", "geo"),
        longitude=lng,
        latitude=lat,
        radius=radius,
        unit="km",
        sort="ASC",
        count=MAX_CANDIDATES,
        withdist=True,
    )
    distances = {m: float(d) for m, d in rows}
    members = list(distances)
    hits = await _location_hits(stores, members, distances)
    keep = [
        h for h in hits if h is not None and (query.empty or query.matches(text.name_terms(h.name)))
    ]
    by_id = {str(h.id): h for h in keep}
    ranked = [(h.distance_km or 0.0, str(h.id)) for h in keep]
    scope = [query.joined, round(lat, 6), round(lng, 6), radius]
    chunk, cursors, has_next = _page(ranked, first, "nearbyLocations", scope, after)
    return Page([by_id[m] for _, m in chunk], cursors, has_next)


async def get_location(stores: Stores, location_id: ObjectId) -> LocationHit | None:
    """A location some READY post has used (its card comes from the index, falling back to the
    `locations` document)."""
    [hit] = await _location_hits(stores, [str(location_id)])
    if hit is not None:
        return hit
    doc = await stores.db.locations.find_one({"_id": location_id})
    if not doc:
        return None
    lat, lng = doc.get("lat"), doc.get("lng")
    return LocationHit(
        id=location_id,
        name=doc.get("name") or "",
        lat=float(lat) if isinstance(lat, int | float) else None,
        lng=float(lng) if isinstance(lng, int | float) else None,
        post_count=0,
    )


# --- post pages ------------------------------------------------------------------------------


async def _walk_desc(
    stores: Stores, key: str, after: tuple[float, str] | None, batch: int
) -> AsyncIterator[list[tuple[str, float]]]:
    """Batches of (member, score) from a zset, highest first, strictly after `after` in that
    order (equal scores come in descending member order, as Redis returns them)."""
    high: float | str = "+inf" if after is None else after[0]
    offset = 0
    while True:
        rows = await stores.redis.zrevrangebyscore(
            key, high, "-inf", start=offset, num=batch, withscores=True
        )
        offset += len(rows)
        at_end = len(rows) < batch
        if after is not None:
            rows = [(m, s) for m, s in rows if not (s == after[0] and m >= after[1])]
        if rows:
            yield rows
        if at_end:
            return


async def _post_page(
    stores: Stores,
    viewer: ObjectId | None,
    key: str,
    kind: str,
    scope: str,
    first: int,
    after: str | None,
) -> Page[dict]:
    cursor_key: tuple[float, str] | None = None
    if after:
        payload = decode_cursor(kind, after)
        if (
            not isinstance(payload, list)
            or len(payload) != 3
            or payload[0] != scope
            or not isinstance(payload[1], int | float)
            or not isinstance(payload[2], str)
        ):
            raise BadInput("This cursor belongs to another page", argument="after")
        cursor_key = (float(payload[1]), payload[2])
    items: list[dict] = []
    cursors: list[str] = []
    scanned = 0
    if first == 0:
        return Page([], [], bool(await stores.redis.zcard(key)))
    batch = min(max(first + 1, 20), 100)
    async for rows in _walk_desc(stores, key, cursor_key, batch):
        scanned += len(rows)
        # Visibility first, from the index's record of each post's author (no post reads),
        # then only the posts that can be on the page are read (from the document cache).
        raws = await stores.redis.mget([stores.keys("sx", "p", m) for m, _ in rows])
        authored = [
            (m, s, ObjectId(orjson.loads(raw)["a"]))
            for (m, s), raw in zip(rows, raws, strict=True)
            if raw
        ]
        owners = await docs_by_id(stores, "users", list({a for _, _, a in authored}))
        visible = await visible_owner_ids(stores, viewer, [o for o in owners if o])
        candidates = [(m, s) for m, s, a in authored if a in visible]
        while candidates and len(items) <= first:
            take = candidates[: first + 1 - len(items)]
            candidates = candidates[len(take) :]
            posts = await docs_by_id(stores, "posts", [ObjectId(m) for m, _ in take])
            for (member, score), post in zip(take, posts, strict=True):
                # The index may trail MongoDB by an event: re-check what it claims.
                if post and post.get("status") == "READY" and post["author_id"] in visible:
                    items.append(post)
                    cursors.append(encode_cursor(kind, [scope, score, member]))
        if len(items) > first:
            break
        if scanned >= MAX_SCAN_POSTS:
            return Page(items, cursors, bool(items))
    has_next = len(items) > first
    return Page(items[:first], cursors[:first], has_next)


async def hashtag_posts(
    stores: Stores,
    viewer: ObjectId | None,
    name: str,
    order: PostOrder,
    first: int,
    after: str | None,
) -> Page[dict]:
    """READY posts with the hashtag that the viewer may see: newest first (RECENT) or by the
    TOP score (engagement on a log scale plus recency, `search.index.hot_score`)."""
    tag = text.hashtag_key(name)
    zset = stores.keys("sx", "h", "r" if order == "RECENT" else "t", tag)
    return await _post_page(stores, viewer, zset, f"hashtag{order}", tag, first, after)


async def location_posts(
    stores: Stores,
    viewer: ObjectId | None,
    location_id: ObjectId,
    order: PostOrder,
    first: int,
    after: str | None,
) -> Page[dict]:
    loc = str(location_id)
    zset = stores.keys("sx", "l", "r" if order == "RECENT" else "t", loc)
    return await _post_page(stores, viewer, zset, f"location{order}", loc, first, after)
