"""likePost: idempotent; `like_count` moves only when the like document was really inserted."""

from __future__ import annotations

from bson import ObjectId

from core.events import Deps
from datastore import likes
from datastore.post_counters import add_to_post_counters
from realtime.channels import publish_post_update
from services.after_commit import emit_committed
from services.interactions_base import load_visible_post, now
from services.rate_limits import check_rate_limit


async def like_post(deps: Deps, viewer_id: ObjectId, post_id: ObjectId) -> dict:
    """Like `post_id` as `viewer_id`; returns the post document with its current counts."""
    stores = deps.stores
    post = await load_visible_post(stores, viewer_id, post_id)
    await check_rate_limit(stores, "like", viewer_id)
    if not await likes.insert_like(stores, post_id, viewer_id, now()):
        return post  # already liked: nothing changes
    updated = await add_to_post_counters(stores, post_id, {"like_count": 1})
    if updated is None:
        # The post was deleted between our check and our insert: take the like back.
        await likes.delete_like(stores, post_id, viewer_id)
        return post
    await emit_committed(
        "post.liked", deps, post_id=post_id, user_id=viewer_id, author_id=post["author_id"]
    )
    await publish_post_update(stores, post_id)
    return updated
