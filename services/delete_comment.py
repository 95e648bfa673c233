"""deleteComment: by the comment's author or the post's author. Deleting a top-level comment
deletes its replies too; the post's `comment_count` drops by what was really deleted."""

from __future__ import annotations

from bson import ObjectId

from core.errors import Forbidden, NotFound
from core.events import Deps, emit
from datastore.doc_cache import comment_cache, post_cache
from datastore.doc_lock import retry_busy, update_document
from realtime.channels import publish_post_update
from services.comment_threads import drop_threads, remove_from_thread
from services.engagement_counters import bump_post_counters


async def delete_comment(deps: Deps, viewer_id: ObjectId, comment_id: ObjectId) -> bool:
    stores = deps.stores
    cache = comment_cache(stores)
    (comment,) = await cache.get_many([comment_id])
    if comment is None:
        raise NotFound("Comment not found")
    (post,) = await post_cache(stores).get_many([comment["post_id"]])
    if viewer_id != comment["author_id"] and (post is None or viewer_id != post["author_id"]):
        raise Forbidden("Only the comment's author or the post's author can delete it")
    if not (
        await retry_busy(lambda: stores.db.comments.delete_one({"_id": comment_id}))
    ).deleted_count:
        raise NotFound("Comment not found")
    removed_ids = [comment_id]
    if comment.get("reply_to_id") is None:
        reply_ids = [
            r["_id"]
            async for r in stores.db.comments.find(
                {"reply_to_id": comment_id}, projection={"_id": 1}
            )
        ]
        if reply_ids:
            deleted = await retry_busy(
                lambda: stores.db.comments.delete_many({"_id": {"$in": reply_ids}})
            )
            if deleted.deleted_count:
                removed_ids.extend(reply_ids)
            removed = 1 + deleted.deleted_count
        else:
            removed = 1
    else:
        removed = 1
        await update_document(
            stores, "comments", comment["reply_to_id"], {"$inc": {"reply_count": -1}}
        )
    post_id, root_id = comment["post_id"], comment.get("reply_to_id")
    await remove_from_thread(stores, post_id, root_id, [comment_id])
    if root_id is None:
        await drop_threads(stores, post_id, [comment_id])
    await cache.invalidate(removed_ids if root_id is None else [comment_id, root_id])
    await bump_post_counters(stores, post_id, {"comment_count": -removed})
    await retry_busy(
        lambda: stores.db.notifications.delete_many({"comment_id": {"$in": removed_ids}})
    )
    await emit("comment.deleted", deps, comment_id=comment_id, post_id=comment["post_id"])
    await publish_post_update(stores, comment["post_id"])
    return True
