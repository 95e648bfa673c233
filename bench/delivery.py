"""Post-to-feed delivery time: from emitting `post.ready` (what the media pipeline does when a
post becomes READY) to the moment the post is in the feed of the author's last active follower,
with a real `photogram worker` process doing the fan-out.

Push authors: poll the timeline of the follower the fan-out reaches last (it walks followers
newest first, in batches), then confirm every active follower's timeline has the post.
Pulled authors (every author under `pull`, celebrities under `hybrid`): readers merge the
author's `authored` set at read time, so the post is in every follower's feed once the
`post.ready` handlers return; that is confirmed by reading the last follower's feed.

The bench post is removed afterwards (timelines, authored set, document), so runs do
not accumulate state in the cached dataset.
"""

from __future__ import annotations

import asyncio
import statistics
import time

from bson import ObjectId

from bench.dataset import Dataset
from core.events import Deps, emit
from core.settings import Settings
from datastore.doc_cache import post_cache, user_cache
from datastore.graph import follower_ids, now_ms_precision
from datastore.stores import open_stores
from feed.fanout import RemoveFromTimelines, is_celebrity
from feed.keys import FeedKeys
from feed.reader import FeedReader
from feed.timelines import Timelines
from worker.queue import make_queue

POLL_S = 0.001
TIMEOUT_S = 120.0


async def _one(settings: Settings, ds: Dataset, followers_wanted: int) -> dict:
    stores = open_stores(settings)
    queue = make_queue(settings)
    deps = Deps(stores, queue)
    try:
        author_idx = ds.delivery[followers_wanted]
        author = ds.user_ids[author_idx]
        author_doc = await stores.db.users.find_one({"_id": author})
        order = await follower_ids(stores, author)  # the fan-out's order
        active, _ = await Timelines(stores).split_active(order)
        active_set = set(active)
        last = [f for f in order if f in active_set][-1]
        celeb = is_celebrity(stores, author_doc)
        at = now_ms_precision()
        post_id = ObjectId()
        # The author's post_count is left alone: the post lives for a few seconds, and two
        # more MongoDB writes per run only slow the bench down on a busy FerretDB.
        doc = _bench_post(post_id, author, at)
        await stores.db.posts.insert_one(dict(doc))
        member = str(post_id)
        try:
            return await _time_delivery(
                deps, post_id, author, member, order, active, last, celeb, doc
            )
        except BaseException:
            await _remove(deps, post_id, author)
            raise
    finally:
        await queue.disconnect()
        await stores.close()


async def _time_delivery(
    deps: Deps,
    post_id: ObjectId,
    author: ObjectId,
    member: str,
    order: list[ObjectId],
    active: list[ObjectId],
    last: ObjectId,
    celeb: bool,
    doc: dict,
) -> dict:
    stores = deps.stores
    keys = FeedKeys(stores)
    followers_wanted = len(order)
    t0 = time.perf_counter()
    # With the READY document, as the media pipeline emits it (services/process_post_media.py).
    await emit("post.ready", deps, post_id=post_id, author_id=author, post=doc)
    t_emit = time.perf_counter()
    if celeb:
        page = await FeedReader(stores).recent(last, 1, None)
        if not page.items or page.items[0]["_id"] != post_id:
            raise RuntimeError("pulled post not at the top of a follower's feed")
        t_last = t_all = time.perf_counter()
        missing = 0
    else:
        deadline = t0 + TIMEOUT_S
        while await stores.redis.zscore(keys.timeline(last), member) is None:
            if time.perf_counter() > deadline:
                raise RuntimeError(f"fan-out to {followers_wanted} followers timed out")
            await asyncio.sleep(POLL_S)
        t_last = time.perf_counter()
        pending = list(active)
        while pending:
            async with stores.redis.pipeline(transaction=False) as pipe:
                for f in pending:
                    pipe.zscore(keys.timeline(f), member)
                scores = await pipe.execute()
            pending = [f for f, s in zip(pending, scores, strict=True) if s is None]
            if pending and time.perf_counter() > deadline:
                raise RuntimeError(f"{len(pending)} timelines never got the post")
            if pending:
                await asyncio.sleep(POLL_S)
        t_all = time.perf_counter()
        missing = 0
    result = {
        "followers": len(order),
        "active_followers": len(active),
        "pulled_at_read_time": celeb,
        "emit_ms": round((t_emit - t0) * 1000, 1),
        "last_follower_ms": round((t_last - t0) * 1000, 1),
        "all_confirmed_ms": round((t_all - t0) * 1000, 1),
        "missing": missing,
    }
    # On failure `_one` removes the post instead.
    await _remove(deps, post_id, author)
    return result


async def _remove(deps: Deps, post_id: ObjectId, author: ObjectId) -> None:
    stores = deps.stores
    # The fan-out job may still be announcing (feed.delivered) after the timelines are full.
    await asyncio.sleep(0.2)
    await RemoveFromTimelines(deps).call(post_id, author)
    keys = FeedKeys(stores)
    await stores.redis.zrem(keys.authored(author), str(post_id))
    await stores.db.posts.delete_one({"_id": post_id})
    await post_cache(stores).invalidate([post_id])
    await user_cache(stores).invalidate([author])
    try:
        from search import index

        await index.unindex_post(stores, post_id)
    except Exception:  # the search index is not what this bench measures
        pass


def _bench_post(post_id: ObjectId, author: ObjectId, at) -> dict:
    return {
        "_id": post_id,
        "author_id": author,
        "status": "READY",
        "failure_reason": None,
        "caption": "bench delivery",
        "hashtags": [],
        "mentions": [],
        "location": None,
        "media": [],
        "like_count": 0,
        "comment_count": 0,
        "share_count": 0,
        "created_at": at,
        "published_at": at,
        "updated_at": at,
    }


async def measure(settings: Settings, ds: Dataset, repeats: int = 2) -> dict:
    out: dict[str, dict] = {}
    for wanted in sorted(ds.delivery):
        runs = [await _one(settings, ds, wanted) for _ in range(repeats)]
        last = [r["last_follower_ms"] for r in runs]
        every = [r["all_confirmed_ms"] for r in runs]
        out[str(wanted)] = {
            **{k: runs[0][k] for k in ("followers", "active_followers", "pulled_at_read_time")},
            "median_ms": round(statistics.median(last), 1),
            "max_ms": round(max(last), 1),
            "all_confirmed_median_ms": round(statistics.median(every), 1),
            "emit_median_ms": round(statistics.median(r["emit_ms"] for r in runs), 1),
            "runs": runs,
        }
        print(
            f"    delivery to {runs[0]['active_followers']:,} active of "
            f"{runs[0]['followers']:,} followers: median {out[str(wanted)]['median_ms']} ms"
            + (" (pulled at read time)" if runs[0]["pulled_at_read_time"] else ""),
            flush=True,
        )
    return out
