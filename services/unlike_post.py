"""unlikePost: idempotent; `like_count` moves only when a like document was really deleted."""

from __future__ import annotations

from bson import ObjectId

from core.events import Deps
from datastore import likes
from datastore.post_counters import add_to_post_counters
from realtime.channels import publish_post_update
from services.after_commit import emit_committed
from services.interactions_base import load_visible_post
from services.rate_limits import check_rate_limit


async def unlike_post(deps: Deps, viewer_id: ObjectId, post_id: ObjectId) -> dict:
    stores = deps.stores
    post = await load_visible_post(stores, viewer_id, post_id)
    await check_rate_limit(stores, "like", viewer_id)
    if not await likes.delete_like(stores, post_id, viewer_id):
        return post  # was not liked
    updated = await add_to_post_counters(stores, post_id, {"like_count": -1})
    await emit_committed(
        "post.unliked", deps, post_id=post_id, user_id=viewer_id, author_id=post["author_id"]
    )
    await publish_post_update(stores, post_id)
    return updated or post
