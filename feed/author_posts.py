"""An author's READY posts newest first (the profile grid), from the authored set the feed
already keeps: one ZREVRANGEBYSCORE and one cached MGET instead of a query that FerretDB
answers with a collection scan. Past the set's cap, paging continues from MongoDB."""

from __future__ import annotations

from datetime import UTC, datetime

from bson import ObjectId

from datastore.doc_cache import post_cache
from datastore.stores import Stores
from feed.keys import FeedKeys, score_of
from feed.rebuild import ensure_authored

Position = tuple[int, str]


async def author_posts(
    stores: Stores, author: ObjectId, first: int, bound: Position | None
) -> tuple[list[dict], bool]:
    """Up to `first` READY posts of `author` below `bound` (score, id), and whether more exist."""
    keys = FeedKeys(stores)
    await ensure_authored(stores, [author])
    want = first + 1
    max_score = "+inf" if bound is None else bound[0]
    async with stores.redis.pipeline(transaction=False) as pipe:
        # A few extra rows cover posts sharing the bound's millisecond.
        pipe.zrevrangebyscore(
            keys.authored(author), max_score, "-inf", start=0, num=want + 8, withscores=True
        )
        pipe.zcard(keys.authored(author))
        rows, size = await pipe.execute()
    positions = sorted(
        ((int(s), m) for m, s in rows if bound is None or (int(s), m) < bound), reverse=True
    )[:want]
    docs = [
        d
        for d in await post_cache(stores).get_many([ObjectId(m) for _, m in positions])
        if d is not None and d.get("status") == "READY"
    ]
    if len(docs) < want and size >= stores.settings.timeline_cap:
        last = positions[-1] if positions else bound
        docs += await _from_mongo(stores, author, want - len(docs), last)
    return docs[:first], len(docs) > first


async def _from_mongo(
    stores: Stores, author: ObjectId, limit: int, bound: Position | None
) -> list[dict]:
    query: dict = {"author_id": author, "status": "READY"}
    if bound is not None:
        at = datetime.fromtimestamp(bound[0] / 1000, UTC)
        query["$or"] = [
            {"published_at": {"$lt": at}},
            {"published_at": at, "_id": {"$lt": ObjectId(bound[1])}},
        ]
    cursor = stores.db.posts.find(query).sort([("published_at", -1), ("_id", -1)]).limit(limit)
    return [d async for d in cursor]


def position_of(post: dict) -> Position:
    return score_of(post), str(post["_id"])
