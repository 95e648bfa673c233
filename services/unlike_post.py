"""unlikePost: idempotent; `like_count` moves only when a like document was really deleted."""

from __future__ import annotations

from bson import ObjectId

from core.events import Deps, emit
from datastore.doc_lock import retry_busy
from realtime.channels import publish_post_update
from services.engagement_counters import bump_post_counters
from services.interactions_base import load_visible_post
from services.rate_limits import check_rate_limit


async def unlike_post(deps: Deps, viewer_id: ObjectId, post_id: ObjectId) -> dict:
    stores = deps.stores
    post = await load_visible_post(stores, viewer_id, post_id)
    await check_rate_limit(stores, "like", viewer_id)
    result = await retry_busy(
        lambda: stores.db.likes.delete_one({"post_id": post_id, "user_id": viewer_id})
    )
    if not result.deleted_count:
        return post  # was not liked
    updated = await bump_post_counters(stores, post_id, {"like_count": -1})
    await emit(
        "post.unliked", deps, post_id=post_id, user_id=viewer_id, author_id=post["author_id"]
    )
    await publish_post_update(stores, post_id)
    return updated or post
