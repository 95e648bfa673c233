"""How the feed reacts to domain events (core/events.py).

Quick work happens here, in the emitting process (the author's own timeline, merging on follow);
work proportional to a follower count goes to the worker.
"""

from __future__ import annotations

from bson import ObjectId

from core.events import Deps, on
from datastore import posts
from datastore.doc_cache import post_cache, user_cache
from feed.keys import FeedKeys, score_of
from feed.rebuild import ensure_authored
from feed.timelines import Timelines
from worker import jobs
from worker.queue import enqueue


@on("post.ready")
async def deliver_post(
    deps: Deps, *, post_id: ObjectId, author_id: ObjectId, post: dict | None = None
) -> None:
    """The author's authored set and own timeline at once; the followers through the fan-out
    job. `post` is the READY document when the emitter has it (the media pipeline does): on
    FerretDB even an `_id` read of a new post scans the collection (seconds on 100,000 posts),
    so nothing here reads MongoDB then."""
    stores = deps.stores
    complete = post is not None
    if post is None:
        post = await posts.find_post(stores, post_id, {"published_at": 1, "created_at": 1})
    if post is None:
        return
    score = score_of(post)
    timelines = Timelines(stores)
    await ensure_authored(stores, [author_id])  # a first build already includes this post
    await timelines.add_to_authored(author_id, post_id, score)
    # The author sees their own post at once, before the fan-out job runs.
    await timelines.push([author_id], {str(post_id): score})
    if complete:
        # The emitter's READY document, as written: the first feed read must not miss (a scan
        # on FerretDB). A like landing meanwhile is corrected by its counter flush, which drops
        # this copy again.
        await post_cache(stores).prime([post])
    else:
        await post_cache(stores).invalidate([post_id])
    await user_cache(stores).invalidate([author_id])  # post_count changed
    # The job gets the author and score, so it needs no MongoDB read of the post.
    await enqueue(
        deps.queue,
        jobs.FAN_OUT_POST,
        key=f"fanout:{post_id}",
        post_id=str(post_id),
        author_id=str(author_id),
        score=score,
    )


@on("post.deleted")
async def retract_post(deps: Deps, *, post_id: ObjectId, author_id: ObjectId) -> None:
    stores = deps.stores
    keys = FeedKeys(stores)
    async with stores.redis.pipeline(transaction=False) as pipe:
        pipe.zrem(keys.authored(author_id), str(post_id))
        pipe.zrem(keys.timeline(author_id), str(post_id))
        pipe.zrem(keys.explore(), str(post_id))
        await pipe.execute()
    await post_cache(stores).invalidate([post_id])
    await user_cache(stores).invalidate([author_id])  # post_count changed
    await enqueue(
        deps.queue,
        jobs.REMOVE_POST_FROM_TIMELINES,
        key=f"retract:{post_id}",
        post_id=str(post_id),
        author_id=str(author_id),
    )


@on("post.edited")
async def forget_edited_post(deps: Deps, *, post_id: ObjectId, author_id: ObjectId) -> None:
    await post_cache(deps.stores).invalidate([post_id])


async def _merge(deps: Deps, follower: ObjectId, followee: ObjectId) -> None:
    if deps.stores.settings.feed_strategy == "pull":
        return
    timelines = Timelines(deps.stores)
    await ensure_authored(deps.stores, [followee])
    await timelines.push([follower], await timelines.authored_entries(followee))


async def _unmerge(deps: Deps, follower: ObjectId, followee: ObjectId) -> None:
    timelines = Timelines(deps.stores)
    entries = await timelines.authored_entries(followee)
    await timelines.remove([follower], list(entries))


@on("user.followed")
async def merge_on_follow(deps: Deps, *, follower_id: ObjectId, followee_id: ObjectId) -> None:
    await _merge(deps, follower_id, followee_id)
    await user_cache(deps.stores).invalidate([follower_id, followee_id])


@on("user.unfollowed")
async def unmerge_on_unfollow(deps: Deps, *, follower_id: ObjectId, followee_id: ObjectId) -> None:
    await _unmerge(deps, follower_id, followee_id)
    await user_cache(deps.stores).invalidate([follower_id, followee_id])


@on("user.blocked")
async def unmerge_on_block(deps: Deps, *, blocker_id: ObjectId, blocked_id: ObjectId) -> None:
    await _unmerge(deps, blocker_id, blocked_id)
    await _unmerge(deps, blocked_id, blocker_id)
    await user_cache(deps.stores).invalidate([blocker_id, blocked_id])


@on("user.privacy_changed")
async def forget_user_on_privacy(deps: Deps, *, user_id: ObjectId, is_private: bool) -> None:
    await user_cache(deps.stores).invalidate([user_id])


@on("user.profile_changed")
async def forget_user_on_profile(deps: Deps, *, user_id: ObjectId) -> None:
    await user_cache(deps.stores).invalidate([user_id])


async def _engagement(deps: Deps, post_id: ObjectId) -> None:
    await post_cache(deps.stores).invalidate([post_id])


@on("post.liked")
async def on_like(deps: Deps, *, post_id: ObjectId, user_id: ObjectId, author_id: ObjectId) -> None:
    await _engagement(deps, post_id)
    if user_id != author_id:
        await deps.stores.redis.hincrby(FeedKeys(deps.stores).affinity(user_id), str(author_id), 1)


@on("post.unliked")
async def on_unlike(
    deps: Deps, *, post_id: ObjectId, user_id: ObjectId, author_id: ObjectId
) -> None:
    await _engagement(deps, post_id)


@on("comment.added")
async def on_comment(
    deps: Deps, *, comment_id: ObjectId, post_id: ObjectId, author_id: ObjectId
) -> None:
    await _engagement(deps, post_id)
    post = await posts.find_post(deps.stores, post_id, {"author_id": 1})
    if post is not None and post["author_id"] != author_id:
        await deps.stores.redis.hincrby(
            FeedKeys(deps.stores).affinity(author_id), str(post["author_id"]), 1
        )


@on("comment.deleted")
async def on_comment_deleted(deps: Deps, *, comment_id: ObjectId, post_id: ObjectId) -> None:
    await _engagement(deps, post_id)


@on("feed.delivered")
async def announce_new_posts(
    deps: Deps, *, author_id: ObjectId, post_ids: list[str], user_ids: list[ObjectId]
) -> None:
    """`feedUpdated` subscribers learn that new posts wait at the top of their feed."""
    from realtime.channels import publish_feed_updates

    # post_ids[0] is the post being fanned out; any others are a backfill of older posts.
    await publish_feed_updates(deps.stores, user_ids, len(post_ids), ObjectId(post_ids[0]))
