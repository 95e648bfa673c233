"""An author's READY posts newest first (the profile grid), from the authored set the feed
already keeps: one pipeline (built marker, ZREVRANGEBYSCORE) and one cached MGET instead of a
query that FerretDB answers with a collection scan. Past the set's cap, paging continues from
MongoDB."""

from __future__ import annotations

from bson import ObjectId

from datastore import posts
from datastore.doc_cache import post_cache
from datastore.outages import REDIS_OUTAGE, note_degraded
from datastore.posts import READY, Position, PostDoc
from datastore.stores import Stores
from feed.keys import FeedKeys, score_of
from feed.rebuild import ensure_authored


async def author_posts(
    stores: Stores, author: ObjectId, first: int, bound: Position | None
) -> tuple[list[PostDoc], bool]:
    """Up to `first` READY posts of `author` below `bound` (score, id), and whether more exist."""
    keys = FeedKeys(stores)
    want = first + 1
    max_score = "+inf" if bound is None else bound[0]

    async def read() -> tuple[int, list, int]:
        # The built marker rides with the range: an unbuilt set (new, expired, flushed) is
        # rebuilt and read again, and a built one costs this one round trip.
        async with stores.redis.pipeline(transaction=False) as pipe:
            pipe.exists(keys.authored_built(author))
            # A few extra rows cover posts sharing the bound's millisecond.
            pipe.zrevrangebyscore(
                keys.authored(author), max_score, "-inf", start=0, num=want + 8, withscores=True
            )
            pipe.zcard(keys.authored(author))
            return tuple(await pipe.execute())  # type: ignore[return-value]

    try:
        built, rows, size = await read()
        if not built:
            await ensure_authored(stores, [author])
            built, rows, size = await read()
    except REDIS_OUTAGE:
        note_degraded("posts of a user")
        docs = await posts.newest_ready(stores, [author], want, bound)
        return docs[:first], len(docs) > first
    positions = sorted(
        ((int(s), m) for m, s in rows if bound is None or (int(s), m) < bound), reverse=True
    )[:want]
    docs = [
        d
        for d in await post_cache(stores).get_many([ObjectId(m) for _, m in positions])
        if d is not None and d.get("status") == READY
    ]
    if len(docs) < want and size >= stores.settings.timeline_cap:
        last = positions[-1] if positions else bound
        docs += await posts.newest_ready(stores, [author], want - len(docs), last)
    return docs[:first], len(docs) > first


def position_of(post: PostDoc) -> Position:
    return score_of(post), str(post["_id"])
