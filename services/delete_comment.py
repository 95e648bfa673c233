"""deleteComment: by the comment's author or the post's author. Deleting a top-level comment
deletes its replies too; the post's `comment_count` drops by what was really deleted."""

from __future__ import annotations

from bson import ObjectId

from core.errors import Forbidden, NotFound
from core.events import Deps, emit
from datastore import comments, notifications
from datastore.dirty import mark_dirty
from datastore.doc_cache import comment_cache, post_cache
from datastore.post_counters import add_to_post_counters
from realtime.channels import publish_post_update
from services.comment_threads import drop_threads, remove_from_thread


async def delete_comment(deps: Deps, viewer_id: ObjectId, comment_id: ObjectId) -> bool:
    stores = deps.stores
    cache = comment_cache(stores)
    (comment,) = await cache.get_many([comment_id])
    if comment is None:
        raise NotFound("Comment not found")
    (post,) = await post_cache(stores).get_many([comment["post_id"]])
    if viewer_id != comment["author_id"] and (post is None or viewer_id != post["author_id"]):
        raise Forbidden("Only the comment's author or the post's author can delete it")
    await mark_dirty(stores, {"posts": [comment["post_id"]]})  # before the edge goes
    if not await comments.delete_comment(stores, comment_id):
        raise NotFound("Comment not found")
    removed_ids = [comment_id]
    removed = 1
    if comment.get("reply_to_id") is None:
        reply_ids = await comments.reply_ids(stores, comment_id)
        deleted = await comments.delete_comments(stores, reply_ids)
        if deleted:
            removed_ids.extend(reply_ids)
        removed += deleted
    else:
        await comments.add_to_reply_count(stores, comment["reply_to_id"], -1)
    post_id, root_id = comment["post_id"], comment.get("reply_to_id")
    await remove_from_thread(stores, post_id, root_id, [comment_id])
    if root_id is None:
        await drop_threads(stores, post_id, [comment_id])
    await cache.invalidate(removed_ids if root_id is None else [comment_id, root_id])
    await add_to_post_counters(stores, post_id, {"comment_count": -removed})
    await notifications.delete_for_comments(stores, removed_ids)
    await emit("comment.deleted", deps, comment_id=comment_id, post_id=comment["post_id"])
    await publish_post_update(stores, comment["post_id"])
    return True
