"""Search queries and the hashtag and location pages, answered from the Redis indexes
(`search.index`); MongoDB is read by `_id` only, to hydrate what is returned.

Result lists are ranked in full from a bounded candidate set (at most MAX_CANDIDATES per
search), then cut into pages by a signed keyset cursor, so paging is stable and never uses
offsets. Post pages walk a zset downward from the cursor and drop what the viewer may not see.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import orjson
from bson import ObjectId
from bson.errors import InvalidId
from redis.exceptions import NoScriptError

from core.cursor import CursorCodec, cursor_codec
from core.errors import BadInput
from core.pagination import Page
from datastore import graph
from datastore.doc_cache import post_cache, user_cache
from datastore.locations import find_location
from datastore.posts import READY
from datastore.stores import Stores
from search import text
from search.index import PREFIX_LEN, SEP, username_key
from search.rebuild import ensure_built
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
T = TypeVar("T")


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


def _page(
    codec: CursorCodec,
    ranked: list[tuple[Any, ...]],
    first: int,
    kind: str,
    scope: Any,
    after: str | None,
):
    """Cut a fully ranked list of sort keys (tuples; the last element is the member) after the
    cursor. Returns (keys of the page, cursors, has_next)."""
    if after:
        payload = codec.decode(kind, after)
        if not isinstance(payload, list) or len(payload) != 2 or payload[0] != scope:
            raise BadInput("This cursor belongs to another search", argument="after")
        last = tuple(payload[1])
        try:
            ranked = [key for key in ranked if key > last]
        except TypeError as exc:
            raise BadInput("Malformed cursor", argument="after") from exc
    chunk = ranked[:first]
    cursors = [codec.encode(kind, [scope, list(key)]) for key in chunk]
    return chunk, cursors, len(ranked) > first


# A lex slice and the rank score of each member in it, in one step: the ZMSCORE depends on the
# ZRANGEBYLEX, and as a script both travel in the same pipeline as a search's other first reads
# (prefix zsets, followed accounts, exact username), so every candidate and its score is known
# after one round trip. Read-only, bounded by its LIMIT (LEX_SCAN rows); keys are declared.
# KEYS: lex zset ("{term}\0{member}" rows), rank zset. ARGV: min, max, row limit (-1: all).
# Returns {members, scores}: each member once, in row order (what follows the row's last NUL,
# as Python's rsplit takes it), and its rank score (nil when it has none).
_LEX_SCORED = """
local rows = redis.call('ZRANGEBYLEX', KEYS[1], ARGV[1], ARGV[2], 'LIMIT', 0, ARGV[3])
local members, seen = {}, {}
for _, row in ipairs(rows) do
  local m = string.match(row, '^.*%z(.*)$')
  if m and not seen[m] then
    seen[m] = true
    members[#members + 1] = m
  end
end
local scores = {}
for i = 1, #members, 500 do
  local part = redis.call('ZMSCORE', KEYS[2], unpack(members, i, math.min(i + 499, #members)))
  for j = 1, #part do scores[#scores + 1] = part[j] end
end
return {members, scores}
"""
_LEX_SCORED_SHA = hashlib.sha1(_LEX_SCORED.encode()).hexdigest()


async def _execute(stores: Stores, queue: Callable[[Any], None]) -> list[Any]:
    """Run the commands `queue` puts on a pipeline: one round trip. EVALSHA is queued directly
    (a redis-py Script in a pipeline costs a SCRIPT EXISTS round trip on every execute); a
    server that does not know the script yet (restarted, flushed) gets it loaded, once, and
    the pipeline is sent again."""
    for attempt in (1, 2):
        async with stores.redis.pipeline(transaction=False) as pipe:
            queue(pipe)
            try:
                return await pipe.execute()
            except NoScriptError:
                if attempt == 2:
                    raise
        await stores.redis.script_load(_LEX_SCORED)
    raise AssertionError("unreachable")


def _queue_lex_scored(pipe: Any, lex_key: str, rank_key: str, start: bytes, limit: int) -> None:
    pipe.evalsha(_LEX_SCORED_SHA, 2, lex_key, rank_key, start, start + _UNTIL, limit)


def _scored(reply: list[Any]) -> list[tuple[str, float]]:
    """(member, rank score) from a `_LEX_SCORED` reply, members without a score left out."""
    members, scores = reply
    return [(m, float(s)) for m, s in zip(members, scores, strict=True) if s is not None]


def _leads(query: text.Query) -> list[str]:
    """What candidates are retrieved by: the lead word, and all the words run together."""
    return [query.lead] + ([query.joined] if len(query.tokens) > 1 else [])


def _queue_candidates(pipe: Any, stores: Stores, kind: str, leads: list[str]) -> None:
    """Queue one read per lead: its prefix zset's best MAX_CANDIDATES (up to PREFIX_LEN
    characters), else its lex slice with rank scores."""
    k = stores.keys
    for lead in leads:
        if len(lead) <= PREFIX_LEN:
            pipe.zrevrange(k("sx", kind, "p", lead), 0, MAX_CANDIDATES - 1, withscores=True)
        else:
            start = b"[" + lead.encode()
            _queue_lex_scored(pipe, k("sx", kind, "lex"), k("sx", kind, "rank"), start, LEX_SCAN)


def _lead_rows(leads: list[str], replies: list[Any]) -> list[list[tuple[str, float]]]:
    """(member, score) per lead, from the replies `_queue_candidates` queued (in its order)."""
    return [
        reply if len(lead) <= PREFIX_LEN else _scored(reply)
        for lead, reply in zip(leads, replies, strict=True)
    ]


def _best(
    rows_per_lead: list[list[tuple[str, float]]],
) -> tuple[dict[str, float], dict[str, float]]:
    """(all matches, the best MAX_CANDIDATES of them): member -> score (before filtering by the
    other words of a multi-word query). A member found by two leads keeps the later score."""
    found: dict[str, float] = {}
    for rows in rows_per_lead:
        found.update(rows)
    if len(found) <= MAX_CANDIDATES:
        return found, found
    best = sorted(found.items(), key=lambda ms: (-ms[1], ms[0]))[:MAX_CANDIDATES]
    return found, dict(best)


async def _ranked_candidates(stores: Stores, kind: str, query: text.Query) -> dict[str, float]:
    """member -> score for the best-scored matches of `query` (before filtering by the other
    words of a multi-word query): one round trip whatever the number of leads."""
    leads = _leads(query)
    replies = await _execute(stores, lambda pipe: _queue_candidates(pipe, stores, kind, leads))
    return _best(_lead_rows(leads, replies))[1]


async def _filter_terms(
    stores: Stores, query: text.Query, members: list[str], terms_of: Any
) -> list[str]:
    """Keep members all of whose query words match (multi-word queries only)."""
    if len(query.tokens) <= 1 or not members:
        return members
    found = await terms_of(members)
    return [m for m, terms in zip(members, found, strict=True) if terms and query.matches(terms)]


async def _healing(stores: Stores, ask: Callable[[], Awaitable[T]]) -> T:
    """Ask; if the answer is empty and the index turns out lost (its built marker is gone, as
    after a FLUSHALL), rebuild it (`search.rebuild.ensure_built`) and ask again. Checked only
    on an empty answer, so a healthy query costs no extra round trip."""
    found = await ask()
    if _is_empty(found) and await ensure_built(stores):
        found = await ask()
    return found


def _is_empty(found: Any) -> bool:
    return found is None or (isinstance(found, Page) and not found.items)


# --- users -----------------------------------------------------------------------------------


async def search_users(
    stores: Stores, viewer: ObjectId | None, raw_query: str, first: int, after: str | None
) -> Page[dict]:
    """`_search_users`, healing a lost index when it finds nothing."""
    return await _healing(stores, lambda: _search_users(stores, viewer, raw_query, first, after))


async def _search_users(
    stores: Stores, viewer: ObjectId | None, raw_query: str, first: int, after: str | None
) -> Page[dict]:
    """Users whose username or full name (or a word of either) starts with the query, ranked:
    exact username, then accounts the viewer follows, then by follower count. Users blocked
    either way never appear; private accounts do.

    Three round trips at most, whatever the query and page size: every read that needs only
    the query (candidates per lead with their scores, followed matches, exact username, the
    viewer's block set), then everything that needs those (scores of followed accounts found
    outside the candidates, terms of the members still to check; block flags only when the
    block set is too large to read whole), then the page's documents. A one-word query with
    no followed match outside the candidates needs no second round trip."""
    query = text.parse_query(raw_query)
    if query.empty:
        return Page([], [], False)
    k = stores.keys
    rank_key = k("sx", "u", "rank")
    exact_key = username_key(raw_query)
    leads = _leads(query)
    joined = query.joined
    single = len(query.tokens) == 1
    # Accounts the viewer follows rank above the rest: find every followed match, not only
    # those among the best-scored candidates (ZINTER with the prefix zsets does it in Redis).
    prefixes = sorted({query.lead[:PREFIX_LEN], joined[:PREFIX_LEN]}) if viewer is not None else []

    def first_reads(pipe: Any) -> None:
        _queue_candidates(pipe, stores, "u", leads)
        for prefix in prefixes:
            keys = [k("sx", "u", "p", prefix), k("following", viewer)]
            pipe.zinter(keys, aggregate="MIN", withscores=False)
        if exact_key:
            start = b"[" + f"{exact_key}{SEP}".encode()
            _queue_lex_scored(pipe, k("sx", "u", "x"), rank_key, start, -1)
        if viewer is not None:
            graph.queue_block_set(pipe, stores, viewer)

    replies = await _execute(stores, first_reads)
    block_set = replies.pop() if viewer is not None else []
    n = len(leads)
    rows_per_lead = _lead_rows(leads, replies[:n])
    found, candidates = _best(rows_per_lead)
    # A member found under the whole query (the words run together) matches it: its index
    # entry has a term starting with it, which is all `Query.matches` would find in its terms.
    # So only the others' terms are read and decoded: for one word, the candidates and every
    # match of the word; for more, the joined words' matches (and the followed accounts when
    # the joined words are a prefix zset of their own).
    whole: dict[str, Any] = found if single else dict(rows_per_lead[-1])
    whole_followed: set[str] = set()
    followed: dict[str, None] = {}
    for prefix, rows in zip(prefixes, replies[n : n + len(prefixes)], strict=True):
        followed.update(dict.fromkeys(rows))
        if prefix == joined:
            whole_followed.update(rows)
    exact: dict[str, float | None] = {}
    if exact_key:
        members, ranks = replies[-1]
        exact = {m: None if s is None else float(s) for m, s in zip(members, ranks, strict=True)}

    # Followed accounts outside the candidates rank by their rank score (when they have one).
    followed_new = [m for m in followed if m not in candidates]

    def is_whole(m: str) -> bool:
        return m in whole or m in whole_followed

    to_check = [m for m in followed_new if m not in exact and not is_whole(m)]
    if not single:
        to_check += [m for m in candidates if m not in exact and not is_whole(m)]
    pool: list[str] = []
    blocked: set[str] | None = set()
    if viewer is not None:
        pool = [*candidates, *followed_new]
        pool += [m for m in exact if m not in candidates and m not in followed]
        blocked = graph.blocked_in_set(block_set, pool)
    ask_blocks = blocked is None and bool(pool)

    def second_reads(pipe: Any) -> None:
        if followed_new:
            pipe.zmscore(rank_key, followed_new)
        if to_check:
            pipe.mget([k("sx", "u", "t", m) for m in to_check])
        if ask_blocks:
            graph.queue_blocked_among(pipe, stores, viewer, pool)

    more = await _execute(stores, second_reads) if followed_new or to_check or ask_blocks else []
    at = 0
    followed_scores: dict[str, float] = {}
    if followed_new:
        ranks = more[at]
        at += 1
        followed_scores = {m: s for m, s in zip(followed_new, ranks, strict=True) if s is not None}
    ok: set[str] = set()
    if to_check:
        raws = more[at]
        at += 1
        for m, raw in zip(to_check, raws, strict=True):
            if raw:
                terms = orjson.loads(raw)["terms"]
                if terms and query.matches(terms):
                    ok.add(m)
    hidden = blocked or set()
    if ask_blocks:
        hidden = await graph.blocked_among_reply(stores, viewer, pool, more[at])

    ranked: list[tuple[int, float, str]] = []
    for m, s in candidates.items():
        if m not in exact and m not in hidden and (single or m in ok or is_whole(m)):
            ranked.append((1 if m in followed else 2, -s, m))
    for m in followed_new:
        s = followed_scores.get(m)
        if s is not None and m not in exact and m not in hidden and (m in ok or is_whole(m)):
            ranked.append((1, -s, m))
    for m, s in exact.items():
        if s is None:  # the exact match keeps the score it was found with, if any
            s = candidates.get(m, followed_scores.get(m))
        if s is not None and m not in hidden:
            ranked.append((0, -s, m))
    ranked.sort()
    del ranked[MAX_CANDIDATES:]
    chunk, cursors, has_next = _page(
        cursor_codec(stores.settings), ranked, first, "searchUsers", joined, after
    )
    pairs = [
        (oid, cur)
        for key, cur in zip(chunk, cursors, strict=True)
        if (oid := _oid(key[2])) is not None
    ]
    docs = await docs_by_id(stores, "users", [oid for oid, _ in pairs])
    found_pairs = [(doc, cur) for doc, (_, cur) in zip(docs, pairs, strict=True) if doc]
    return Page([d for d, _ in found_pairs], [c for _, c in found_pairs], has_next)


# --- hashtags --------------------------------------------------------------------------------


async def _tag_terms(stores: Stores, members: list[str]) -> list[list[str]]:
    return [text.name_terms(m) for m in members]


async def search_hashtags(
    stores: Stores, raw_query: str, first: int, after: str | None
) -> Page[HashtagHit]:
    return await _healing(stores, lambda: _search_hashtags(stores, raw_query, first, after))


async def _search_hashtags(
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
    chunk, cursors, has_next = _page(
        cursor_codec(stores.settings), ranked, first, "searchHashtags", query.joined, after
    )
    return Page([HashtagHit(m, int(-s)) for s, m in chunk], cursors, has_next)


async def get_hashtag(stores: Stores, name: str) -> HashtagHit | None:
    return await _healing(stores, lambda: _get_hashtag(stores, name))


async def _get_hashtag(stores: Stores, name: str) -> HashtagHit | None:
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
    return await _healing(
        stores,
        lambda: _search_locations(
            stores, raw_query, first, after, lat=lat, lng=lng, radius_km=radius_km
        ),
    )


async def _search_locations(
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
    chunk, cursors, has_next = _page(
        cursor_codec(stores.settings), ranked, first, "searchLocations", query.joined, after
    )
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
    chunk, cursors, has_next = _page(
        cursor_codec(stores.settings), ranked, first, "nearbyLocations", scope, after
    )
    return Page([by_id[m] for _, m in chunk], cursors, has_next)


async def get_location(stores: Stores, location_id: ObjectId) -> LocationHit | None:
    """A location some READY post has used (its card comes from the index, falling back to the
    `locations` document)."""
    [hit] = await _location_hits(stores, [str(location_id)])
    if hit is None and await ensure_built(stores):
        [hit] = await _location_hits(stores, [str(location_id)])
    if hit is not None:
        return hit
    doc = await find_location(stores, location_id)
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
        payload = cursor_codec(stores.settings).decode(kind, after)
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
                if post and post.get("status") == READY and post["author_id"] in visible:
                    items.append(post)
                    cursors.append(
                        cursor_codec(stores.settings).encode(kind, [scope, score, member])
                    )
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
    return await _healing(
        stores, lambda: _post_page(stores, viewer, zset, f"hashtag{order}", tag, first, after)
    )


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
    return await _healing(
        stores, lambda: _post_page(stores, viewer, zset, f"location{order}", loc, first, after)
    )
